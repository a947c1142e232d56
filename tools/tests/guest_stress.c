// SPDX-License-Identifier: GPL-2.0
/*
 * Readers against a target whose memory changes under them in every way mm
 * allows: two threads snapshot it and one traces it, while it forks writing
 * children, mremaps, mprotects, munmaps, drops pages, collapses and splits
 * THPs, has KSM merge its pages, and exits to be replaced by the next one.
 * Every call must return a result or a documented errno; guest-suite fails
 * the run on any KASAN, lockdep or DEBUG_VM report or hung task.  Bounded by
 * iterations, not time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_util.h"

#define TARGETS 3
#define TARGET_ROUNDS 6
#define REGION (8ul << 20)
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25	/* 6.1 UAPI; absent from older headers */
#endif

static int split_fd = -1;	/* /sys/kernel/debug/split_huge_pages, if any */

/* Ask the kernel to split every THP of [start, end) of this process. */
static void split_thps(char *start, char *end)
{
	char cmd[96];
	int len;

	if (split_fd < 0)
		return;
	len = snprintf(cmd, sizeof(cmd), "%d,%#lx,%#lx", getpid(), (unsigned long)start,
		       (unsigned long)end);
	if (pwrite(split_fd, cmd, len, 0) < 0) {
		/* refused ranges are fine: the point is to race the readers */
	}
}

static void target_body(void)
{
	char *m = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		_exit(1);
	for (int r = 0; r < TARGET_ROUNDS; r++) {
		char *moved;
		pid_t c;

		madvise(m, REGION, MADV_HUGEPAGE);
		memset(m, r & 1 ? 0x5a : r, REGION);	/* odd rounds: KSM fodder */
		madvise(m, REGION, MADV_MERGEABLE);
		c = fork();
		if (c == 0) {
			memset(m, r + 1, REGION / 4);
			_exit(0);
		}
		madvise(m + REGION / 2, REGION / 8, MADV_DONTNEED);
		madvise(m, REGION, MADV_COLLAPSE);
		split_thps(m, m + REGION);
		mprotect(m + REGION / 4, REGION / 8, PROT_READ);
		mprotect(m + REGION / 4, REGION / 8, PROT_READ | PROT_WRITE);
		munmap(m + REGION - 4 * PAGE, 4 * PAGE);
		moved = mremap(m, REGION - 4 * PAGE, REGION, MREMAP_MAYMOVE);
		if (moved == MAP_FAILED)
			_exit(2);
		m = moved;
		madvise(m, REGION, MADV_UNMERGEABLE);
		waitpid(c, NULL, 0);
	}
	_exit(0);
}

/* What well-formed calls may meet while the target changes and exits. */
static const int expected[] = { EINVAL, EFAULT, ESRCH, EINTR, ENOMEM, EBUSY, ENOENT, EAGAIN };

struct reader {
	pid_t *target;
	int stop;
	struct errno_tally t;
};

static void *snapshotter(void *arg)
{
	struct reader *r = arg;
	int fd = open(CT_CTL_PATH, O_RDWR);
	struct cowtrace_vma *v = malloc(64 * sizeof(*v));
	struct cowtrace_page *p = malloc(8192 * sizeof(*p));
	char *names = malloc(8192);

	while (fd >= 0 && !__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		struct cowtrace_snapshot s = {
			.size = sizeof(s), .pid = (uint32_t)__atomic_load_n(r->target, __ATOMIC_RELAXED),
			.end = 1ull << 47, .vmas = (uintptr_t)v, .vma_cap = 64,
			.pages = (uintptr_t)p, .page_cap = 8192,
			.names = (uintptr_t)names, .names_cap = 8192,
		};

		tally_errno(&r->t, ioctl(fd, COWTRACE_IOC_SNAPSHOT, &s) ? errno : 0);
	}
	free(v);
	free(p);
	free(names);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void *tracer(void *arg)
{
	struct reader *r = arg;
	int fd = open(CT_CTL_PATH, O_RDWR);
	struct cowtrace_event ev[256];

	while (fd >= 0 && !__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		struct cowtrace_trace_start st = {
			.size = sizeof(st), .flags = COWTRACE_TRACE_CHILDREN,
			.pid = (uint32_t)__atomic_load_n(r->target, __ATOMIC_RELAXED),
		};
		struct cowtrace_trace_read rd = {
			.size = sizeof(rd), .flags = COWTRACE_READ_NONBLOCK,
			.events = (uintptr_t)ev, .cap = 256,
		};
		struct cowtrace_trace_stop sp = { .size = sizeof(sp) };

		tally_errno(&r->t, ioctl(fd, COWTRACE_IOC_TRACE_START, &st) ? errno : 0);
		for (int i = 0; i < 20; i++) {
			tally_errno(&r->t, ioctl(fd, COWTRACE_IOC_TRACE_READ, &rd) ? errno : 0);
			usleep(2000);
		}
		tally_errno(&r->t, ioctl(fd, COWTRACE_IOC_TRACE_STOP, &sp) ? errno : 0);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static pid_t start_target(void)
{
	pid_t t = fork();

	if (t == 0)
		target_body();
	return t;
}

TEST_TIMEOUT(readers_survive_a_target_changing_its_memory_every_way, 900)
{
	struct reader snap[2], trace;
	pthread_t th[3];
	pid_t target = start_target();
	char ksm_was[16] = "0";
	int status, fd;

	/* KSM on for the run, as it was afterwards */
	fd = open("/sys/kernel/mm/ksm/run", O_RDWR);
	if (fd >= 0) {
		ssize_t n = read(fd, ksm_was, sizeof(ksm_was) - 1);

		ksm_was[n > 0 ? n : 0] = 0;
		if (pwrite(fd, "1", 1, 0) != 1)
			printf("# KSM could not be started: %s\n", strerror(errno));
		close(fd);
	}
	split_fd = open("/sys/kernel/debug/split_huge_pages", O_WRONLY);
	if (split_fd < 0)
		printf("# no split_huge_pages in debugfs: THPs split only by the target's own changes\n");
	for (int i = 0; i < 2; i++)
		snap[i] = (struct reader){
			.target = &target,
			.t = { .allowed = expected,
			       .nr_allowed = sizeof(expected) / sizeof(expected[0]) },
		};
	trace = snap[0];
	ASSERT_EQ(pthread_create(&th[0], NULL, snapshotter, &snap[0]), 0);
	ASSERT_EQ(pthread_create(&th[1], NULL, snapshotter, &snap[1]), 0);
	ASSERT_EQ(pthread_create(&th[2], NULL, tracer, &trace), 0);
	for (int t = 0; t < TARGETS; t++) {
		ct_step("target %d of %d (pid %d)", t + 1, TARGETS, target);
		ASSERT_EQ(waitpid(target, &status, 0), target);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (t + 1 < TARGETS)
			__atomic_store_n(&target, start_target(), __ATOMIC_RELAXED);
	}
	ct_step("stop the readers");
	snap[0].stop = snap[1].stop = trace.stop = 1;
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	if (split_fd >= 0)
		close(split_fd);
	fd = open("/sys/kernel/mm/ksm/run", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, ksm_was, strlen(ksm_was)) < 0)
			printf("# could not restore ksm/run\n");
		close(fd);
	}
	print_errno_tally("snapshots, thread 1", &snap[0].t);
	print_errno_tally("snapshots, thread 2", &snap[1].t);
	print_errno_tally("trace start/read/stop", &trace.t);
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(snap[i].t.unexpected, 0);
		EXPECT_GT(snap[i].t.ok, 0);
	}
	EXPECT_EQ(trace.t.unexpected, 0);
	EXPECT_GT(trace.t.ok, 0);
}
