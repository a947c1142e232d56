// SPDX-License-Identifier: GPL-2.0
/*
 * The watchdog of watchdog.h: a slot per thread holding the call in progress
 * (a seqcount: odd while one is), and one thread that looks at every slot
 * each second.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "watchdog.h"

#define WD_SLOTS 64

static struct wd_slot {
	unsigned int gen;	/* odd while a call is in progress (a seqcount) */
	struct timespec since;
	char what[224];
} wd_slots[WD_SLOTS];
static int wd_nr_slots;
static _Thread_local struct wd_slot *wd_mine;

static void wd_check(struct wd_slot *s)
{
	unsigned int gen = __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);
	struct timespec now, since = s->since;
	char what[sizeof(s->what)];

	if (!(gen & 1))
		return;
	memcpy(what, s->what, sizeof(what));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	/* the call ended (or the next began) while we looked: not stuck */
	if (__atomic_load_n(&s->gen, __ATOMIC_RELAXED) != gen)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	what[sizeof(what) - 1] = 0;
	if (now.tv_sec - since.tv_sec > WATCHDOG_S)
		FAIL("not ok: call did not return in %d s: %s", WATCHDOG_S, what);
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		int n = __atomic_load_n(&wd_nr_slots, __ATOMIC_ACQUIRE);

		sleep(1);
		for (int i = 0; i < n && i < WD_SLOTS; i++)
			wd_check(&wd_slots[i]);
	}
	return NULL;
}

static void wd_spawn(void)
{
	sigset_t all, old;
	pthread_t t;

	/* signals are for the callers: the wake timer's SIGUSR1 must not land here */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&t, NULL, watchdog, NULL))
		FAIL("cannot start the watchdog thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_detach(t);
}

/* The slot is this thread's from its first call on. */
void wd_begin(const char *fmt, ...)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct wd_slot *s = wd_mine;
	va_list ap;

	pthread_once(&once, wd_spawn);
	if (!s) {
		int i = __atomic_fetch_add(&wd_nr_slots, 1, __ATOMIC_ACQ_REL);

		if (i >= WD_SLOTS)
			FAIL("more than %d threads to watch", WD_SLOTS);
		s = wd_mine = &wd_slots[i];
	}
	va_start(ap, fmt);
	vsnprintf(s->what, sizeof(s->what), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_MONOTONIC, &s->since);
	__atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
}

/* The call named by the last wd_begin() came back. */
void wd_end(void)
{
	__atomic_store_n(&wd_mine->gen, wd_mine->gen + 1, __ATOMIC_RELEASE);
}
