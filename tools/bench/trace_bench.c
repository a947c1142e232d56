// SPDX-License-Identifier: GPL-2.0
/*
 * trace_bench: what tracing costs the traced.  A parent holds a region of
 * N MiB (written, so every page is present), forks, and the child writes
 * every page once: one COW copy per page, the Redis BGSAVE pattern at its
 * worst.  Timed from fork() to the child's exit, these ways on the same
 * machine in one run:
 *
 *   off        no tracing: the baseline
 *   off again  the same, later in each round: the baseline against itself
 *   cowtrace   a trace session on the parent and its children, with a
 *              reader thread draining the ring as the tool does
 *   empty      bpftrace with an empty kretprobe on handle_mm_fault(): the
 *   kretprobe  probe mechanism cowtrace uses, and BPF's dispatch, no work at
 *              all.  It is what seeing every fault's outcome costs before
 *              anything is read or recorded, so it shows how much of
 *              cowtrace's cost is the hook rather than its handlers.
 *   empty      the same with a kretfunc: BPF's trampoline (fentry/fexit),
 *   kretfunc   the cheapest return hook the kernel has, and BPF's alone
 *              (a module gets kprobes and ftrace, not BPF trampolines)
 *   bpftrace   scripts/cow-faults.bt on the same pid, counting only
 *              (its per-event lines off: the equivalent of the session)
 *
 * Each run maps a fresh region, so no run inherits another's page state.
 * Sessions and bpftrace are started and stopped around their runs, outside
 * the timing.  Each of --reps rounds runs every row once, and a row's ratio
 * is its fastest run over the fastest untraced one: noise on a shared host
 * only ever adds time, so the fastest run is the least disturbed, and every
 * row has as many tries at it as the baseline.  The slowest runs are shown
 * too, for how noisy the run was, and an "off again" row, untraced runs at
 * the end of each round, is the baseline measured against itself: how far
 * apart two identical rows land in this run, so a ratio nearer to 1.00x
 * than that is not a difference this run can see.
 *
 * The child above writes one byte a page: every fault and nothing else,
 * the worst case for what a per-fault hook costs.  A second table runs off
 * and cowtrace with the child writing every byte (memset of the region), as
 * a worker filling its buffers does: the same copy per page, with the
 * work of writing around it.
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

/* How much of each page the child writes. */
enum child_writes { ONE_BYTE_A_PAGE, EVERY_BYTE };

/* One fork whose child writes every page; seconds from fork to its exit. */
static double fork_and_write(size_t len, enum child_writes writes)
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
		if (writes == EVERY_BYTE)
			memset(r, 2, len);
		else
			for (size_t off = 0; off < len; off += PAGE)
				r[off] = 2;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	t = now() - t0;
	munmap(r, len);
	return t;
}

/* Empty return hooks on handle_mm_fault(): their predicate fails for every task. */
#define EMPTY_KRETFUNC_PROGRAM \
	"BEGIN { printf(\"Tracing\\n\"); } kretfunc:handle_mm_fault /pid == 0/ { @n = count(); }"
#define EMPTY_KRETPROBE_PROGRAM \
	"BEGIN { printf(\"Tracing\\n\"); } kretprobe:handle_mm_fault /pid == 0/ { @n = count(); }"

/* One way of running the workload: its fastest and slowest runs. */
struct row {
	const char *what;
	int n;
	double fastest, slowest;
};

/*
 * A run starts only after the work the last one left behind has run:
 * a bpftrace that exits, or a session that stops, leaves the kernel
 * unregistering probes and freeing programs after RCU grace periods, on
 * the other vCPU, which TCG runs on the same host thread as the timed one.
 */
#define SETTLE_S 3

static void add_run(struct row *row, double t)
{
	if (!row->n || t < row->fastest)
		row->fastest = t;
	if (!row->n || t > row->slowest)
		row->slowest = t;
	row->n++;
}

static void run_untraced(struct row *row, size_t len, enum child_writes writes)
{
	sleep(SETTLE_S);
	add_run(row, fork_and_write(len, writes));
}

/* One run for @row with bpftrace running @argv (started and stopped untimed). */
static void run_under_bpftrace(struct row *row, char *const argv[], size_t len)
{
	struct bpftrace_run bt;
	const char *why;
	double t;

	sleep(SETTLE_S);
	if (bpftrace_start(&bt, argv, 90, &why)) {
		fprintf(stderr, "trace_bench: bpftrace %s: %s; a run of its row is missing\n",
			argv[1], why);
		unlink(bt.out);
		return;
	}
	t = fork_and_write(len, ONE_BYTE_A_PAGE);
	if (bpftrace_stop(&bt, 60))
		fprintf(stderr, "trace_bench: bpftrace %s did not exit on SIGTERM: killed\n",
			argv[1]);
	unlink(bt.out);
	add_run(row, t);
}

/* The head of a table of print_row() lines. */
static void print_table_head(void)
{
	printf("| tracing | fastest run | slowest run | fastest relative to off |\n");
	printf("|---|---|---|---|\n");
}

/* "| what | fastest | slowest | fastest over off's fastest |"; n/a without runs. */
static void print_row(const struct row *row, const struct row *off)
{
	if (!row->n || !off->n) {
		printf("| %s | n/a | n/a | n/a |\n", row->what);
		return;
	}
	printf("| %s | %.1f ms | %.1f ms | %.2fx |\n", row->what, row->fastest * 1e3,
	       row->slowest * 1e3, row->fastest / off->fastest);
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

/* One run for @row under a cowtrace session and its reader (set up untimed). */
static void run_under_cowtrace(struct row *row, size_t len, enum child_writes writes,
			       uint64_t *lost)
{
	struct cowtrace_trace_start s = {
		.size = sizeof(s), .flags = COWTRACE_TRACE_CHILDREN, .pid = getpid(),
	};
	struct cowtrace_trace_stop st = { .size = sizeof(st) };
	struct cowtrace_trace_read r = { .size = sizeof(r), .flags = COWTRACE_READ_NONBLOCK };
	static struct cowtrace_event one;
	pthread_t th;
	double t;
	int fd;

	sleep(SETTLE_S);
	fd = open("/sys/kernel/debug/cowtrace/ctl", O_RDONLY);
	if (fd < 0 || ioctl(fd, COWTRACE_IOC_TRACE_START, &s))
		die("starting a trace session (is the module loaded?)");
	draining = 1;
	pthread_create(&th, NULL, drain, &fd);
	t = fork_and_write(len, writes);
	ioctl(fd, COWTRACE_IOC_TRACE_STOP, &st);
	draining = 0;
	pthread_join(th, NULL);
	r.events = (uintptr_t)&one;
	r.cap = 1;
	ioctl(fd, COWTRACE_IOC_TRACE_READ, &r);
	*lost += r.lost;
	close(fd);
	add_run(row, t);
}

int main(int argc, char **argv)
{
	const char *top = getenv("COWTRACE_TOP");
	char script[512], pidarg[16];
	size_t mib = 1024;
	int reps = 4, bpf = 1;
	uint64_t lost = 0;
	struct row empty_kretprobe = {
		.what = "bpftrace, an empty kretprobe on handle_mm_fault (the hook alone)"
	};
	struct row empty_kretfunc = {
		.what = "bpftrace, an empty kretfunc (fexit: BPF's own trampoline) on handle_mm_fault"
	};
	struct row off = { .what = "off" };
	struct row off_again = { .what = "off again (the baseline against itself: this run's resolution)" };
	struct row session = { .what = "cowtrace session (+reader)" };
	struct row off_every = { .what = "off" };
	struct row session_every = { .what = "cowtrace session (+reader)" };
	struct row cow_faults = { .what = "bpftrace cow-faults.bt (counting)" };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tiny"))
			mib = 8, reps = 1;
		else if (!strcmp(argv[i], "--no-bpftrace"))
			bpf = 0;
		else
			reps = 0;
		if (reps < 1) {
			fprintf(stderr, "usage: trace_bench [--mib N] [--reps R] [--tiny] [--no-bpftrace]\n");
			return 1;
		}
	}
	size_t len = mib << 20;

	snprintf(script, sizeof(script), "%s/scripts/cow-faults.bt", top ? top : ".");
	snprintf(pidarg, sizeof(pidarg), "%d", getpid());
	/*
	 * Every row runs once per round, so that a busy spell of the shared
	 * host, which only ever adds time, falls on all rows alike; each row
	 * gets as many runs as the baseline, and its best is the least
	 * disturbed.
	 */
	for (int i = 0; i < reps; i++) {
		run_untraced(&off, len, ONE_BYTE_A_PAGE);
		run_under_cowtrace(&session, len, ONE_BYTE_A_PAGE, &lost);
		run_untraced(&off_every, len, EVERY_BYTE);
		run_under_cowtrace(&session_every, len, EVERY_BYTE, &lost);
		if (bpf) {
			run_under_bpftrace(&empty_kretprobe,
					   (char *[]){ "bpftrace", "-e", EMPTY_KRETPROBE_PROGRAM, NULL },
					   len);
			run_under_bpftrace(&empty_kretfunc,
					   (char *[]){ "bpftrace", "-e", EMPTY_KRETFUNC_PROGRAM, NULL },
					   len);
			run_under_bpftrace(&cow_faults,
					   (char *[]){ "bpftrace", script, pidarg, "1", NULL }, len);
		}
		/* last in the round, as far from off's run as a round allows */
		run_untraced(&off_again, len, ONE_BYTE_A_PAGE);
	}

	printf("### Tracing overhead: fork, the child writes a byte of each page of %zu MiB (%zu COW copies), %d rounds\n\n",
	       mib, len / PAGE, reps);
	print_table_head();
	print_row(&off, &off);
	print_row(&off_again, &off);
	print_row(&empty_kretprobe, &off);
	print_row(&empty_kretfunc, &off);
	print_row(&session, &off);
	print_row(&cow_faults, &off);
	printf("\n### The same, the child writing every byte of the %zu MiB (memset)\n\n", mib);
	print_table_head();
	print_row(&off_every, &off_every);
	print_row(&session_every, &off_every);
	printf("\nThe %d sessions read %" PRIu64 " events; %" PRIu64 " were lost (ring full).\n",
	       2 * reps, drained, lost);
	return 0;
}
