/* UTF-8 validation and decoding (see utf8.h). The validators skip ASCII eight
 * bytes at a time, since most input (paths, form fields, CSV) is mostly ASCII;
 * everything else goes through one table-free decoder. */
#include "utf8.h"

#include <string.h>

#define HI_BITS 0x8080808080808080ull

static inline bool is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

size_t utf8_decode(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	if (n == 0)
		return 0;
	unsigned c = s[0];
	uint32_t v;
	size_t len;

	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0; /* continuation byte, overlong lead C0/C1, or F5..FF */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (!is_cont(s[i]))
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	/* overlongs of 3 and 4 bytes, surrogates, and the range above U+10FFFF */
	if (len == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)))
		return 0;
	if (len == 4 && (v < 0x10000 || v > UTF8_MAX_CP))
		return 0;
	if (cp)
		*cp = v;
	return len;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
	unsigned char *o = (unsigned char *)out;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return 0;
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	if (cp > UTF8_MAX_CP)
		return 0;
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Index of the first non-ASCII byte at or after i, or n. */
static size_t skip_ascii(const char *s, size_t i, size_t n)
{
	while (n - i >= 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & HI_BITS)
			break;
		i += 8;
	}
	while (i < n && !((unsigned char)s[i] & 0x80))
		i++;
	return i;
}

size_t utf8_valid_prefix(const char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		i = skip_ascii(s, i, n);
		if (i >= n)
			return n;
		size_t k = utf8_decode(s + i, n - i, NULL);
		if (k == 0)
			return i;
		i += k;
	}
}

bool utf8_valid(const char *s, size_t n)
{
	return utf8_valid_prefix(s, n) == n;
}

size_t utf8_count(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_decode(s + i, n - i, NULL);
		if (k == 0)
			return SIZE_MAX;
		i += k;
		count++;
	}
	return count;
}

/* ASCII control check for the clean variants; allow_nl keeps LF and CR. */
static inline bool ascii_ok(unsigned char c, bool allow_nl)
{
	if (c >= 0x20 && c != 0x7F)
		return true;
	if (c == '\t')
		return true;
	return allow_nl && (c == '\n' || c == '\r');
}

static bool clean(const char *str, size_t n, bool allow_nl)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if (!ascii_ok(c, allow_nl))
				return false;
			i++;
			continue;
		}
		uint32_t cp;
		size_t k = utf8_decode(str + i, n - i, &cp);
		if (k == 0 || (cp >= 0x80 && cp <= 0x9F))
			return false;
		i += k;
	}
	return true;
}

bool utf8_clean(const char *s, size_t n)
{
	return clean(s, n, true);
}

bool utf8_clean_line(const char *s, size_t n)
{
	return clean(s, n, false);
}

size_t utf8_next(const char *s, size_t n, size_t *pos, uint32_t *cp)
{
	size_t i = *pos;
	if (i >= n) {
		*cp = 0;
		return 0;
	}
	size_t k = utf8_decode(s + i, n - i, cp);
	if (k == 0) {
		*cp = UTF8_REPLACEMENT;
		*pos = i + 1;
		return 0;
	}
	*pos = i + k;
	return k;
}
