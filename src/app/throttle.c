/* Failed log-ins per client address (see throttle.h): a fixed table of
 * fixed windows. When the table is full the oldest window is replaced, so
 * memory stays bounded whatever the number of addresses. */
#include "app/throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SLOTS 4096

struct slot {
	char ip[64];
	int64_t window_start;
	int failures;
};

static struct slot table[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned hash_ip(const char *ip)
{
	unsigned h = 2166136261u;
	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h;
}

/* The slot for ip (probing 8 places), or the stalest of them to reuse. */
static struct slot *find(const char *ip, int64_t now, bool create)
{
	unsigned h = hash_ip(ip);
	struct slot *stalest = NULL;
	for (unsigned i = 0; i < 8; i++) {
		struct slot *s = &table[(h + i) % SLOTS];
		if (s->ip[0] && strcmp(s->ip, ip) == 0) {
			if (now - s->window_start > THROTTLE_WINDOW_MS) {
				s->window_start = now;
				s->failures = 0;
			}
			return s;
		}
		if (!stalest || s->window_start < stalest->window_start)
			stalest = s;
	}
	if (!create)
		return NULL;
	snprintf(stalest->ip, sizeof stalest->ip, "%s", ip);
	stalest->window_start = now;
	stalest->failures = 0;
	return stalest;
}

bool throttle_allow(const char *ip, int max, int64_t now_ms, int64_t *retry_after_s)
{
	if (max <= 0)
		return true;
	pthread_mutex_lock(&lock);
	struct slot *s = find(ip, now_ms, false);
	bool ok = !s || s->failures < max;
	if (!ok)
		*retry_after_s = (s->window_start + THROTTLE_WINDOW_MS - now_ms + 999) / 1000;
	pthread_mutex_unlock(&lock);
	return ok;
}

void throttle_fail(const char *ip, int64_t now_ms)
{
	pthread_mutex_lock(&lock);
	struct slot *s = find(ip, now_ms, true);
	s->failures++;
	pthread_mutex_unlock(&lock);
}

void throttle_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(table, 0, sizeof table);
	pthread_mutex_unlock(&lock);
}
