/* IP addresses and CIDR networks for access rules (--trusted-proxy,
 * --metrics-allow). IPv4 is kept as an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) so that one 16-byte comparison serves both families, and a
 * peer reaching an IPv6 socket as ::ffff:127.0.0.1 matches 127.0.0.0/8. */
#ifndef MADO_CIDR_H
#define MADO_CIDR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest address text ip_format() writes, NUL included (INET6_ADDRSTRLEN). */
#define IP_TEXT_MAX 46
/* Networks in one list. */
#define CIDR_LIST_MAX 64

struct ipaddr {
	uint8_t b[16]; /* network order; IPv4 as ::ffff:a.b.c.d */
};

struct cidr {
	struct ipaddr net; /* host bits are zero */
	unsigned bits;     /* 0..128, counted in the 16-byte form (IPv4 /n is 96 + n) */
};

struct cidr_list {
	size_t n;
	struct cidr v[CIDR_LIST_MAX];
};

/* Parses an IPv4 dotted quad or an IPv6 literal (no brackets, no zone, no
 * port) of exactly len bytes. Returns 0, or -1 for anything else. */
int ip_parse(const char *s, size_t len, struct ipaddr *out);
/* Writes the usual text form: dotted quad for IPv4 (mapped) addresses,
 * RFC 5952 for IPv6. out must hold IP_TEXT_MAX bytes. */
void ip_format(const struct ipaddr *ip, char *out, size_t cap);
/* True for 127.0.0.0/8 and ::1. */
bool ip_is_loopback(const struct ipaddr *ip);

/* Parses "ADDR/LEN" or a bare "ADDR" (one host) of exactly len bytes. The
 * prefix is decimal without sign or leading zeros, at most 32 for IPv4 and
 * 128 for IPv6; host bits must be zero (10.0.0.1/8 is refused: it is more
 * often a typo than meant). Returns 0, or -1 with a reason in err. */
int cidr_parse(const char *s, size_t len, struct cidr *out, char *err, size_t errlen);
/* Parses a comma-separated list of networks (blanks around items allowed, at
 * most CIDR_LIST_MAX, none empty). Returns 0, or -1 with a message naming the
 * bad item in err. */
int cidr_list_parse(const char *s, struct cidr_list *out, char *err, size_t errlen);
/* True when ip lies in net. */
bool cidr_contains(const struct cidr *net, const struct ipaddr *ip);
/* True when ip lies in one of the networks; false for a NULL list. */
bool cidr_list_contains(const struct cidr_list *l, const struct ipaddr *ip);

#endif
