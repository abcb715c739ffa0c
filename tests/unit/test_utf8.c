/* Unit tests for csrc/utf8.c. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"

static int repaired_is(const char *in, size_t n, const char *want)
{
	size_t len;
	char *out = utf8_repair(in, n, &len);
	int ok = out && len == strlen(want) && memcmp(out, want, len) == 0;
	free(out);
	return ok;
}

int main(void)
{
	TAP_OK(utf8_valid("hello", 5), "ASCII is valid");
	TAP_OK(utf8_valid("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 9),
	       "2, 3 and 4 byte sequences are valid");
	TAP_OK(!utf8_valid("a\0b", 3), "NUL is rejected");
	TAP_OK(!utf8_valid("\xc0\xaf", 2), "overlong '/' is rejected");
	TAP_OK(!utf8_valid("\xed\xa0\x80", 3), "surrogate is rejected");
	TAP_OK(!utf8_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF is rejected");
	TAP_OK(!utf8_valid("\xe6\x97", 2), "truncated sequence is rejected");
	TAP_OK(repaired_is("a\xffz", 3, "a\xef\xbf\xbdz"), "a bad byte becomes U+FFFD");
	TAP_OK(repaired_is("x\0y", 3, "x\xef\xbf\xbdy"), "NUL becomes U+FFFD");
	TAP_OK(repaired_is("\xe6\x97", 2, "\xef\xbf\xbd\xef\xbf\xbd"),
	       "each byte of a cut sequence is replaced");
	TAP_OK(repaired_is("\xc3\xa9", 2, "\xc3\xa9"), "valid text is unchanged");
	TAP_OK(repaired_is("", 0, ""), "empty input");
	char small[8];
	TAP_OK(utf8_clip(small, sizeof small, "ab\xc3\xa9\xc3\xa9\xc3\xa9") == 6 &&
	           strcmp(small, "ab\xc3\xa9\xc3\xa9") == 0,
	       "clip cuts on a character boundary");
	TAP_OK(utf8_clip(small, sizeof small, "a\xff") == 4 && strcmp(small, "a\xef\xbf\xbd") == 0,
	       "clip repairs invalid bytes");
	TAP_OK(utf8_clip(small, 1, "abc") == 0 && small[0] == '\0',
	       "clip into one byte gives an empty string");
	{
		char a[] = "ab\xc3\xa9";     /* whole */
		char b[] = "ab\xc3";         /* cut after a 2-byte lead */
		char c[] = "ab\xe6\x97";     /* cut inside a 3-byte one */
		char d[] = "ab\xf0\x9f\x98"; /* cut inside a 4-byte one */
		char f[] = "ab\xf0\x9f\x98\x80";
		utf8_fix_cut(a);
		utf8_fix_cut(b);
		utf8_fix_cut(c);
		utf8_fix_cut(d);
		utf8_fix_cut(f);
		TAP_OK(!strcmp(a, "ab\xc3\xa9") && !strcmp(f, "ab\xf0\x9f\x98\x80"),
		       "utf8_fix_cut keeps whole characters");
		TAP_OK(!strcmp(b, "ab") && !strcmp(c, "ab") && !strcmp(d, "ab"),
		       "utf8_fix_cut drops a character cut after its 1st, 2nd or 3rd byte");
	}
	return TAP_DONE();
}
