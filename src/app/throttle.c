/* Failed log-ins per client address (see throttle.h): a fixed table of
 * fixed windows. When the table is full the oldest window is replaced, so
 * memory stays bounded whatever the number of addresses. */
#include "app/throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/cidr.h"

#define SLOTS 4096

struct slot {
	char ip[THROTTLE_KEY_MAX];
	int64_t window_start;
	int failures;
};

static struct slot table[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void throttle_key(const char *ip, char *out, size_t cap)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct ipaddr a;
	char text[IP_TEXT_MAX];
	if (!cap)
		return;
	if (ip_parse(ip, strlen(ip), &a) != 0) {
		snprintf(out, cap, "%s", ip);
		return;
	}
	if (memcmp(a.b, mapped, sizeof mapped) == 0) {
		ip_format(&a, text, sizeof text);
		snprintf(out, cap, "%s", text);
		return;
	}
	memset(a.b + 8, 0, 8);
	ip_format(&a, text, sizeof text);
	snprintf(out, cap, "%s/64", text);
}

static unsigned hash_key(const char *key)
{
	unsigned h = 2166136261u;
	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

/* The slot for key (probing 8 places), or one of them to reuse: a free one
 * (no failures counted) first, else the stalest, so that successful log-ins
 * from many addresses do not push out the count of a guessing one. */
static struct slot *find(const char *key, int64_t now, bool create)
{
	unsigned h = hash_key(key);
	struct slot *stalest = NULL;
	for (unsigned i = 0; i < 8; i++) {
		struct slot *s = &table[(h + i) % SLOTS];
		if (s->ip[0] && strcmp(s->ip, key) == 0) {
			if (now - s->window_start > THROTTLE_WINDOW_MS) {
				s->window_start = now;
				s->failures = 0;
			}
			return s;
		}
		if (!stalest || (stalest->failures > 0 &&
				 (s->failures == 0 || s->window_start < stalest->window_start)))
			stalest = s;
	}
	if (!create)
		return NULL;
	snprintf(stalest->ip, sizeof stalest->ip, "%s", key);
	stalest->window_start = now;
	stalest->failures = 0;
	return stalest;
}

bool throttle_take(const char *ip, int max, int64_t now_ms, int64_t *retry_after_s)
{
	if (max <= 0)
		return true;
	char key[THROTTLE_KEY_MAX];
	throttle_key(ip, key, sizeof key);
	pthread_mutex_lock(&lock);
	struct slot *s = find(key, now_ms, true);
	bool ok = s->failures < max;
	if (ok)
		s->failures++;
	else
		*retry_after_s = (s->window_start + THROTTLE_WINDOW_MS - now_ms + 999) / 1000;
	pthread_mutex_unlock(&lock);
	return ok;
}

void throttle_give_back(const char *ip, int64_t now_ms)
{
	char key[THROTTLE_KEY_MAX];
	throttle_key(ip, key, sizeof key);
	pthread_mutex_lock(&lock);
	struct slot *s = find(key, now_ms, false);
	/* a window that began meanwhile holds none of this attempt */
	if (s && s->failures > 0)
		s->failures--;
	pthread_mutex_unlock(&lock);
}

void throttle_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(table, 0, sizeof table);
	pthread_mutex_unlock(&lock);
}
