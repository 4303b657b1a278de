/* JSON string escaping (see json_esc.h). */
#include "json_esc.h"

#include <stdint.h>
#include <string.h>

#include "utf8.h"

int json_esc_append(struct buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *end = s + strlen(str);
	int rc = buf_putc(b, '"');
	while (!rc && *s) {
		unsigned c = *s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			rc = buf_append(b, e, 2);
			s++;
		} else if (c < 0x20) {
			rc = buf_printf(b, "\\u%04x", c);
			s++;
		} else {
			size_t n = utf8_decode((const char *)s, (size_t)(end - s), NULL);
			if (n == 0) {
				rc = buf_puts(b, "\xEF\xBF\xBD");
				s++;
			} else {
				rc = buf_append(b, s, n);
				s += n;
			}
		}
	}
	if (!rc)
		rc = buf_putc(b, '"');
	return rc;
}
