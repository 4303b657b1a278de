/* UTF-8 validation and decoding (RFC 3629): every byte string that reaches a
 * page, a log line or the database from outside is checked here first.
 * Overlong forms, surrogates (U+D800..U+DFFF) and code points above U+10FFFF
 * are invalid. Nothing here allocates. */
#ifndef MADO_UTF8_H
#define MADO_UTF8_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest code point (U+10FFFF) and the replacement character. */
#define UTF8_MAX_CP 0x10FFFFu
#define UTF8_REPLACEMENT 0xFFFDu

/* Decodes the sequence at s (n bytes available). Returns its length 1..4
 * and stores the code point in *cp (cp may be NULL), or returns 0 when the
 * sequence is invalid or truncated (*cp untouched). n == 0 returns 0. */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Writes the encoding of cp into out (4 bytes of room). Returns 1..4, or 0
 * when cp is a surrogate or above U+10FFFF. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* True when s[0..n) is entirely valid UTF-8. NUL bytes are valid UTF-8;
 * callers that build C strings reject them separately (or use utf8_clean). */
bool utf8_valid(const char *s, size_t n);

/* Offset of the first invalid byte in s[0..n), or n when all of it is valid. */
size_t utf8_valid_prefix(const char *s, size_t n);

/* Number of code points in s[0..n), or SIZE_MAX when s is not valid UTF-8.
 * Use it for length limits stated in characters (文字数), not bytes. */
size_t utf8_count(const char *s, size_t n);

/* "Clean for display": valid UTF-8 with no C0 control characters except TAB,
 * LF and CR, no DEL and no C1 controls (U+0080..U+009F). NUL is rejected. */
bool utf8_clean(const char *s, size_t n);

/* As utf8_clean, but LF and CR are rejected too (TAB is kept): for one-line
 * values such as names, titles and header-like fields. */
bool utf8_clean_line(const char *s, size_t n);

/* Iteration: `for (size_t i = 0; i < n;) { uint32_t cp; size_t k =
 * utf8_next(s, n, &i, &cp); … }` — utf8_next decodes the code point at *pos,
 * advances *pos and returns the sequence length; at an invalid byte it yields
 * U+FFFD, advances by one byte and returns 0. At the end (*pos >= n) it
 * returns 0 with *cp = 0 and leaves *pos alone. */
size_t utf8_next(const char *s, size_t n, size_t *pos, uint32_t *cp);

#endif
