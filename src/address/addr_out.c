/* Writing normalized addresses as JSON, CSV and GeoJSON by hand into a
 * bounded buffer: at 100,000+ addresses a second, building a jansson object
 * per result would cost more than the normalizing. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "address/addr_internal.h"
#include "common/json_esc.h"
#include "common/utf8.h"

int addr_format_parse(const char *s, enum addr_format *out)
{
	static const struct {
		const char *name;
		enum addr_format f;
	} tab[] = {{"json", ADDR_FMT_JSON},
		   {"ndjson", ADDR_FMT_NDJSON},
		   {"csv", ADDR_FMT_CSV},
		   {"geojson", ADDR_FMT_GEOJSON}};
	for (size_t i = 0; s && i < sizeof tab / sizeof tab[0]; i++)
		if (!strcmp(s, tab[i].name)) {
			*out = tab[i].f;
			return 0;
		}
	return -EINVAL;
}

/* The text fields in output order (the level and the point follow). */
static const struct {
	const char *name;
	size_t len, off;
} text_fields[] = {
#define F(f)                                                                                       \
	{                                                                                          \
#f, sizeof #f - 1, offsetof(struct addr_result, f)                                 \
	}
	F(pref),    F(county),      F(city),      F(ward),     F(oaza_cho), F(chome),    F(koaza),
	F(blk_num), F(rsdt_num),    F(rsdt_num2), F(prc_num1), F(prc_num2), F(prc_num3), F(others),
	F(lg_code), F(machiaza_id), F(blk_id),    F(rsdt_id),  F(prc_id),
#undef F
};
#define NFIELDS (sizeof text_fields / sizeof text_fields[0])

static const char *field(const struct addr_result *r, size_t i)
{
	return *(const char *const *)((const char *)r + text_fields[i].off);
}

/* The input as a C string, with bytes that are not UTF-8 replaced. */
static int put_input(struct buf *b, const char *s, size_t n)
{
	char tmp[ADDR_INPUT_MAX + 1];
	if (n > ADDR_INPUT_MAX)
		n = ADDR_INPUT_MAX;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* a NUL inside ends the string early: json_esc reads C strings */
	return json_esc_append(b, tmp);
}

/* ,"name": then the value or null. name is a literal without escapes. */
static int put_field(struct buf *b, const char *name, size_t name_len, const char *v)
{
	int rc = buf_append(b, ",\"", 2);
	if (rc == 0)
		rc = buf_append(b, name, name_len);
	if (rc == 0)
		rc = buf_append(b, "\":", 2);
	if (rc == 0)
		rc = v && *v ? json_esc_append(b, v) : buf_append(b, "null", 4);
	return rc;
}

/* A coordinate with 7 decimals (about 1 cm), without printf. */
static int put_coord(struct buf *b, double v)
{
	char tmp[32];
	size_t n = sizeof tmp;
	bool neg = v < 0;
	if (neg)
		v = -v;
	if (!(v < 1e9)) /* NaN or absurd: never from the registry, but stay valid JSON */
		return buf_append(b, "null", 4);
	uint64_t x = (uint64_t)(v * 1e7 + 0.5);
	for (int d = 0; d < 7; d++) {
		tmp[--n] = (char)('0' + x % 10);
		x /= 10;
	}
	tmp[--n] = '.';
	do {
		tmp[--n] = (char)('0' + x % 10);
		x /= 10;
	} while (x);
	if (neg)
		tmp[--n] = '-';
	return buf_append(b, tmp + n, sizeof tmp - n);
}

static int put_props(struct buf *b, const char *input, size_t n, const struct addr_result *r)
{
	int rc = buf_puts(b, "\"input\":");
	if (rc == 0)
		rc = put_input(b, input, n);
	for (size_t i = 0; i < NFIELDS && rc == 0; i++)
		rc = put_field(b, text_fields[i].name, text_fields[i].len, field(r, i));
	if (rc == 0)
		rc = put_field(b, "match_level", 11, addr_level_name(r->level));
	if (rc == 0 && r->has_point) {
		rc = buf_puts(b, ",\"lat\":");
		if (rc == 0)
			rc = put_coord(b, r->lat);
		if (rc == 0)
			rc = buf_puts(b, ",\"lon\":");
		if (rc == 0)
			rc = put_coord(b, r->lon);
		if (rc == 0)
			rc = put_field(b, "coordinate_level", 16, addr_level_name(r->coord_level));
	} else if (rc == 0) {
		rc = buf_puts(b, ",\"lat\":null,\"lon\":null,\"coordinate_level\":null");
	}
	if (rc == 0 && r->error)
		rc = put_field(b, "error", 5, r->error);
	return rc;
}

int addr_result_json(struct buf *b, const char *input, size_t n, const struct addr_result *r)
{
	size_t mark = b->len;
	int rc = buf_putc(b, '{');
	if (rc == 0)
		rc = put_props(b, input, n, r);
	if (rc == 0)
		rc = buf_putc(b, '}');
	if (rc != 0) {
		b->len = mark;
		if (b->p)
			b->p[mark] = '\0';
	}
	return rc;
}

int addr_result_feature(struct buf *b, const char *input, size_t n, const struct addr_result *r)
{
	size_t mark = b->len;
	int rc = buf_puts(b, "{\"type\":\"Feature\",\"geometry\":");
	if (rc == 0)
		rc = r->has_point ?
			     buf_printf(b, "{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}",
					r->lon, r->lat) :
			     buf_puts(b, "null");
	if (rc == 0)
		rc = buf_puts(b, ",\"properties\":{");
	if (rc == 0)
		rc = put_props(b, input, n, r);
	if (rc == 0)
		rc = buf_puts(b, "}}");
	if (rc != 0) {
		b->len = mark;
		if (b->p)
			b->p[mark] = '\0';
	}
	return rc;
}

int addr_csv_header(struct buf *b)
{
	int rc = buf_puts(b, "input");
	for (size_t i = 0; i < NFIELDS && rc == 0; i++) {
		rc = buf_putc(b, ',');
		if (rc == 0)
			rc = buf_append(b, text_fields[i].name, text_fields[i].len);
	}
	if (rc == 0)
		rc = buf_puts(b, ",match_level,lat,lon,coordinate_level\r\n");
	return rc;
}

/* A CSV field, quoted when it holds a comma, quote or line break; bytes that
 * are not UTF-8 become U+FFFD. A leading =, +, - or @ is prefixed with ' so
 * that a spreadsheet does not run it as a formula. */
static int put_csv(struct buf *b, const char *s, size_t n)
{
	bool quote =
		memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n);
	int rc = quote ? buf_putc(b, '"') : 0;
	if (rc == 0 && n && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@'))
		rc = buf_putc(b, '\'');
	size_t i = 0;
	while (rc == 0 && i < n) {
		uint32_t cp;
		size_t k = utf8_decode(s + i, n - i, &cp);
		if (k == 0) {
			rc = buf_puts(b, "\xEF\xBF\xBD");
			i++;
			continue;
		}
		if (s[i] == '"')
			rc = buf_putc(b, '"');
		if (rc == 0)
			rc = buf_append(b, s + i, k);
		i += k;
	}
	if (rc == 0 && quote)
		rc = buf_putc(b, '"');
	return rc;
}

int addr_result_csv(struct buf *b, const char *input, size_t n, const struct addr_result *r)
{
	size_t mark = b->len;
	int rc = put_csv(b, input, n > ADDR_INPUT_MAX ? ADDR_INPUT_MAX : n);
	for (size_t i = 0; i < NFIELDS && rc == 0; i++) {
		const char *v = field(r, i);
		rc = buf_putc(b, ',');
		if (rc == 0 && v)
			rc = put_csv(b, v, strlen(v));
	}
	if (rc == 0)
		rc = buf_printf(b, ",%s", addr_level_name(r->level));
	if (rc == 0)
		rc = r->has_point ? buf_printf(b, ",%.7f,%.7f,%s\r\n", r->lat, r->lon,
					       addr_level_name(r->coord_level)) :
				    buf_puts(b, ",,,\r\n");
	if (rc != 0) {
		b->len = mark;
		if (b->p)
			b->p[mark] = '\0';
	}
	return rc;
}
