// SPDX-License-Identifier: GPL-2.0
/*
 * The event ring: where probe handlers leave events and readers take them.
 *
 * One ring serves the one trace session.  Producers run in kprobe handlers
 * (task context, preemption disabled), consumers in read() and ioctl(); a
 * spinlock taken with interrupts off serialises both, and every consumer
 * copies out of a bounce buffer after dropping it.  A full ring drops the
 * new event, never an old one, and counts it: seq numbers are given to lost
 * events too, so a reader sees exactly where and how many went missing.
 */
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "cowtrace.h"

static DEFINE_SPINLOCK(ring_lock);

/*
 * Readers wake once per batch of events, not per event: each wakeup is paid
 * by the traced process (its probe wakes the reader, and the reader may
 * share its CPU), and that was most of what a busy session cost it.
 *
 * A reader back for more waits on ring_batch_wait, up to BATCH_WAIT,
 * for WAKE_BATCH events; a busy session fills the batch in time and the
 * probe that queues its last event wakes the reader: one wakeup.  Only a
 * reader that found the ring empty even then sleeps on ring_wait (as poll()
 * does), woken by the first event, after which it gives the batch its
 * window.  Either way an event waits at most BATCH_WAIT to be read.
 */
static DECLARE_WAIT_QUEUE_HEAD(ring_wait);
static DECLARE_WAIT_QUEUE_HEAD(ring_batch_wait);
#define WAKE_BATCH 256
#define BATCH_WAIT (HZ / 100 ?: 1)

/* Everything below is guarded by ring_lock. */
static struct cowtrace_event *ring;
static unsigned int ring_cap; /* a power of two */
static u64 ring_head, ring_tail; /* producer / consumer positions */
static u64 ring_seq; /* last seq handed out */
static u64 ring_lost;
static u64 ring_kind_counts[COWTRACE_EV_NR_KINDS];
static bool ring_active;

int cowtrace_ring_reset(unsigned int cap)
{
	struct cowtrace_event *fresh = NULL, *old = NULL;
	unsigned long flags;

	cap = roundup_pow_of_two(cap);
	if (cap != ring_cap) {
		fresh = vmalloc(array_size(cap, sizeof(*fresh)));
		if (!fresh)
			return -ENOMEM;
	}
	spin_lock_irqsave(&ring_lock, flags);
	if (fresh) {
		old = ring;
		ring = fresh;
		ring_cap = cap;
	}
	ring_head = 0;
	ring_tail = 0;
	ring_seq = 0;
	ring_lost = 0;
	memset(ring_kind_counts, 0, sizeof(ring_kind_counts));
	spin_unlock_irqrestore(&ring_lock, flags);
	vfree(old);
	return 0;
}

unsigned int cowtrace_ring_capacity(void)
{
	return ring_cap;
}

void cowtrace_ring_set_active(bool active)
{
	unsigned long flags;

	spin_lock_irqsave(&ring_lock, flags);
	ring_active = active;
	spin_unlock_irqrestore(&ring_lock, flags);
	/* a stopped session ends every blocked read */
	wake_up_interruptible_all(&ring_wait);
	wake_up_interruptible_all(&ring_batch_wait);
}

void cowtrace_ring_push(struct cowtrace_event *ev)
{
	struct wait_queue_head *wake = NULL;
	unsigned long flags;

	spin_lock_irqsave(&ring_lock, flags);
	if (ring_active) {
		ev->seq = ++ring_seq;
		ring_kind_counts[ev->kind]++;
		if (ring_head - ring_tail < ring_cap) {
			ring[ring_head & (ring_cap - 1)] = *ev;
			ring_head++;
			if (ring_head - ring_tail == 1)
				wake = &ring_wait;
			else if (ring_head - ring_tail == WAKE_BATCH)
				wake = &ring_batch_wait;
		} else {
			ring_lost++;
		}
	}
	spin_unlock_irqrestore(&ring_lock, flags);
	if (wake && wq_has_sleeper(wake))
		wake_up_interruptible(wake);
}

void cowtrace_ring_add_lost(u64 nr)
{
	unsigned long flags;

	spin_lock_irqsave(&ring_lock, flags);
	ring_lost += nr;
	spin_unlock_irqrestore(&ring_lock, flags);
}

unsigned int cowtrace_ring_pop(struct cowtrace_event *buf, unsigned int nr)
{
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&ring_lock, flags);
	for (i = 0; i < nr && ring_tail != ring_head; i++, ring_tail++)
		buf[i] = ring[ring_tail & (ring_cap - 1)];
	spin_unlock_irqrestore(&ring_lock, flags);
	return i;
}

/* At least @nr events are queued, or the session has stopped. */
static bool ring_holds(u64 nr)
{
	unsigned long flags;
	bool ready;

	spin_lock_irqsave(&ring_lock, flags);
	ready = ring_head - ring_tail >= nr || !ring_active;
	spin_unlock_irqrestore(&ring_lock, flags);
	return ready;
}

static bool ring_readable(void)
{
	return ring_holds(1);
}

static bool ring_batch_ready(void)
{
	return ring_holds(WAKE_BATCH);
}

/* Up to BATCH_WAIT for a batch: < 0 on a signal. */
static long wait_for_batch(void)
{
	return wait_event_interruptible_timeout(ring_batch_wait,
						ring_batch_ready(), BATCH_WAIT);
}

/* No session is feeding the ring: what is queued is all there will be. */
bool cowtrace_ring_stopped(void)
{
	return !READ_ONCE(ring_active);
}

int cowtrace_ring_wait(bool nonblock)
{
	long err;

	if (nonblock)
		return ring_readable() ? 0 : -EAGAIN;
	err = wait_for_batch();
	if (ring_readable())
		return 0; /* a signal now only cut the batch short */
	if (err < 0)
		return err;
	err = wait_event_interruptible(ring_wait, ring_readable());
	if (err)
		return err;
	wait_for_batch();
	return 0;
}

__poll_t cowtrace_ring_poll(struct file *file, poll_table *wait)
{
	poll_wait(file, &ring_wait, wait);
	return ring_readable() ? EPOLLIN | EPOLLRDNORM : 0;
}

void cowtrace_ring_stats(struct cowtrace_ring_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&ring_lock, flags);
	st->lost = ring_lost;
	st->produced = ring_seq;
	st->queued = ring_head - ring_tail;
	st->active = ring_active;
	memcpy(st->kind_counts, ring_kind_counts, sizeof(st->kind_counts));
	spin_unlock_irqrestore(&ring_lock, flags);
}

void cowtrace_ring_free(void)
{
	vfree(ring);
	ring = NULL;
	ring_cap = 0;
}
