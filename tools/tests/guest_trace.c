// SPDX-License-Identifier: GPL-2.0
/*
 * The tracer on a real kernel, cross-checked three ways.  A puppet fills a
 * region and forks; the child writes N shared pages, the parent then writes
 * M pages, some the child has already copied and some still shared.  The
 * kernel's rules predict every fault exactly, and the test states the
 * numbers; the module's events, scripts/cow-faults.bt (bpftrace, other probe
 * points, no module) and the snapshots' diff must each give those numbers,
 * page by page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <sys/syscall.h>

#include "../bpftrace_run.h"
#include "../tracer.h"
#include "guest_util.h"

#define REGION_PAGES 64
/* The child writes pages [0, CHILD_N): each a copy of a shared page. */
#define CHILD_N 10
/*
 * The parent writes [PARENT_FIRST, PARENT_FIRST + PARENT_M): the first
 * CHILD_N - PARENT_FIRST of them the child already copied, so the parent is
 * their last user and reuses them; the rest are still shared, so it copies.
 * A page still in a per-CPU LRU batch holds a reference that turns a reuse
 * into a copy; puppets run on one CPU (puppet.c says why), and these pages
 * are written early in the fill besides.
 */
#define PARENT_FIRST 5
#define PARENT_M 10
#define PARENT_REUSES (CHILD_N - PARENT_FIRST)
#define PARENT_COPIES (PARENT_M - PARENT_REUSES)

#define MAX_EVENTS 65536

struct events {
	struct cowtrace_event *ev;
	size_t n;
};

/* Everything queued now; the session must have lost nothing. */
static void drain(struct ct_tracer *t, struct events *e)
{
	struct ct_error err;
	int n;

	do {
		n = ct_trace_read(t, e->ev + e->n, MAX_EVENTS - e->n, 1, &err);
		if (n < 0)
			FAIL("%s", err.msg);
		e->n += n;
	} while (n > 0 && e->n < MAX_EVENTS);
	ASSERT_EQ(t->lost, 0);
}

static struct events *events_new(void)
{
	struct events *e = calloc(1, sizeof(*e));

	ASSERT_TRUE(e);
	e->ev = calloc(MAX_EVENTS, sizeof(*e->ev));
	ASSERT_TRUE(e->ev);
	return e;
}

/* --- bpftrace, as an independent witness ------------------------------- */

static void witness_start(struct bpftrace_run *w, pid_t target)
{
	const char *top = getenv("COWTRACE_TOP");
	char script[512], arg[16];
	const char *why;

	snprintf(script, sizeof(script), "%s/scripts/cow-faults.bt", top ? top : ".");
	snprintf(arg, sizeof(arg), "%d", (int)target);
	if (bpftrace_start(w, (char *[]){ "bpftrace", script, arg, NULL }, 90, &why))
		FAIL("%s: see %s", why, w->out);
}

struct bt_fault {
	pid_t pid;
	char kind[8];
	uint64_t addr;
};

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* Stop bpftrace and return its COW lines (kind: copy, reuse, other). */
static size_t witness_stop(struct bpftrace_run *w, struct bt_fault *out, size_t cap)
{
	char line[256];
	size_t n = 0;
	FILE *f;

	/*
	 * bpftrace prints each fault as it polls it: let the output settle
	 * before stopping it.  Its exit (detaching kprobes) can take minutes on
	 * the KASAN kernels under TCG; past a bound it is killed, which can only
	 * lose lines and so fail the counts below, never pass them.
	 */
	for (int tenths = 0, same = 0; same < 10 && tenths < 100; tenths++) {
		off_t before = file_size(w->out);

		usleep(100 * 1000);
		same = file_size(w->out) == before ? same + 1 : 0;
	}
	if (bpftrace_stop(w, 240))
		printf("# bpftrace had not exited 240 s after it was stopped: killed\n");
	f = fopen(w->out, "r");
	ASSERT_TRUE(f);
	while (fgets(line, sizeof(line), f) && n < cap) {
		struct bt_fault b;

		if (sscanf(line, "COW %d %7s %" SCNx64, &b.pid, b.kind, &b.addr) == 3)
			out[n++] = b;
	}
	fclose(f);
	unlink(w->out);
	return n;
}

/* --- the workload ------------------------------------------------------ */

/*
 * Event times are CLOCK_MONOTONIC advanced by the kernel's local clock
 * (docs/abi.md): they may stray from clock_gettime() by that clock's drift
 * over a session, microseconds here, far below this.
 */
#define TIME_SLACK_NS (20 * 1000 * 1000ull)

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int in_region(uint64_t addr, uint64_t buf)
{
	return addr >= buf && addr < buf + REGION_PAGES * PAGE;
}

/* 4 KiB pages mapped writable (PMDs count 512), from a snapshot. */
static uint64_t writable_pages(const struct ct_snapshot *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->nr_pages; i++)
		n += PTE(&s->pages[i], PRESENT) && PTE(&s->pages[i], WRITE);
	return n;
}

/* Did this event leave a writable entry behind? */
static int makes_writable(const struct cowtrace_event *e)
{
	switch (e->kind) {
	case COWTRACE_EV_WP_COPY:
	case COWTRACE_EV_WP_REUSE:
	case COWTRACE_EV_WP_SHARED:
	case COWTRACE_EV_WP_ZERO:
		return 1;
	case COWTRACE_EV_ANON_NEW:
		return !!(e->flags & COWTRACE_EVF_WRITE);
	default:
		return 0;
	}
}

static uint64_t pages_of(const struct cowtrace_event *e)
{
	return e->flags & COWTRACE_EVF_PMD ? 512 : 1;
}

/* Writable pages pid's events added in events [from, to). */
static uint64_t writable_gained(const struct events *e, size_t from, size_t to,
				pid_t pid)
{
	uint64_t n = 0;

	for (size_t i = from; i < to; i++)
		if (e->ev[i].pid == (uint32_t)pid && makes_writable(&e->ev[i]))
			n += pages_of(&e->ev[i]);
	return n;
}

TEST_TIMEOUT(cow_events_agree_with_bpftrace_and_snapshots, 600)
{
	struct ct_snapshot p_before_fork, p_forked, c_forked, p_end, c_end;
	struct bt_fault bt[4096];
	struct events *e = events_new();
	struct puppet p, c;
	struct ct_tracer t;
	struct ct_error err;
	struct bpftrace_run w;
	size_t n_bt, at_fill, at_fork_snap, fork_idx = (size_t)-1;
	uint64_t buf, before_fill_ns, after_fill_ns;
	int child_copy = 0, parent_reuse = 0, parent_copy = 0, anon_new = 0;

	ct_step("spawn the puppet");
	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, REGION_PAGES * PAGE, 0, PROT_READ | PROT_WRITE);
	/* small pages only: bpftrace's probes do not see PMD-level faults */
	ASSERT_EQ(must_call(&p, PUP_MADVISE, buf, REGION_PAGES * PAGE, MADV_NOHUGEPAGE), 0);

	ct_step("start bpftrace (scripts/cow-faults.bt)");
	witness_start(&w, p.pid);
	ct_step("start the module's trace");
	before_fill_ns = monotonic_ns();
	if (ct_trace_start(&t, p.pid, 1, &err))
		FAIL("%s", err.msg);

	/* fill: every page a first-touch write fault */
	ct_step("fill the region");
	must_call(&p, PUP_WRITE, buf, REGION_PAGES * PAGE, 0x11);
	after_fill_ns = monotonic_ns();
	drain(&t, e);
	at_fill = e->n;
	ct_step("snapshot, fork, snapshot both");
	snap_checked(p.pid, &p_before_fork);
	must_fork(&p, &c);
	snap_checked(p.pid, &p_forked);
	snap_checked(c.pid, &c_forked);
	drain(&t, e);
	at_fork_snap = e->n;

	ct_step("child and parent write");
	must_call(&c, PUP_WRITE, buf, CHILD_N * PAGE, 0x22);
	must_call(&p, PUP_WRITE, buf + PARENT_FIRST * PAGE, PARENT_M * PAGE, 0x33);
	snap_checked(p.pid, &p_end);
	snap_checked(c.pid, &c_end);
	drain(&t, e);
	ct_step("stop the module's trace");
	if (ct_trace_stop(&t, &err))
		FAIL("%s", err.msg);
	drain(&t, e);
	ct_step("stop bpftrace");
	n_bt = witness_stop(&w, bt, sizeof(bt) / sizeof(bt[0]));

	ct_step("check");
	/* 1. The module's events, against the kernel's rules. */
	for (size_t i = 0; i < e->n; i++) {
		const struct cowtrace_event *ev = &e->ev[i];
		uint64_t pg = (ev->address - buf) / PAGE;

		if (ev->kind == COWTRACE_EV_FORK && ev->pid == (uint32_t)p.pid) {
			ASSERT_EQ(fork_idx, (size_t)-1);
			fork_idx = i;
			EXPECT_EQ(ev->child_pid, c.pid);
			EXPECT_FALSE(ev->flags & COWTRACE_EVF_VFORK);
		}
		if (ev->kind == COWTRACE_EV_FORK || ev->kind == COWTRACE_EV_EXIT ||
		    !in_region(ev->address, buf))
			continue;
		if (i < at_fill) {
			/*
			 * the fill: first touches by the parent, nothing else,
			 * stamped in CLOCK_MONOTONIC while it ran (give or
			 * take the local clock's drift: TIME_SLACK_NS)
			 */
			EXPECT_GE(ev->time_ns + TIME_SLACK_NS, before_fill_ns);
			EXPECT_LE(ev->time_ns, after_fill_ns + TIME_SLACK_NS);
			EXPECT_EQ(ev->kind, COWTRACE_EV_ANON_NEW);
			EXPECT_EQ(ev->pid, p.pid);
			EXPECT_EQ(ev->old_pfn, 0);
			EXPECT_EQ(ev->new_pfn, page_at(&p_before_fork, ev->address)->pfn);
			anon_new++;
			continue;
		}
		/* nothing in the region faults between the fill and the writes */
		EXPECT_GE(i, at_fork_snap);
		EXPECT_EQ(ev->vma_start, buf);
		EXPECT_EQ(ev->vma_end, buf + REGION_PAGES * PAGE);
		if (ev->pid == (uint32_t)c.pid) {
			EXPECT_EQ(ev->kind, COWTRACE_EV_WP_COPY);
			EXPECT_LE(pg, CHILD_N - 1);
			EXPECT_EQ(ev->old_pfn, page_at(&c_forked, ev->address)->pfn);
			EXPECT_EQ(ev->new_pfn, page_at(&c_end, ev->address)->pfn);
			child_copy++;
		} else if (pg < CHILD_N) {
			EXPECT_EQ(ev->pid, p.pid);
			EXPECT_EQ(ev->kind, COWTRACE_EV_WP_REUSE);
			EXPECT_GE(pg, PARENT_FIRST);
			EXPECT_EQ(ev->old_pfn, ev->new_pfn);
			EXPECT_EQ(ev->new_pfn, page_at(&p_end, ev->address)->pfn);
			parent_reuse++;
		} else {
			EXPECT_EQ(ev->pid, p.pid);
			EXPECT_EQ(ev->kind, COWTRACE_EV_WP_COPY);
			EXPECT_LE(pg, PARENT_FIRST + PARENT_M - 1);
			EXPECT_EQ(ev->old_pfn, page_at(&p_forked, ev->address)->pfn);
			EXPECT_EQ(ev->new_pfn, page_at(&p_end, ev->address)->pfn);
			parent_copy++;
		}
	}
	EXPECT_EQ(anon_new, REGION_PAGES);
	EXPECT_EQ(child_copy, CHILD_N);
	EXPECT_EQ(parent_reuse, PARENT_REUSES);
	EXPECT_EQ(parent_copy, PARENT_COPIES);
	ASSERT_NE(fork_idx, (size_t)-1);

	/*
	 * 2. The fork event, against the snapshots.  The parent's writable
	 * pages before and after fork differ by what fork write-protected, less
	 * what the parent's own faults made writable again in between.
	 */
	EXPECT_GE(fork_idx, at_fill);
	EXPECT_EQ(writable_pages(&p_forked),
		  writable_pages(&p_before_fork) +
			  writable_gained(e, at_fill, at_fork_snap, p.pid) -
			  e->ev[fork_idx].fork_wrprotected);
	EXPECT_GE(e->ev[fork_idx].fork_wrprotected, REGION_PAGES);
	EXPECT_GE(e->ev[fork_idx].fork_ptes, REGION_PAGES);

	/* 3. The snapshots' diff, page by page, against the events. */
	for (int i = 0; i < REGION_PAGES; i++) {
		uint64_t a = buf + i * PAGE;
		const struct cowtrace_page *pf = page_at(&p_forked, a), *cf = page_at(&c_forked, a);
		const struct cowtrace_page *pe = page_at(&p_end, a), *ce = page_at(&c_end, a);
		int child_wrote = i < CHILD_N;
		int parent_wrote = i >= PARENT_FIRST && i < PARENT_FIRST + PARENT_M;

		/* after fork: shared and read-only in both */
		EXPECT_EQ(pf->pfn, cf->pfn);
		EXPECT_FALSE(PTE(pf, WRITE) || PTE(cf, WRITE));
		/* a copy is a new PFN, a reuse the same one made writable */
		EXPECT_EQ(ce->pfn != cf->pfn, child_wrote);
		EXPECT_EQ(PTE(ce, WRITE), child_wrote);
		EXPECT_EQ(pe->pfn != pf->pfn, parent_wrote && !child_wrote);
		EXPECT_EQ(PTE(pe, WRITE), parent_wrote);
	}

	/* 4. bpftrace, from its own probe points, saw the same faults. */
	{
		int bt_child_copy = 0, bt_parent_reuse = 0, bt_parent_copy = 0;

		for (size_t i = 0; i < n_bt; i++) {
			uint64_t pg = (bt[i].addr - buf) / PAGE;

			if (!in_region(bt[i].addr, buf))
				continue;
			if (bt[i].pid == c.pid && !strcmp(bt[i].kind, "copy") && pg < CHILD_N)
				bt_child_copy++;
			else if (bt[i].pid == p.pid && !strcmp(bt[i].kind, "reuse") &&
				 pg >= PARENT_FIRST && pg < CHILD_N)
				bt_parent_reuse++;
			else if (bt[i].pid == p.pid && !strcmp(bt[i].kind, "copy") &&
				 pg >= CHILD_N && pg < PARENT_FIRST + PARENT_M)
				bt_parent_copy++;
			else
				ct_fail(__FILE__, __LINE__, "bpftrace saw an unpredicted fault: pid %d %s page %" PRIu64,
					bt[i].pid, bt[i].kind, pg);
		}
		EXPECT_EQ(bt_child_copy, CHILD_N);
		EXPECT_EQ(bt_parent_reuse, PARENT_REUSES);
		EXPECT_EQ(bt_parent_copy, PARENT_COPIES);
	}

	/* 5. The module's counters, against the events it handed out. */
	{
		uint64_t per_kind[COWTRACE_EV_NR_KINDS] = { 0 };

		for (size_t i = 0; i < e->n; i++)
			per_kind[e->ev[i].kind]++;
		for (int k = 1; k < COWTRACE_EV_NR_KINDS; k++)
			EXPECT_EQ(per_kind[k], t.kind_counts[k]);
		for (size_t i = 1; i < e->n; i++)
			EXPECT_EQ(e->ev[i].seq, e->ev[i - 1].seq + 1);
	}

	ct_trace_close(&t);
	ct_snapshot_free(&p_before_fork);
	ct_snapshot_free(&p_forked);
	ct_snapshot_free(&c_forked);
	ct_snapshot_free(&p_end);
	ct_snapshot_free(&c_end);
	puppet_kill(&c);
	puppet_kill(&p);
}

/* --- the ABI's errors, and the session's life cycle --------------------- */

static int start_raw(int fd, pid_t pid, uint64_t flags, uint32_t reserved)
{
	struct cowtrace_trace_start a = {
		.size = sizeof(a), .flags = flags, .pid = pid, .reserved = reserved,
	};

	return ioctl(fd, COWTRACE_IOC_TRACE_START, &a) ? errno : 0;
}

static int read_raw(int fd, struct cowtrace_trace_read *a)
{
	return ioctl(fd, COWTRACE_IOC_TRACE_READ, a) ? errno : 0;
}

static int stop_raw(int fd, uint64_t flags)
{
	struct cowtrace_trace_stop a = { .size = sizeof(a), .flags = flags };

	return ioctl(fd, COWTRACE_IOC_TRACE_STOP, &a) ? errno : 0;
}

TEST(trace_errors_and_lifecycle)
{
	int fd = open(CT_CTL_PATH, O_RDONLY), fd2 = open(CT_CTL_PATH, O_RDONLY);
	struct cowtrace_event ev[4];
	struct cowtrace_trace_read r = {
		.size = sizeof(r), .events = (uintptr_t)ev, .cap = 4,
	};
	struct cowtrace_version v = { .size = sizeof(v) };

	ASSERT_GE(fd, 0);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(ioctl(fd, COWTRACE_IOC_VERSION, &v), 0);
	EXPECT_TRUE(v.features & COWTRACE_FEAT_TRACE);
	/* bad input changes nothing */
	EXPECT_EQ(start_raw(fd, getpid(), 1ull << 40, 0), EINVAL);
	EXPECT_EQ(start_raw(fd, getpid(), 0, 1), EINVAL);
	EXPECT_EQ(start_raw(fd, 0, 0, 0), ESRCH);
	EXPECT_EQ(start_raw(fd, -5, 0, 0), ESRCH);
	EXPECT_EQ(start_raw(fd, 4194304, 0, 0), ESRCH);
	EXPECT_EQ(stop_raw(fd, 0), ENOENT);
	/* one session at a time */
	ASSERT_EQ(start_raw(fd, getpid(), 0, 0), 0);
	EXPECT_EQ(start_raw(fd2, getpid(), 0, 0), EBUSY);
	EXPECT_EQ(stop_raw(fd, 1), EINVAL);
	r.cap = 0;
	EXPECT_EQ(read_raw(fd, &r), EINVAL);
	r.cap = 4;
	r.flags = 1ull << 7;
	EXPECT_EQ(read_raw(fd, &r), EINVAL);
	r.flags = COWTRACE_READ_NONBLOCK;
	r.events = 0;
	EXPECT_EQ(read_raw(fd, &r), EFAULT);
	r.events = (uintptr_t)ev;
	/* drain what this process did, then: nothing waiting */
	while (read_raw(fd, &r) == 0 && r.count)
		;
	EXPECT_EQ(read_raw(fd, &r), EAGAIN);
	/* closing the file that started it ends the session */
	close(fd);
	ASSERT_EQ(start_raw(fd2, getpid(), 0, 0), 0);
	EXPECT_EQ(stop_raw(fd2, 0), 0);
	/* stopped and drained: reads return nothing, without blocking */
	r.flags = 0;
	while (read_raw(fd2, &r) == 0 && r.count)
		;
	EXPECT_EQ(read_raw(fd2, &r), 0);
	EXPECT_EQ(r.count, 0);
	EXPECT_EQ(r.active, 0);
	close(fd2);
}

/*
 * Loading and unloading the module: its build is $COWTRACE_KO, which vm-run
 * sets.  Each returns 0 or an errno.
 */
static int unload_module(void)
{
	return syscall(SYS_delete_module, "cowtrace", O_NONBLOCK) ? errno : 0;
}

static int load_module(const char *params)
{
	const char *ko = getenv("COWTRACE_KO");
	int fd, err = 0;

	if (!ko)
		return ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		err = errno;
	close(fd);
	return err;
}

/* The module again, with load-time parameters; not loaded if that failed. */
static int reload_module(const char *params)
{
	int err = unload_module();

	return err ? err : load_module(params);
}

/* Back to the module as the suite loads it, whatever the test did. */
static void restore_module(void)
{
	int err = 0;

	if (!access("/sys/module/cowtrace", F_OK))
		err = unload_module();
	if (!err)
		err = load_module("");
	if (err)
		FAIL("cannot reload the module without parameters: %s: the tests after this one will fail",
		     strerror(err));
}

/*
 * A kernel without one of the probe points: refuse, and name it.  The
 * probe point is a load-time parameter (read-only once loaded, so root
 * cannot move the kretprobe to another function): load the module naming a
 * function no kernel has.
 */
TEST(missing_probe_point_is_refused_and_named)
{
	const char *param = "/sys/module/cowtrace/parameters/fault_symbol";
	struct cowtrace_trace_start a = { .size = sizeof(a), .pid = getpid() };
	struct ct_tracer t;
	struct ct_error err;
	int fd, ret, e;
	pid_t child;

	if (!getenv("COWTRACE_KO"))
		SKIP("COWTRACE_KO is not set: the module cannot be reloaded");
	/* once loaded, the parameter cannot be written, even by root */
	EXPECT_NE(write_file(param, "cowtrace_no_such_function"), 0);
	ret = reload_module("fault_symbol=cowtrace_no_such_function");
	if (ret) {
		restore_module();
		FAIL("reloading the module with fault_symbol=: %s", strerror(ret));
	}
	/* in a child, so that the module is restored however it ends */
	child = fork();
	if (child < 0)
		restore_module();
	ASSERT_GE(child, 0);
	if (child == 0) {
		fd = open(CT_CTL_PATH, O_RDONLY);
		ASSERT_GE(fd, 0);
		ret = ioctl(fd, COWTRACE_IOC_TRACE_START, &a);
		e = errno;
		EXPECT_EQ(ret, -1);
		EXPECT_EQ(e, ENOENT);
		EXPECT_EQ(strcmp(a.missing, "cowtrace_no_such_function"), 0);
		/* the tool says the same to the user */
		EXPECT_NE(ct_trace_start(&t, getpid(), 0, &err), 0);
		EXPECT_TRUE(strstr(err.msg, "cowtrace_no_such_function") != NULL);
		EXPECT_NE(write_file(param, "handle_mm_fault"), 0);
		close(fd);
		_exit(ct_failed() ? 1 : 0);
	}
	waitpid(child, &ret, 0);
	restore_module();
	EXPECT_TRUE(WIFEXITED(ret) && WEXITSTATUS(ret) == 0);
	/* and nothing was left registered: a session starts once it is back */
	fd = open(CT_CTL_PATH, O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(ioctl(fd, COWTRACE_IOC_TRACE_START, &a), 0);
	close(fd);
}

/*
 * ring_events takes 1 to 2^24: anything else is refused, written or given
 * at load (above 2^31 the ring's rounding up to a power of two wrapped to 0,
 * and vmalloc(0) warned).
 */
TEST(ring_events_out_of_range_is_refused)
{
	static const char *const bad[] = { "0", "16777217", "2147483649",
					   "4294967295", "-1", "lots" };
	const char *param = "/sys/module/cowtrace/parameters/ring_events";
	long old = read_long(param);
	char arg[64];

	ASSERT_GT(old, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_NE(write_file(param, bad[i]), 0);
		EXPECT_EQ(read_long(param), old);
	}
	ASSERT_EQ(write_file(param, "16777216"), 0);
	EXPECT_EQ(read_long(param), 16777216);
	snprintf(arg, sizeof(arg), "%ld", old);
	ASSERT_EQ(write_file(param, arg), 0);
	if (!getenv("COWTRACE_KO"))
		SKIP("COWTRACE_KO is not set: the module cannot be reloaded");
	for (size_t i = 0; i < 4; i++) {
		snprintf(arg, sizeof(arg), "ring_events=%s", bad[i]);
		EXPECT_EQ(reload_module(arg), EINVAL);
		restore_module();
	}
}

/* A full ring drops new events and counts every one of them. */
TEST(lost_events_are_counted)
{
	const char *param = "/sys/module/cowtrace/parameters/ring_events";
	struct events *e = events_new();
	long old = read_long(param);
	struct ct_tracer t;
	struct ct_error err;
	struct puppet p;
	uint64_t buf, produced = 0;
	char oldval[32];
	int n;

	ASSERT_GT(old, 0);
	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, REGION_PAGES * PAGE, 0, PROT_READ | PROT_WRITE);
	ASSERT_EQ(write_file(param, "16"), 0);
	if (ct_trace_start(&t, p.pid, 0, &err))
		FAIL("%s", err.msg);
	snprintf(oldval, sizeof(oldval), "%ld", old);
	write_file(param, oldval);
	EXPECT_EQ(t.ring_events, 16);
	must_call(&p, PUP_MADVISE, buf, REGION_PAGES * PAGE, MADV_NOHUGEPAGE);
	must_call(&p, PUP_WRITE, buf, REGION_PAGES * PAGE, 0x11);
	n = ct_trace_read(&t, e->ev, MAX_EVENTS, 1, &err);
	ASSERT_EQ(n, 16);
	for (int k = 1; k < COWTRACE_EV_NR_KINDS; k++)
		produced += t.kind_counts[k];
	EXPECT_GE(produced, REGION_PAGES);
	EXPECT_EQ(t.lost, produced - 16);
	/* the first 16 are kept, numbered 1..16: the gap starts after them */
	for (int i = 0; i < n; i++)
		EXPECT_EQ(e->ev[i].seq, i + 1);
	ct_trace_close(&t);
	puppet_kill(&p);
}

/*
 * A traced fork of a process with a huge, nearly empty mapping: 32 TiB,
 * read-only so that nothing is accounted, with one page read in.  The fork
 * probes count the VMA's entries three times with preemption off.  A step
 * per 2 MiB is 50 million steps, the CPU stalled for seconds (minutes under
 * TCG: a soft lockup); skipping the empty upper levels it is a few thousand.
 * The fork event must arrive, and the fork return (the test's timeout is
 * the hang bound); KUnit's count_range_skips_empty_upper_levels counts the
 * steps themselves, which is what fails without the skip.
 */
TEST_TIMEOUT(traced_fork_of_a_huge_sparse_mapping_does_not_stall, 180)
{
	const uint64_t len = 32ull << 40;
	struct events *e = events_new();
	uint64_t buf, t0, untraced, traced;
	struct puppet p, c;
	struct ct_tracer t;
	struct ct_error err;
	int forks = 0;

	must_spawn(&p);
	ct_step("map 32 TiB read-only and read one page of it");
	buf = puppet_call(&p, PUP_MMAP, len, 0, PROT_READ);
	if (buf == (uint64_t)-1)
		SKIP("no 32 TiB hole in the puppet's address space: %s", strerror(errno));
	must_call(&p, PUP_READ, buf + len / 2, PAGE, 0);
	ct_step("untraced fork, for the time it takes");
	t0 = monotonic_ns();
	must_fork(&p, &c);
	untraced = monotonic_ns() - t0;
	puppet_kill(&c);
	if (ct_trace_start(&t, p.pid, 0, &err))
		FAIL("%s", err.msg);
	ct_step("traced fork of a puppet with a 32 TiB mapping");
	t0 = monotonic_ns();
	must_fork(&p, &c);
	traced = monotonic_ns() - t0;
	ct_step("stop the trace, read the fork event");
	if (ct_trace_stop(&t, &err))
		FAIL("%s", err.msg);
	drain(&t, e);
	for (size_t i = 0; i < e->n; i++) {
		if (e->ev[i].kind != COWTRACE_EV_FORK || e->ev[i].pid != (uint32_t)p.pid)
			continue;
		forks++;
		EXPECT_EQ(e->ev[i].child_pid, c.pid);
	}
	/* for the reader, not a bound: times are the benchmarks' business */
	printf("# fork with a 32 TiB mapping: %.3f s untraced, %.3f s traced\n",
	       untraced / 1e9, traced / 1e9);
	EXPECT_EQ(forks, 1);
	ct_trace_close(&t);
	puppet_kill(&c);
	puppet_kill(&p);
}

/* One blocking TRACE_READ on another thread, so the test can watch it. */
struct blocked_read {
	int fd;
	struct cowtrace_event ev[512];
	struct cowtrace_trace_read r;
	int err;
	volatile int done;
};

static void *blocked_read_thread(void *arg)
{
	struct blocked_read *b = arg;

	b->r = (struct cowtrace_trace_read){
		.size = sizeof(b->r), .events = (uintptr_t)b->ev, .cap = 512,
	};
	b->err = read_raw(b->fd, &b->r);
	b->done = 1;
	return NULL;
}

/*
 * A blocked read returns the events of a running session, not only at stop,
 * round after round: it waits out the batch window on the empty ring, sleeps
 * until the first event wakes it, then gathers a batch (the last round's is
 * more than the 256 a batch holds).  The wait bound is for a hang, far
 * beyond the 10 ms a read waits for its batch; no time is measured.
 */
TEST(blocked_reads_return_events_while_the_session_runs)
{
	static const int writes[] = { 2, 3, 300 }; /* pages, round by round */
	int fd = open(CT_CTL_PATH, O_RDONLY);
	struct blocked_read b = { .fd = fd };
	uint64_t buf, off = 0;
	struct puppet p;
	pthread_t th;

	ASSERT_GE(fd, 0);
	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, 512 * PAGE, 0, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_MADVISE, buf, 512 * PAGE, MADV_NOHUGEPAGE);
	ASSERT_EQ(start_raw(fd, p.pid, 0, 0), 0);
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		int waited_ms = 0;

		b.done = 0;
		ASSERT_EQ(pthread_create(&th, NULL, blocked_read_thread, &b), 0);
		usleep(50 * 1000); /* let it block on the empty ring */
		EXPECT_FALSE(b.done);
		/* each first write to a page: one anon-new event */
		must_call(&p, PUP_WRITE, buf + off * PAGE, writes[i] * PAGE, 0x11);
		off += writes[i];
		while (!b.done && waited_ms < 10000) {
			usleep(1000);
			waited_ms++;
		}
		if (!b.done)
			stop_raw(fd, 0); /* unblocks it, so the test can end */
		pthread_join(th, NULL);
		ASSERT_TRUE(waited_ms < 10000);
		EXPECT_EQ(b.err, 0);
		EXPECT_GE(b.r.count, 1);
		EXPECT_TRUE(b.r.active);
		/* what that read left is for the next round to count from 0 */
		b.r.flags = COWTRACE_READ_NONBLOCK;
		while (read_raw(fd, &b.r) == 0 && b.r.count)
			;
	}
	EXPECT_EQ(stop_raw(fd, 0), 0);
	close(fd);
	puppet_kill(&p);
}

/* --- io_uring, raw: reads of one file that no f_pos_lock serialises ---- */

struct uring {
	int fd;
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int uring_init(struct uring *u, unsigned int entries)
{
	struct io_uring_params p;
	char *sq, *cq;

	memset(&p, 0, sizeof(p));
	u->fd = syscall(__NR_io_uring_setup, entries, &p);
	if (u->fd < 0)
		return -1;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned int),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		  IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		       IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || u->sqes == MAP_FAILED)
		return -1;
	u->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned int *)(sq + p.sq_off.array);
	u->cq_head = (unsigned int *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/*
 * n reads of len bytes of fd at once, each into bufs + i * len, all sent to
 * io_uring's workers (IOSQE_ASYNC), which run them side by side; res[i]: what
 * read i returned.  -1 if io_uring itself failed.
 */
static int uring_reads(struct uring *u, int fd, char *bufs, unsigned int len,
		       unsigned int n, int *res)
{
	unsigned int tail = *u->sq_tail, head;

	for (unsigned int i = 0; i < n; i++, tail++) {
		unsigned int idx = tail & *u->sq_mask;
		struct io_uring_sqe *sqe = &u->sqes[idx];

		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_READ;
		sqe->flags = IOSQE_ASYNC;
		sqe->fd = fd;
		sqe->addr = (uintptr_t)(bufs + i * len);
		sqe->len = len;
		sqe->user_data = i;
		u->sq_array[idx] = idx;
	}
	__atomic_store_n(u->sq_tail, tail, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, u->fd, n, n, IORING_ENTER_GETEVENTS,
		    NULL, 0) != (long)n)
		return -1;
	head = *u->cq_head;
	for (unsigned int got = 0; got < n; got++, head++) {
		struct io_uring_cqe *cqe;

		if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
			return -1;
		cqe = &u->cqes[head & *u->cq_mask];
		res[cqe->user_data] = cqe->res;
	}
	__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
	return 0;
}

/* The 'trace' file's "events N" and "lost N": produced and lost so far. */
static void trace_file_counts(uint64_t *events, uint64_t *lost)
{
	FILE *f = fopen("/sys/kernel/debug/cowtrace/trace", "r");
	char line[128];

	ASSERT_TRUE(f);
	*events = *lost = (uint64_t)-1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "events %" SCNu64, events);
		sscanf(line, "lost %" SCNu64, lost);
	}
	fclose(f);
}

/*
 * Overlapping reads of one open 'events' file, as io_uring's workers make
 * them (they take no f_pos_lock): each read must take its bytes whole from
 * the line it was handed, so that together they are every event's line
 * exactly once.  Unserialised, two reads formatted events into the one line
 * at once, left its offset past its length, and copied from beyond it: NULs
 * and other bytes no line has, and lines lost or doubled.  A race: a module
 * without the reader's lock fails this often, not on every run.
 */
TEST_TIMEOUT(overlapping_events_reads_hand_out_each_line_once, 300)
{
	enum { PAGES = 8192, DEPTH = 32, LEN = 5 };
	uint64_t produced, lost, lines = 0, bad = 0, buf;
	int res[DEPTH], fd = must_open_ctl(), efd, empty = 0;
	char bufs[DEPTH * LEN];
	struct uring u;
	struct puppet p;

	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, PAGES * PAGE, 0, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_MADVISE, buf, PAGES * PAGE, MADV_NOHUGEPAGE);
	ct_step("queue %d events: a traced puppet's first touches", PAGES);
	ASSERT_EQ(start_raw(fd, p.pid, 0, 0), 0);
	must_call(&p, PUP_WRITE, buf, PAGES * PAGE, 0x11);
	ASSERT_EQ(stop_raw(fd, 0), 0);
	trace_file_counts(&produced, &lost);
	ASSERT_EQ(lost, 0);
	ASSERT_GE(produced, PAGES);
	efd = open("/sys/kernel/debug/cowtrace/events", O_RDONLY);
	ASSERT_GE(efd, 0);
	if (uring_init(&u, DEPTH))
		SKIP("no io_uring here: %s", strerror(errno));
	ct_step("drain 'events' with %d overlapping %d-byte reads at a time", DEPTH, LEN);
	/* stopped: no read blocks, and one that finds the ring drained is EOF */
	while (empty < DEPTH) {
		ASSERT_EQ(uring_reads(&u, efd, bufs, LEN, DEPTH, res), 0);
		empty = 0;
		for (int i = 0; i < DEPTH; i++) {
			ASSERT_GE(res[i], 0);
			ASSERT_LE(res[i], LEN);
			empty += res[i] == 0;
			for (int k = 0; k < res[i]; k++) {
				char c = bufs[i * LEN + k];

				lines += c == '\n';
				bad += c != '\n' && (c < ' ' || c > '~');
			}
		}
	}
	printf("# %" PRIu64 " events, %" PRIu64 " lines read, %" PRIu64 " bytes no line has\n",
	       produced, lines, bad);
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(lines, produced);
	close(u.fd);
	close(efd);
	close(fd);
	puppet_kill(&p);
}

/* The text interface: 'trace' starts and stops, 'events' streams lines. */
TEST(events_file_streams_and_ends_on_stop)
{
	const char *dir = "/sys/kernel/debug/cowtrace/";
	char path[128], cmd[64], line[512];
	int copies = 0, forks = 0, status;
	struct puppet p, c;
	pid_t reader;
	uint64_t buf;
	FILE *f;
	int pfd[2];

	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, 8 * PAGE, 0, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_WRITE, buf, 8 * PAGE, 0x11);
	snprintf(path, sizeof(path), "%strace", dir);
	snprintf(cmd, sizeof(cmd), "%d children", p.pid);
	ASSERT_EQ(write_file(path, cmd), 0);
	EXPECT_NE(write_file(path, "12 grandchildren"), 0);	/* EINVAL */
	ASSERT_EQ(pipe(pfd), 0);
	/* a reader blocked in read() before anything happens */
	reader = fork();
	ASSERT_GE(reader, 0);
	if (reader == 0) {
		char rb[4096];
		ssize_t n;
		int efd;

		snprintf(path, sizeof(path), "%sevents", dir);
		efd = open(path, O_RDONLY);
		if (efd < 0)
			_exit(2);
		while ((n = read(efd, rb, sizeof(rb))) > 0)
			if (write(pfd[1], rb, n) != n)
				_exit(3);
		_exit(n == 0 ? 0 : 4);
	}
	close(pfd[1]);
	must_fork(&p, &c);
	must_call(&c, PUP_WRITE, buf, 3 * PAGE, 0x22);
	snprintf(path, sizeof(path), "%strace", dir);
	ASSERT_EQ(write_file(path, "stop"), 0);
	/* the stop ends the blocked read with EOF once drained */
	f = fdopen(pfd[0], "r");
	ASSERT_TRUE(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		unsigned int pid;

		if (strstr(line, " fork child=")) {
			forks++;
			EXPECT_TRUE(strstr(line, " ptes=") && strstr(line, " wrprotected="));
		}
		if (sscanf(line, "%*u %*u.%*u %u/%*u cpu%*u wp-copy addr=0x%llx", &pid, &addr) == 2 &&
		    pid == (unsigned int)c.pid && addr >= buf && addr < buf + 3 * PAGE)
			copies++;
		EXPECT_FALSE(!strncmp(line, "lost", 4));
	}
	fclose(f);
	ASSERT_EQ(waitpid(reader, &status, 0), reader);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(forks, 1);
	EXPECT_EQ(copies, 3);
	puppet_kill(&c);
	puppet_kill(&p);
}
