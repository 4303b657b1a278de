/* The client behind a reverse proxy. When the TCP peer is in --trusted-proxy,
 * the client address comes from X-Forwarded-For (the rightmost address that
 * is not itself a trusted proxy) and the scheme from X-Forwarded-Proto; from
 * any other peer both headers are ignored, so a client cannot choose its own
 * address. */
#ifndef MADO_PROXY_H
#define MADO_PROXY_H
#include <stddef.h>

#include "common/cidr.h"
#include "http/http.h"

/* X-Forwarded-For entries examined at most (trusted hops plus the client). */
#define PROXY_MAX_HOPS 32

enum {
	PROXY_OK = 0,
	PROXY_MALFORMED = -1, /* an examined entry is not an address (or the list is empty) */
	PROXY_TOO_MANY = -2,  /* more than PROXY_MAX_HOPS trusted entries */
};

/* The client in an X-Forwarded-For value of len bytes (several header lines
 * joined with ","), walking from the right: entries in trusted are skipped,
 * the first other one is the client; when all are trusted, the leftmost. An
 * entry is an IPv4 or IPv6 address, optionally "[v6]", "[v6]:port" or
 * "v4:port", with blanks around it; zones, names, "unknown" and empty entries
 * are malformed. Entries left of the client are never looked at. Time is
 * linear in len. Returns PROXY_OK with *out set, or a negative PROXY_ code. */
int proxy_xff_client(const char *xff, size_t len, const struct cidr_list *trusted,
		     struct ipaddr *out);

/* X-Forwarded-Proto: 1 for "https", 0 for "http" (any case, blanks around;
 * of a list, the first item: the scheme the outermost proxy saw), -1 for
 * NULL or anything else. */
int proxy_forwarded_https(const char *xfp);

/* Sets r->client_ip (and r->tls) from the forwarding headers when r->peer_ip
 * is a trusted proxy; leaves them as the connection says otherwise. A
 * malformed X-Forwarded-For keeps the peer's address (logged at debug). Runs
 * once per request, before dispatch (installed by app_dispatch_install). */
void proxy_resolve(struct req *r);

#endif
