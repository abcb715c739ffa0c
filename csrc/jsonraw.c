/* jsonraw.c — see jsonraw.h.
 *
 * The scan knows only enough JSON to tell strings from the rest: inside a
 * string, a backslash escapes the next character; outside, a number token
 * starts at '-' or a digit (true/false/null have no digit). A line that is
 * not valid JSON is scanned all the same and then refused by cJSON.
 */
#include "jsonraw.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int jsonraw_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of "\uXXXX" at s (s[0] == '\\'), or -1 when it is not one. */
static long u_escape(const char *s, size_t avail)
{
	if (avail < 6 || s[0] != '\\' || s[1] != 'u')
		return -1;
	long v = 0;
	for (int k = 2; k < 6; k++) {
		int h = jsonraw_hexval(s[k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static int push_number(struct jsonraw *r, size_t start, size_t len)
{
	if (r->nums == r->nums_cap) {
		size_t cap = r->nums_cap ? r->nums_cap * 2 : 16;
		size_t *a = realloc(r->num_start, cap * sizeof *a);
		if (!a)
			return -1;
		r->num_start = a;
		size_t *b = realloc(r->num_len, cap * sizeof *b);
		if (!b)
			return -1;
		r->num_len = b;
		r->nums_cap = cap;
	}
	r->num_start[r->nums] = start;
	r->num_len[r->nums] = len;
	r->nums++;
	return 0;
}

int jsonraw_scan(char *s, size_t n, struct jsonraw *r)
{
	memset(r, 0, sizeof *r);
	size_t i = 0;
	while (i < n) {
		char c = s[i];
		if (c == '"') {
			for (i++; i < n && s[i] != '"';) {
				if (s[i] != '\\') {
					i++;
					continue;
				}
				long v = u_escape(s + i, n - i);
				if (v < 0) {
					i += 2; /* any other escape: two characters */
					continue;
				}
				if (v == 0) {
					r->has_nul = true;
				} else if (v >= 0xD800 && v <= 0xDBFF) {
					long lo = u_escape(s + i + 6, n - i - 6);
					if (lo >= 0xDC00 && lo <= 0xDFFF) {
						i += 12; /* a proper pair */
						continue;
					}
					memcpy(s + i + 2, "fffd", 4);
					r->surrogates++;
				} else if (v >= 0xDC00 && v <= 0xDFFF) {
					memcpy(s + i + 2, "fffd", 4);
					r->surrogates++;
				}
				i += 6;
			}
			i++; /* the closing quote */
			continue;
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			size_t start = i;
			while (i < n && (strchr("0123456789+-.eE", s[i]) != NULL && s[i] != '\0'))
				i++;
			if (push_number(r, start, i - start) < 0) {
				jsonraw_free(r);
				return -1;
			}
			continue;
		}
		i++;
	}
	return 0;
}

void jsonraw_free(struct jsonraw *r)
{
	free(r->num_start);
	free(r->num_len);
	memset(r, 0, sizeof *r);
}

/* Number items in document order: the k-th gets index k. */
static void count_numbers(const cJSON *it, size_t *k)
{
	for (; it; it = it->next) {
		if (cJSON_IsNumber(it))
			(*k)++;
		count_numbers(it->child, k);
	}
}

static bool is_target(const cJSON *it, cJSON *const *targets, size_t ntargets)
{
	for (size_t t = 0; t < ntargets; t++)
		if (targets[t] == it)
			return true;
	return false;
}

static int assign(const struct jsonraw *r, const char *s, cJSON *it, size_t *k,
                  cJSON *const *targets, size_t ntargets)
{
	for (; it; it = it->next) {
		if (cJSON_IsNumber(it)) {
			size_t idx = (*k)++;
			if (is_target(it, targets, ntargets) && !it->valuestring) {
				char *t = strndup(s + r->num_start[idx], r->num_len[idx]);
				if (!t)
					return -1;
				it->valuestring = t;
			}
		}
		if (assign(r, s, it->child, k, targets, ntargets) < 0)
			return -1;
	}
	return 0;
}

int jsonraw_attach(const struct jsonraw *r, const char *s, size_t end, cJSON *root,
                   cJSON *const *targets, size_t ntargets)
{
	size_t total = 0, before_end = 0;
	count_numbers(root, &total);
	while (before_end < r->nums && r->num_start[before_end] < end)
		before_end++;
	if (total != before_end)
		return -1;
	size_t k = 0;
	return assign(r, s, root, &k, targets, ntargets);
}

const char *jsonraw_number_text(const cJSON *item)
{
	return cJSON_IsNumber(item) ? item->valuestring : NULL;
}
