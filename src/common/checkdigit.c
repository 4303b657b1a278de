/* Check digits for 個人番号, 法人番号, 全国地方公共団体コード and 宛名番号 /
 * 世帯番号 (see checkdigit.h). Two mod-11 weighted sums and one mod-9 sum;
 * every loop stops at the first non-digit so short strings are never overread. */
#include "checkdigit.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Modulus 11, weights 2..7 cycling from the rightmost base digit. */
static int mod11_w27(const char *s, size_t n)
{
	int sum = 0;
	if (!s)
		return CHECKDIGIT_EDIGIT;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return CHECKDIGIT_EDIGIT;
		size_t from_right = n - 1 - i; /* 0 for the rightmost */
		sum += (s[i] - '0') * (int)(2 + from_right % 6);
	}
	int r = sum % 11;
	return r <= 1 ? 0 : 11 - r;
}

int checkdigit_mynumber(const char *s, size_t n)
{
	if (n != CHECKDIGIT_MYNUMBER_LEN - 1)
		return CHECKDIGIT_ELENGTH;
	return mod11_w27(s, n);
}

int checkdigit_atena(const char *s, size_t n)
{
	if (n < 1 || n > CHECKDIGIT_ATENA_MAX - 1)
		return CHECKDIGIT_ELENGTH;
	return mod11_w27(s, n);
}

int checkdigit_corporate(const char *s, size_t n)
{
	int sum = 0;
	if (n != CHECKDIGIT_CORPORATE_LEN - 1)
		return CHECKDIGIT_ELENGTH;
	if (!s)
		return CHECKDIGIT_EDIGIT;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return CHECKDIGIT_EDIGIT;
		size_t nth = n - i; /* 1 for the rightmost */
		sum += (s[i] - '0') * (nth % 2 ? 1 : 2);
	}
	return 9 - sum % 9;
}

int checkdigit_lgcode(const char *s, size_t n)
{
	static const int w[5] = {6, 5, 4, 3, 2};
	int sum = 0;
	if (n != CHECKDIGIT_LGCODE_LEN - 1)
		return CHECKDIGIT_ELENGTH;
	if (!s)
		return CHECKDIGIT_EDIGIT;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return CHECKDIGIT_EDIGIT;
		sum += (s[i] - '0') * w[i];
	}
	return (11 - sum % 11) % 10;
}

/* Shared tail of the *_check functions: cd is the computed digit (or an
 * error), c the check character found in the number. */
static int compare(int cd, char c)
{
	if (cd < 0)
		return cd;
	if (!is_digit(c))
		return CHECKDIGIT_EDIGIT;
	return c - '0' == cd ? 0 : CHECKDIGIT_EMISMATCH;
}

int checkdigit_mynumber_check(const char *s, size_t n)
{
	if (n != CHECKDIGIT_MYNUMBER_LEN)
		return CHECKDIGIT_ELENGTH;
	if (!s)
		return CHECKDIGIT_EDIGIT;
	return compare(checkdigit_mynumber(s, n - 1), s[n - 1]);
}

int checkdigit_corporate_check(const char *s, size_t n)
{
	if (n != CHECKDIGIT_CORPORATE_LEN)
		return CHECKDIGIT_ELENGTH;
	if (!s)
		return CHECKDIGIT_EDIGIT;
	int cd = checkdigit_corporate(s + 1, n - 1);
	if (cd == CHECKDIGIT_EDIGIT || (cd >= 0 && !is_digit(s[0])))
		return CHECKDIGIT_EDIGIT;
	return compare(cd, s[0]);
}

int checkdigit_lgcode_check(const char *s, size_t n)
{
	if (n != CHECKDIGIT_LGCODE_LEN)
		return CHECKDIGIT_ELENGTH;
	if (!s)
		return CHECKDIGIT_EDIGIT;
	return compare(checkdigit_lgcode(s, n - 1), s[n - 1]);
}

int checkdigit_atena_check(const char *s, size_t n)
{
	if (n < 2 || n > CHECKDIGIT_ATENA_MAX)
		return CHECKDIGIT_ELENGTH;
	if (!s)
		return CHECKDIGIT_EDIGIT;
	return compare(checkdigit_atena(s, n - 1), s[n - 1]);
}

bool checkdigit_mynumber_valid(const char *s, size_t n)
{
	return checkdigit_mynumber_check(s, n) == 0;
}

bool checkdigit_corporate_valid(const char *s, size_t n)
{
	return checkdigit_corporate_check(s, n) == 0;
}

bool checkdigit_lgcode_valid(const char *s, size_t n)
{
	return checkdigit_lgcode_check(s, n) == 0;
}

bool checkdigit_atena_valid(const char *s, size_t n)
{
	return checkdigit_atena_check(s, n) == 0;
}

const char *checkdigit_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "valid";
	case CHECKDIGIT_ELENGTH:
		return "wrong length";
	case CHECKDIGIT_EDIGIT:
		return "not ASCII digits";
	case CHECKDIGIT_EMISMATCH:
		return "check digit mismatch";
	default:
		return "unknown error";
	}
}
