// SPDX-License-Identifier: GPL-2.0
/*
 * trace_bench: what tracing costs the traced.  A parent holds a region of
 * N MiB (written, so every page is present), forks, and the child writes
 * every page once: one COW copy per page, the Redis BGSAVE pattern at its
 * worst.  Timed from fork() to the child's exit, best of --reps, four ways
 * on the same machine in one run:
 *
 *   off        no tracing: the baseline
 *   cowtrace   a trace session on the parent and its children, with a
 *              reader thread draining the ring as the tool does
 *   empty      bpftrace with an empty kretprobe on handle_mm_fault(): the
 *   kretprobe  probe mechanism and BPF's dispatch, no work at all.  It is
 *              what seeing every fault's outcome costs before anything is
 *              read or recorded, so it shows how much of cowtrace's cost
 *              is the hook rather than its handlers.
 *   bpftrace   scripts/cow-faults.bt on the same pid, counting only
 *              (its per-event lines off: the equivalent of the session)
 *
 * Each run maps a fresh region, so no run inherits another's page state.
 * The off and cowtrace runs alternate (a session is started and stopped
 * around each traced run, outside the timing), so that a busy spell on a
 * shared host slows both alike instead of skewing their ratio; the two
 * bpftrace rows follow, each after untraced runs of its own, and every row
 * is divided by the best untraced run of all.
 *
 *	usage: trace_bench [--mib N] [--reps R] [--tiny] [--no-bpftrace]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/cowtrace.h>

#include "../bpftrace_run.h"
#include "bench.h"

#define PAGE 4096ul

/* One fork whose child writes every page; seconds from fork to its exit. */
static double fork_and_write(size_t len)
{
	char *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double t0, t;
	pid_t pid;

	if (r == MAP_FAILED)
		die("mmap");
	madvise(r, len, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += PAGE)
		r[off] = 1;
	t0 = now();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (size_t off = 0; off < len; off += PAGE)
			r[off] = 2;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	t = now() - t0;
	munmap(r, len);
	return t;
}

static double best(size_t len, int reps)
{
	double b = 1e9;

	for (int i = 0; i < reps; i++) {
		double t = fork_and_write(len);

		if (t < b)
			b = t;
	}
	return b;
}

static double min_of(double a, double b)
{
	return a < b ? a : b;
}

/* An empty kretprobe on handle_mm_fault(): its predicate fails for every task. */
#define EMPTY_KRETPROBE_PROGRAM \
	"BEGIN { printf(\"Tracing\\n\"); } kretprobe:handle_mm_fault /pid == 0/ { @n = count(); }"

/*
 * Best of @reps runs while bpftrace runs @argv, from its "Tracing" line (its
 * probes are attached) until it is stopped; 0 if it never got there.
 * Untraced runs go just before, into *@off, so that the baseline every row
 * is divided by has seen the same spell of the host as this row.
 */
static double best_under_bpftrace(char *const argv[], size_t len, int reps, double *off)
{
	struct bpftrace_run bt;
	const char *why;
	double t;

	*off = min_of(*off, best(len, reps));
	if (bpftrace_start(&bt, argv, 90, &why)) {
		fprintf(stderr, "trace_bench: bpftrace %s: %s; its row is n/a\n", argv[1], why);
		unlink(bt.out);
		return 0;
	}
	t = best(len, reps);
	if (bpftrace_stop(&bt, 60))
		fprintf(stderr, "trace_bench: bpftrace %s did not exit on SIGTERM: killed\n",
			argv[1]);
	unlink(bt.out);
	return t;
}

static volatile int draining;
static uint64_t drained;

static void *drain(void *arg)
{
	static struct cowtrace_event ev[4096];
	struct cowtrace_trace_read a = {
		.size = sizeof(a), .events = (uintptr_t)ev, .cap = 4096,
	};
	int fd = *(int *)arg;

	while (draining) {
		if (ioctl(fd, COWTRACE_IOC_TRACE_READ, &a) == 0)
			drained += a.count;
		if (!a.active)
			break;
	}
	return NULL;
}

/* One table row; a time of 0 is a run that did not happen. */
static void print_row(const char *what, double t, double off)
{
	if (t > 0)
		printf("| %s | %.1f ms | %.2fx |\n", what, t * 1e3, t / off);
	else
		printf("| %s | n/a | n/a |\n", what);
}

int main(int argc, char **argv)
{
	size_t mib = 1024;
	int reps = 3, bpf = 1;
	double off, on, bt = 0, empty = 0;
	uint64_t lost = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tiny"))
			mib = 8, reps = 1;
		else if (!strcmp(argv[i], "--no-bpftrace"))
			bpf = 0;
		else {
			fprintf(stderr, "usage: trace_bench [--mib N] [--reps R] [--tiny] [--no-bpftrace]\n");
			return 1;
		}
	}
	size_t len = mib << 20;

	off = on = 1e9;
	for (int i = 0; i < reps; i++) {
		int fd = open("/sys/kernel/debug/cowtrace/ctl", O_RDONLY);
		struct cowtrace_trace_start s = {
			.size = sizeof(s), .flags = COWTRACE_TRACE_CHILDREN, .pid = getpid(),
		};
		struct cowtrace_trace_stop st = { .size = sizeof(st) };
		struct cowtrace_trace_read r = { .size = sizeof(r), .flags = COWTRACE_READ_NONBLOCK };
		static struct cowtrace_event one;
		pthread_t th;

		off = min_of(off, fork_and_write(len));
		if (fd < 0 || ioctl(fd, COWTRACE_IOC_TRACE_START, &s))
			die("starting a trace session (is the module loaded?)");
		draining = 1;
		pthread_create(&th, NULL, drain, &fd);
		on = min_of(on, fork_and_write(len));
		ioctl(fd, COWTRACE_IOC_TRACE_STOP, &st);
		draining = 0;
		pthread_join(th, NULL);
		r.events = (uintptr_t)&one;
		r.cap = 1;
		ioctl(fd, COWTRACE_IOC_TRACE_READ, &r);
		lost += r.lost;
		close(fd);
	}

	if (bpf) {
		const char *top = getenv("COWTRACE_TOP");
		char script[512], pidarg[16];

		snprintf(script, sizeof(script), "%s/scripts/cow-faults.bt", top ? top : ".");
		snprintf(pidarg, sizeof(pidarg), "%d", getpid());
		empty = best_under_bpftrace((char *[]){ "bpftrace", "-e", EMPTY_KRETPROBE_PROGRAM,
							 NULL },
					    len, reps, &off);
		bt = best_under_bpftrace((char *[]){ "bpftrace", script, pidarg, "1", NULL },
					 len, reps, &off);
	}

	printf("### Tracing overhead: fork, the child writes %zu MiB (%zu COW copies), best of %d\n\n",
	       mib, len / PAGE, reps);
	printf("| tracing | fork to child exit | relative to off |\n|---|---|---|\n");
	printf("| off | %.1f ms | 1.00x |\n", off * 1e3);
	print_row("bpftrace, an empty kretprobe on handle_mm_fault (the hook alone)", empty, off);
	printf("| cowtrace session (+reader) | %.1f ms | %.2fx |\n", on * 1e3, on / off);
	print_row("bpftrace cow-faults.bt (counting)", bt, off);
	printf("\nThe %d sessions read %" PRIu64 " events; %" PRIu64 " were lost (ring full).\n",
	       reps, drained, lost);
	return 0;
}
