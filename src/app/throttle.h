/* Per-client-address throttling of failed log-ins. The per-account lock-out
 * (session.c) stops guessing one account's password; this stops one address
 * from trying a few passwords on each of many accounts. In memory, per
 * process: a restart forgets it, which only ever helps a legitimate user. */
#ifndef MADO_THROTTLE_H
#define MADO_THROTTLE_H
#include <stdbool.h>
#include <stdint.h>

#define THROTTLE_WINDOW_MS (15 * 60 * 1000)

/* True when ip has had fewer than max failures in its current window (max 0:
 * always true); otherwise *retry_after_s is set. */
bool throttle_allow(const char *ip, int max, int64_t now_ms, int64_t *retry_after_s);
/* Records one failed log-in from ip. */
void throttle_fail(const char *ip, int64_t now_ms);
/* Forgets every address (tests). */
void throttle_reset(void);

#endif
