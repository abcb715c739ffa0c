/* Unit tests for csrc/strbuf.c: bounded, always terminated, cut on a
 * character boundary, and says when it cut. */
#include <string.h>

#include "strbuf.h"
#include "tap.h"

int main(void)
{
	char buf[8];
	struct strbuf b;
	sb_init(&b, buf, sizeof buf);
	sb_add(&b, "ab");
	sb_addf(&b, "%d", 42);
	TAP_OK(!strcmp(buf, "ab42") && b.len == 4 && !b.cut, "adds and formats");
	sb_add(&b, "cdefgh");
	TAP_OK(!strcmp(buf, "ab42cde") && b.len == 7 && b.cut,
	       "cuts at the buffer's end and says so");
	sb_addf(&b, "%s", "more");
	TAP_OK(!strcmp(buf, "ab42cde") && b.len == 7, "a full buffer takes nothing more");
	sb_init(&b, buf, sizeof buf);
	sb_add(&b, "abcdef\xc3\xa9"); /* é would need bytes 6 and 7: only 6 fits */
	TAP_OK(!strcmp(buf, "abcdef") && b.cut,
	       "a character that does not fit whole is left out (%s)", buf);
	sb_init(&b, buf, sizeof buf);
	sb_addf(&b, "%s", "abcde\xe6\x97\xa5"); /* 日 would need bytes 5-7: 5 and 6 fit */
	TAP_OK(!strcmp(buf, "abcde") && b.len == 5 && b.cut,
	       "formatted text is cut on a boundary too");
	sb_init(&b, buf, 1);
	sb_add(&b, "x");
	TAP_OK(buf[0] == '\0' && b.cut, "a one-byte buffer holds the empty string");
	return TAP_DONE();
}
