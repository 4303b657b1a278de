/* Per-client-address throttling of failed log-ins. The per-account lock-out
 * (session.c) stops guessing one account's password; this stops one address
 * from trying a few passwords on each of many accounts. In memory, per
 * process: a restart forgets it, which only ever helps a legitimate user. */
#ifndef MADO_THROTTLE_H
#define MADO_THROTTLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THROTTLE_WINDOW_MS (15 * 60 * 1000)
/* Longest key throttle_key() writes, NUL included. */
#define THROTTLE_KEY_MAX 64

/* The key an address is counted under: an IPv4 address (also written as
 * ::ffff:a.b.c.d) as itself, an IPv6 address as its /64 ("2001:db8:1:2::/64"),
 * since one client usually holds a whole /64 and could otherwise rotate
 * addresses. Text that is no address is its own key (truncated to fit). */
void throttle_key(const char *ip, char *out, size_t cap);

/* Takes one attempt for ip's key before anything is verified: true when the
 * key had fewer than max failures in its current window, and the attempt then
 * counts as a failure until throttle_give_back(); false (nothing counted,
 * *retry_after_s set) when the limit is reached. Taking before verifying
 * keeps parallel requests from all passing the check. max 0: always true,
 * nothing counted. */
bool throttle_take(const char *ip, int max, int64_t now_ms, int64_t *retry_after_s);
/* Gives back an attempt taken with throttle_take() that was not a failure. */
void throttle_give_back(const char *ip, int64_t now_ms);
/* Forgets every address (tests). */
void throttle_reset(void);

#endif
