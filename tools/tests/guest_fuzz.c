// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI under hostile input, on a real kernel (the debug kernel adds
 * KASAN, lockdep and DEBUG_VM; guest-suite fails on any splat).  A seeded
 * generator (fuzz_gen.h; COWTRACE_FUZZ_SEED replays a run): every call gets a random
 * command word, struct size, flags, reserved fields, ranges, PIDs and buffer
 * pointers (NULL, kernel addresses, unmapped memory, read-only memory,
 * buffers that end at a PROT_NONE guard page), and must succeed or fail
 * with an errno docs/abi.md lists.  Two threads on two fds race snapshots and trace
 * sessions against a target that forks and exits under them.
 *
 * Then what random calls rarely reach, explored exhaustively: SNAPSHOT with
 * every capacity at, just below and just above its documented minimum,
 * crossed, in every output mode, resumed to the end, against four targets
 * (thousands of named VMAs, a sparse 16 TiB reservation, a hugetlb page, a
 * THP being split); every debugfs file read by many threads at once, io_uring
 * workers included; junk written to every writable file; every module
 * parameter at its limits.  A watchdog names any call that does not come
 * back.  Iteration counts are fixed; nothing here is timed.
 *
 * fuzz_kcov sends the same generator's calls guided by coverage, on the
 * kernels with KCOV.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_exec.h"
#include "guest_util.h"
#include "watchdog.h"

#define ITERATIONS 6000
#define RACE_ROUNDS 300

/* The generator's calls (fuzz_gen.h), sent and judged by fuzz_exec.h. */
TEST_TIMEOUT(random_ioctls_return_documented_errnos, 600)
{
	struct fuzz_verdicts v = FUZZ_VERDICTS_INIT;
	int fd = must_open_ctl();
	struct puppet live;

	fuzz_exec_setup(fd, &live);
	for (int i = 0; i < ITERATIONS; i++) {
		struct fuzz_call c;
		int ret, err;

		fuzz_gen_call(&c);
		err = fuzz_exec(fd, &c, "random", i, &ret);
		fuzz_end_session(fd, &c, ret);
		fuzz_judge(&v, &c, ret, err);
	}
	stop_any_session(fd);
	print_errno_tally("random calls", &v.t);
	EXPECT_EQ(v.undocumented, 0);
	/* the generator reached the interesting answers, not only EINVAL */
	EXPECT_GT(v.t.ok, 0);
	EXPECT_GT(v.t.by_errno[EFAULT], 0);
	EXPECT_GT(v.t.by_errno[ESRCH], 0);
	EXPECT_GT(v.t.by_errno[ENOTTY], 0);
	puppet_kill(&live);
	close(fd);
}

/* ---- two fds against a target that forks and exits under them ---- */

struct racer {
	int fd;
	pid_t *target;		/* the current victim; changes under us */
	struct errno_tally t;	/* allowed: every documented errno */
};

static void *snapshot_racer(void *arg)
{
	struct racer *r = arg;
	struct cowtrace_vma *v = malloc(256 * sizeof(*v));
	struct cowtrace_page *p = malloc(4096 * sizeof(*p));
	char *names = malloc(4096);

	/* every other call writes runs into a buffer mapped from the module */
	if (mmap(NULL, 64 * PAGE, PROT_READ, MAP_SHARED, r->fd, 0) == MAP_FAILED)
		tally_errno(&r->t, errno);
	/*
	 * Between a target's exit and its replacement every call is a quick
	 * ESRCH: a fixed number of calls could all land in such gaps (it
	 * happened).  So ESRCH waits a little, and the racer goes on past its
	 * calls until one snapshot has succeeded, within a bound.
	 */
	for (int i = 0; i < RACE_ROUNDS * 400 && (i < RACE_ROUNDS * 4 || !r->t.ok); i++) {
		int err;
		struct cowtrace_snapshot s = {
			.size = sizeof(s), .pid = (uint32_t)__atomic_load_n(r->target, __ATOMIC_RELAXED),
			.start = 0, .end = 0x800000000000ull,
			.vmas = (uintptr_t)v, .pages = (uintptr_t)p, .names = (uintptr_t)names,
			.vma_cap = 256, .page_cap = 4096, .names_cap = 4096,
		};

		if (i % 2) {
			s.flags = COWTRACE_SNAP_RUNS | COWTRACE_SNAP_MMAP;
			s.pages = 0;
		}

		wd_begin("racing SNAPSHOT %d of pid %u, flags %#llx", i, s.pid,
			 (unsigned long long)s.flags);
		err = ioctl(r->fd, COWTRACE_IOC_SNAPSHOT, &s) ? errno : 0;
		wd_end();
		tally_errno(&r->t, err);
		if (err == ESRCH)
			usleep(100);
	}
	free(v);
	free(p);
	free(names);
	return NULL;
}

static void *trace_racer(void *arg)
{
	struct racer *r = arg;
	struct cowtrace_event ev[64];

	for (int i = 0; i < RACE_ROUNDS; i++) {
		struct cowtrace_trace_start st = {
			.size = sizeof(st), .flags = COWTRACE_TRACE_CHILDREN,
			.pid = (uint32_t)__atomic_load_n(r->target, __ATOMIC_RELAXED),
		};
		struct cowtrace_trace_read rd = {
			.size = sizeof(rd), .flags = COWTRACE_READ_NONBLOCK,
			.events = (uintptr_t)ev, .cap = 64,
		};
		struct cowtrace_trace_stop sp = { .size = sizeof(sp) };
		int calls[3];

		wd_begin("racing TRACE_START/READ/STOP %d of pid %u", i, st.pid);
		calls[0] = ioctl(r->fd, COWTRACE_IOC_TRACE_START, &st) ? errno : 0;
		calls[1] = ioctl(r->fd, COWTRACE_IOC_TRACE_READ, &rd) ? errno : 0;
		calls[2] = ioctl(r->fd, COWTRACE_IOC_TRACE_STOP, &sp) ? errno : 0;
		wd_end();
		for (int k = 0; k < 3; k++)
			tally_errno(&r->t, calls[k]);
	}
	return NULL;
}

/* A target that maps, writes, forks a child that writes and exits, and dies. */
static pid_t churning_target(void)
{
	pid_t p = fork();

	if (p == 0) {
		size_t len = 256 * PAGE;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		for (int round = 0; round < 200; round++) {
			pid_t c;

			memset(m, round, len);
			c = fork();
			if (c == 0) {
				memset(m, round + 1, len / 2);
				_exit(0);
			}
			munmap(m + (round % 8) * PAGE, PAGE);
			mprotect(m + 64 * PAGE, 8 * PAGE, round % 2 ? PROT_READ : PROT_READ | PROT_WRITE);
			madvise(m + 128 * PAGE, 32 * PAGE, MADV_DONTNEED);
			waitpid(c, NULL, 0);
			mprotect(m + 64 * PAGE, 8 * PAGE, PROT_READ | PROT_WRITE);
		}
		_exit(0);
	}
	return p;
}

TEST_TIMEOUT(two_fds_race_a_forking_exiting_target, 600)
{
	struct racer snap = { .fd = must_open_ctl(),
			      .t = { .allowed = fuzz_documented, .nr_allowed = FUZZ_NR_DOCUMENTED } };
	struct racer trace = { .fd = must_open_ctl(),
			       .t = { .allowed = fuzz_documented, .nr_allowed = FUZZ_NR_DOCUMENTED } };
	pthread_t ts, tt;
	pid_t target = churning_target();
	int targets = 1, status, ts_done = 0, tt_done = 0;

	snap.target = trace.target = &target;
	ASSERT_EQ(pthread_create(&ts, NULL, snapshot_racer, &snap), 0);
	ASSERT_EQ(pthread_create(&tt, NULL, trace_racer, &trace), 0);
	/* a new target each time the last one exits, until both threads end */
	while (!ts_done || !tt_done) {
		ts_done = ts_done || !pthread_tryjoin_np(ts, NULL);
		tt_done = tt_done || !pthread_tryjoin_np(tt, NULL);
		if (waitpid(target, &status, WNOHANG) == target) {
			__atomic_store_n(&target, churning_target(), __ATOMIC_RELAXED);
			targets++;
		}
		usleep(1000);
	}
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	stop_any_session(snap.fd);
	printf("# %d targets\n", targets);
	print_errno_tally("snapshots", &snap.t);
	print_errno_tally("trace start/read/stop", &trace.t);
	EXPECT_EQ(snap.t.unexpected, 0);
	EXPECT_EQ(trace.t.unexpected, 0);
	EXPECT_GT(snap.t.ok, 0);
	EXPECT_GT(trace.t.ok, 0);
	close(snap.fd);
	close(trace.fd);
}

/* ---- targets: what the crossed snapshots are taken of ---- */

struct window {
	uint64_t start, end;	/* the range the capacities are crossed over */
	int err;		/* the child's setup failed with this errno */
};

struct target {
	const char *name;
	pid_t pid;
	struct window w;
	int churns;		/* its memory changes while it is snapshotted */
};

static void kill_target(struct target *t)
{
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
}

/*
 * A forked child that sets itself up, reports its window, then churns (until
 * killed) or waits in pause(), quiescent, so that its records hold still.
 * Returns -1 with why filled in when the child could not set itself up.
 */
static int spawn_target(struct target *t, int (*setup)(struct window *),
			void (*churn)(const struct window *), char *why, size_t whylen)
{
	int pfd[2];
	ssize_t n;

	ASSERT_EQ(pipe(pfd), 0);
	t->pid = fork();
	ASSERT_GE(t->pid, 0);
	if (t->pid == 0) {
		struct window w = { 0 };

		close(pfd[0]);
		w.err = setup(&w);
		if (write(pfd[1], &w, sizeof(w)) != sizeof(w) || w.err)
			_exit(0);
		if (churn)
			churn(&w);
		for (;;)
			pause();
	}
	close(pfd[1]);
	/* not a call of the module's: the test's own timeout bounds it (3000
	 * file mappings take minutes on a KASAN kernel under TCG) */
	n = read(pfd[0], &t->w, sizeof(t->w));
	close(pfd[0]);
	if (n == sizeof(t->w) && !t->w.err)
		return 0;
	snprintf(why, whylen, "target %s: %s", t->name,
		 n == sizeof(t->w) ? strerror(t->w.err) : "the child died setting up");
	kill_target(t);
	return -1;
}

/* (a) thousands of named VMAs */

#define NAMED_VMAS 3000		/* thousands, each a VMA of its own */
#define WINDOW_VMAS 128		/* crossed over these: two chunks of 64 VMAs */

/*
 * Three files whose names sit at the names buffer's edges once unlinked (the
 * kernel then appends " (deleted)", 10 bytes): 4095 bytes, PATH_MAX with its
 * NUL; 1010 bytes, four to a PATH_MAX; and 4100, which d_path() cannot fit
 * (ENAMETOOLONG: a file VMA reported without a name).
 */
static const size_t long_len[3] = { PATH_MAX - 11, 1000, PATH_MAX - 6 };

static struct {
	char base[64];
	char path[3][PATH_MAX];
	int fd[3];
} longf;

/* A file at exactly len bytes of path: directories of 250 'c's, then the name. */
static void make_long_file(int k, char c)
{
	char *path = longf.path[k], page[PAGE];
	size_t n = strlen(longf.base);

	memcpy(path, longf.base, n + 1);

	while (long_len[k] - n > 256) {
		path[n++] = '/';
		memset(path + n, c, 250);
		n += 250;
		path[n] = 0;
		ASSERT_TRUE(!mkdir(path, 0700) || errno == EEXIST);
	}
	path[n++] = '/';
	memset(path + n, 'f', long_len[k] - n);
	path[long_len[k]] = 0;
	longf.fd[k] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_GE(longf.fd[k], 0);
	memset(page, c, sizeof(page));
	for (int i = 0; i < 16; i++)
		ASSERT_EQ(pwrite(longf.fd[k], page, PAGE, i * PAGE), (ssize_t)PAGE);
}

static void make_long_files(void)
{
	snprintf(longf.base, sizeof(longf.base), "/tmp/cowtrace-fuzz.%d", (int)getpid());
	ASSERT_EQ(mkdir(longf.base, 0700), 0);
	for (int k = 0; k < 3; k++)
		make_long_file(k, (char)('a' + k));
}

/* Once the child has mapped them: nothing is left behind if we die. */
static void remove_long_files(void)
{
	size_t base_len = strlen(longf.base);

	for (int k = 0; k < 3; k++) {
		char *path = longf.path[k];

		unlink(path);
		close(longf.fd[k]);
		/* each directory up to (not including) base, deepest first */
		for (char *slash = strrchr(path, '/'); slash && (size_t)(slash - path) > base_len;
		     slash = strrchr(path, '/')) {
			*slash = 0;
			rmdir(path);
		}
	}
	rmdir(longf.base);
}

static int named_vmas_setup(struct window *w)
{
	char *base = mmap(NULL, NAMED_VMAS * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		return errno;
	for (int i = 0; i < NAMED_VMAS; i++) {
		/* neighbours differ in file and protection: no two merge */
		int prot = i % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
		char *m = mmap(base + i * PAGE, PAGE, prot, MAP_PRIVATE | MAP_FIXED,
			       longf.fd[i % 3], (i % 16) * PAGE);

		if (m == MAP_FAILED)
			return errno;
		if (i % 4 == 0)	/* and a page record now and then */
			(void)*(volatile char *)m;
	}
	w->start = (uintptr_t)base;
	w->end = w->start + WINDOW_VMAS * PAGE;
	return 0;
}

/* (b) a huge sparse reservation */

#define SPARSE_BYTES (16ull << 40)

static int sparse_setup(struct window *w)
{
	uint64_t len = SPARSE_BYTES;
	char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (m == MAP_FAILED) {	/* a smaller address space: 1 TiB still is sparse */
		len = 1ull << 40;
		m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (m == MAP_FAILED)
		return errno;
	/* khugepaged must not collapse anything: the record counts hold still */
	madvise(m, len, MADV_NOHUGEPAGE);
	/* sixteen reads map the zero page, each in page tables of its own */
	for (uint64_t k = 0; k < 16; k++)
		(void)*(volatile char *)(m + k * (len / 16) + k * (2ul << 20) + k * PAGE);
	/* two written places cut the reservation into four VMAs */
	if (mprotect(m + len / 2, 2 * PAGE, PROT_READ | PROT_WRITE) ||
	    mprotect(m + len - PAGE, PAGE, PROT_READ | PROT_WRITE))
		return errno;
	memset(m + len / 2, 1, 2 * PAGE);
	m[len - PAGE] = 1;
	w->start = (uintptr_t)m;
	w->end = w->start + len;
	return 0;
}

/* (c) a hugetlb page */

#define HUGE_BYTES (2ul << 20)
#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

static int hugetlb_setup(struct window *w)
{
	char *m = mmap(NULL, HUGE_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (m == MAP_FAILED)
		return errno;
	memset(m, 0x5a, HUGE_BYTES);
	w->start = (uintptr_t)m;
	w->end = w->start + HUGE_BYTES;
	return 0;
}

static void restore_hugepages(long was)
{
	char val[32];

	snprintf(val, sizeof(val), "%ld", was);
	if (write_file(NR_HUGEPAGES, val))
		printf("# could not put nr_hugepages back to %ld\n", was);
}

/* One more huge page than there was; returns the old count, or -1 and why. */
static long reserve_hugepage(char *why, size_t whylen)
{
	long was = read_long(NR_HUGEPAGES);
	char val[32];

	if (was < 0) {
		snprintf(why, whylen, "no %s (no hugetlb in this kernel)", NR_HUGEPAGES);
		return -1;
	}
	snprintf(val, sizeof(val), "%ld", was + 1);
	if (write_file(NR_HUGEPAGES, val) || read_long(NR_HUGEPAGES) < was + 1) {
		snprintf(why, whylen, "nr_hugepages stayed at %ld: no free 2 MiB of memory",
			 read_long(NR_HUGEPAGES));
		restore_hugepages(was);
		return -1;
	}
	return was;
}

/* (d) a THP being split */

#define THP_BYTES (2ul << 20)

static int thp_setup(struct window *w)
{
	char *raw = mmap(NULL, 2 * THP_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *m;

	if (raw == MAP_FAILED)
		return errno;
	m = (char *)(((uintptr_t)raw + THP_BYTES - 1) & ~(THP_BYTES - 1));
	if (madvise(m, THP_BYTES, MADV_HUGEPAGE))
		return errno;
	memset(m, 1, THP_BYTES);
	w->start = (uintptr_t)m;
	w->end = w->start + THP_BYTES;
	return 0;
}

/*
 * Split the THP every way a 4 KiB change inside it can, and now and then
 * make a fresh one to split again; until killed, while the caps are crossed.
 */
static void thp_churn(const struct window *w)
{
	char *m = (char *)(uintptr_t)w->start;

	for (unsigned int i = 0;; i++) {
		size_t off = (i * 37 % (THP_BYTES / PAGE - 16)) * PAGE;

		switch (i % 4) {
		case 0:	/* a 4 KiB mprotect splits the PMD mapping */
			mprotect(m + off, PAGE, PROT_READ);
			mprotect(m + off, PAGE, PROT_READ | PROT_WRITE);
			break;
		case 1:	/* dropping part of the folio splits it */
			madvise(m + off, 16 * PAGE, MADV_DONTNEED);
			break;
		case 2:	/* a hole, filled again */
			munmap(m + off, PAGE);
			mmap(m + off, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			break;
		default:
			if (i % 64 != 3)
				break;
			mmap(m, THP_BYTES, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			madvise(m, THP_BYTES, MADV_HUGEPAGE);
			memset(m, (int)i, THP_BYTES);
		}
		m[off] = (char)i;
	}
}

/* ---- buffer capacities at and near their minimums, crossed ---- */

#define LARGE_VMAS 8192u
#define LARGE_PAGES 65536u
#define LARGE_NAMES (16u << 20)
#define MAPPED_BYTES (16 * PAGE)	/* small, so that a large page_cap is clamped */

/*
 * Each capacity zero, one below its documented minimum, at it, one above,
 * a few records' worth and plenty (docs/abi.md: the minimum is one record
 * for vma_cap and page_cap, so "one below" is 0 again; PATH_MAX for
 * names_cap).  Crossed exhaustively, not sampled: 5 x 5 x 7 per mode.
 */
static const uint32_t vma_caps[] = { 0, 1, 2, 8, LARGE_VMAS };
static const uint32_t page_caps[] = { 0, 1, 2, 8, LARGE_PAGES };
static const uint32_t names_caps[] = { 0, 1, PATH_MAX - 1, PATH_MAX, PATH_MAX + 1,
				       3 * PATH_MAX, LARGE_NAMES };
static const uint64_t snap_modes[] = { 0, COWTRACE_SNAP_RUNS, COWTRACE_SNAP_MMAP,
				       COWTRACE_SNAP_RUNS | COWTRACE_SNAP_MMAP };
static const char *const snap_mode_names[] = { "pages", "runs", "mmap", "runs+mmap" };

#define NR(a) (sizeof(a) / sizeof((a)[0]))

static struct {
	struct cowtrace_vma *vmas;
	char *pages;		/* LARGE_PAGES runs: room for either record */
	char *names;
	const char *mapped;	/* the ctl file's output buffer */
} out;

static void alloc_out(int fd)
{
	void *m = mmap(NULL, MAPPED_BYTES, PROT_READ, MAP_SHARED, fd, 0);

	out.vmas = malloc(LARGE_VMAS * sizeof(*out.vmas));
	out.pages = malloc(LARGE_PAGES * sizeof(struct cowtrace_page_run));
	out.names = malloc(LARGE_NAMES);
	ASSERT_TRUE(out.vmas && out.pages && out.names && m != MAP_FAILED);
	out.mapped = m;
}

struct combo {
	int mode;
	uint32_t vma_cap, page_cap, names_cap;
};

/* What a resumed snapshot added up to. */
struct totals {
	unsigned int vmas, named, pages;
};

/* One target's range, crossed: a pass. */
struct pass {
	int fd;
	const struct target *t;
	const char *range;	/* "window" or "whole" */
	uint64_t start, end;
	unsigned int bound;	/* calls a resume loop may take */
	struct totals ref;	/* what one call with room for all finds */
	struct errno_tally tally;
	int reported, suppressed;
};

#define COMBO_FMT "SNAPSHOT %s vma_cap=%u page_cap=%u names_cap=%u target=%s (%s)"
#define COMBO_ARGS(p, c)                                                              \
	snap_mode_names[(c)->mode], (c)->vma_cap, (c)->page_cap, (c)->names_cap, \
		(p)->t->name, (p)->range

/* docs/abi.md's EINVAL rules for capacities */
static int caps_invalid(const struct combo *c)
{
	return (!c->vma_cap && !c->page_cap) ||
	       (c->names_cap && (c->names_cap < PATH_MAX || !c->vma_cap));
}

/* A failure that names the combination; the first 20 of a pass are printed. */
static void combo_fail(struct pass *p, const struct combo *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void combo_fail(struct pass *p, const struct combo *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->reported++ >= 20) {
		p->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ct_fail(__FILE__, __LINE__, COMBO_FMT ": %s", COMBO_ARGS(p, c), msg);
}

static size_t rec_size(uint64_t flags)
{
	return flags & COWTRACE_SNAP_RUNS ? sizeof(struct cowtrace_page_run) :
					    sizeof(struct cowtrace_page);
}

/* What page_cap means here: the mapped buffer holds only so many. */
static uint32_t effective_page_cap(const struct combo *c)
{
	uint64_t flags = snap_modes[c->mode];
	uint32_t fit = MAPPED_BYTES / rec_size(flags);

	return flags & COWTRACE_SNAP_MMAP && c->page_cap > fit ? fit : c->page_cap;
}

/* One SNAPSHOT call of a resume loop, watched; 0 or the errno. */
static int snap_call(struct pass *p, const struct combo *c, uint64_t start, unsigned int call,
		     struct cowtrace_snapshot *s)
{
	int mapped = !!(snap_modes[c->mode] & COWTRACE_SNAP_MMAP), err;

	/* valid pointers always: here the capacities are the question */
	*s = (struct cowtrace_snapshot){
		.size = sizeof(*s), .flags = snap_modes[c->mode], .pid = (uint32_t)p->t->pid,
		.start = start, .end = p->end,
		.vmas = (uintptr_t)out.vmas, .pages = mapped ? 0 : (uintptr_t)out.pages,
		.names = (uintptr_t)out.names,
		.vma_cap = c->vma_cap, .page_cap = c->page_cap, .names_cap = c->names_cap,
	};
	wd_begin(COMBO_FMT " start=%#llx call %u", COMBO_ARGS(p, c),
		 (unsigned long long)start, call);
	err = ioctl(p->fd, COWTRACE_IOC_SNAPSHOT, s) ? errno : 0;
	wd_end();
	return err;
}

static const char *page_records(const struct cowtrace_snapshot *s)
{
	return s->flags & COWTRACE_SNAP_MMAP ? out.mapped : out.pages;
}

/* The answer keeps the contract: within the caps, records inside [start, next). */
static const char *bad_answer(const struct cowtrace_snapshot *s, uint64_t start,
			      uint32_t page_cap)
{
	const char *recs = page_records(s);
	uint64_t prev = 0;

	if (s->vma_count > s->vma_cap || s->page_count > page_cap || s->names_len > s->names_cap)
		return "more records or name bytes than the buffers hold";
	if ((s->next & (PAGE - 1)) || s->next > s->end)
		return "next is not page aligned, or past end";
	if (s->next <= start && s->next != s->end)
		return "no progress: next <= start and next != end";
	for (uint32_t i = 0; i < s->page_count; i++) {
		const struct cowtrace_page_run *r = (const void *)(recs + i * rec_size(s->flags));
		uint64_t n = s->flags & COWTRACE_SNAP_RUNS ? r->nr_pages : 1;

		if (!n || r->first.addr < start || r->first.addr < prev ||
		    r->first.addr + n * PAGE > s->next)
			return "a page record outside [start, next) or out of order";
		prev = r->first.addr + n * PAGE;
	}
	for (uint32_t i = 0; i < s->vma_count; i++) {
		const struct cowtrace_vma *v = &out.vmas[i];

		if (v->end <= start || v->start >= v->end || v->start > s->next)
			return "a VMA record outside [start, next)";
		if (v->name_len && ((uint64_t)v->name_off + v->name_len >= s->names_len ||
				    out.names[v->name_off + v->name_len]))
			return "a VMA name outside the name bytes written";
	}
	return NULL;
}

/* Add one answer to a resumed snapshot: a resumed call repeats the VMA it starts in. */
static void add_totals(struct totals *t, const struct cowtrace_snapshot *s, uint64_t *last_vma)
{
	const char *recs = page_records(s);

	for (uint32_t i = 0; i < s->vma_count; i++) {
		if (out.vmas[i].start == *last_vma)
			continue;
		*last_vma = out.vmas[i].start;
		t->vmas++;
		t->named += !!out.vmas[i].name_len;
	}
	for (uint32_t i = 0; i < s->page_count; i++) {
		const struct cowtrace_page_run *r = (const void *)(recs + i * rec_size(s->flags));

		t->pages += s->flags & COWTRACE_SNAP_RUNS ? r->nr_pages : 1;
	}
}

/* A target that holds still gives the same records however small the buffers. */
static void check_totals(struct pass *p, const struct combo *c, const struct totals *got)
{
	if (p->t->churns)
		return;
	if ((c->vma_cap && got->vmas != p->ref.vmas) ||
	    (effective_page_cap(c) && got->pages != p->ref.pages) ||
	    (c->names_cap && got->named != p->ref.named))
		combo_fail(p, c, "resumed to %u VMAs (%u named), %u pages; one call: %u (%u), %u",
			   got->vmas, got->named, got->pages, p->ref.vmas, p->ref.named,
			   p->ref.pages);
}

/*
 * Resume from start until next == end.  Each call must give a documented
 * EINVAL where docs/abi.md says so, and otherwise succeed and make progress;
 * the loop must end within the pass's bound.
 */
static void run_combo(struct pass *p, const struct combo *c)
{
	uint64_t start = p->start, last_vma = ~0ull;
	struct totals got = { 0 };
	struct cowtrace_snapshot s;

	for (unsigned int call = 1; call <= p->bound; call++) {
		int err = snap_call(p, c, start, call, &s);
		const char *bad;

		tally_errno(&p->tally, err);
		if (caps_invalid(c)) {
			if (err != EINVAL)
				combo_fail(p, c, "docs/abi.md says EINVAL, got %s",
					   err ? errno_name(err) : "success");
			return;
		}
		if (err) {	/* the buffers are valid and the target lives */
			if (err != ENOMEM)
				combo_fail(p, c, "%s at start=%#llx, call %u", errno_name(err),
					   (unsigned long long)start, call);
			return;
		}
		bad = bad_answer(&s, start, effective_page_cap(c));
		if (bad) {
			combo_fail(p, c, "%s: start=%#llx next=%#llx, %u VMAs, %u pages, %u names",
				   bad, (unsigned long long)start, (unsigned long long)s.next,
				   s.vma_count, s.page_count, s.names_len);
			return;
		}
		add_totals(&got, &s, &last_vma);
		if (s.next == p->end) {
			check_totals(p, c, &got);
			return;
		}
		start = s.next;
	}
	combo_fail(p, c, "not done after %u calls (the bound: 2 x VMAs + pages + 16)", p->bound);
}

/*
 * One call with room for everything: what every resumed loop must add up to,
 * and the bound on its calls.  Each call but one per VMA adds a record: a
 * call that starts in a VMA whose pages are done repeats it and stops at the
 * next; hence 2 x VMAs + pages.  A churning target has no fixed count, but
 * next only grows, page by page: one call per page of the range at most.
 */
static int take_reference(struct pass *p)
{
	struct combo big = { 0, LARGE_VMAS, LARGE_PAGES, LARGE_NAMES };
	struct cowtrace_snapshot s;
	uint64_t last = ~0ull;
	int err = snap_call(p, &big, p->start, 0, &s);

	if (err || s.next != p->end) {
		ct_fail(__FILE__, __LINE__, "reference " COMBO_FMT ": %s (next %#llx)",
			COMBO_ARGS(p, &big), err ? strerror(err) : "not done in one call",
			(unsigned long long)s.next);
		return -1;
	}
	add_totals(&p->ref, &s, &last);
	if (p->t->churns)
		p->bound = (unsigned int)((p->end - p->start) / PAGE) + 16;
	else
		p->bound = 2 * p->ref.vmas + p->ref.pages + 16;
	return 0;
}

static void end_pass(struct pass *p)
{
	char what[128];

	snprintf(what, sizeof(what), "%s, %s: %u VMAs (%u named), %u pages in one large call",
		 p->t->name, p->range, p->ref.vmas, p->ref.named, p->ref.pages);
	print_errno_tally(what, &p->tally);
	if (p->suppressed)
		ct_fail(__FILE__, __LINE__, "%s: %d more failures like these", what, p->suppressed);
}

static void init_pass(struct pass *p, int fd, const struct target *t, const char *range,
		      uint64_t start, uint64_t end)
{
	*p = (struct pass){ .fd = fd, .t = t, .range = range, .start = start, .end = end,
			    .tally = { .allowed = fuzz_documented, .nr_allowed = FUZZ_NR_DOCUMENTED } };
}

/* Every vma_cap x page_cap, for one mode and names_cap. */
static void cross_caps(struct pass *p, int mode, uint32_t names_cap)
{
	for (size_t v = 0; v < NR(vma_caps); v++)
		for (size_t pc = 0; pc < NR(page_caps); pc++) {
			struct combo c = { mode, vma_caps[v], page_caps[pc], names_cap };

			run_combo(p, &c);
		}
}

/*
 * Every names_cap x mode x vma_cap x page_cap over the target's window.
 * names_cap outermost: everything without names is explored before a names
 * buffer that fills up can hang a call (and the watchdog end the test).
 */
static void cross_window(int fd, const struct target *t)
{
	struct pass p;

	init_pass(&p, fd, t, "window", t->w.start, t->w.end);
	ct_step("capacities crossed over %s", t->name);
	if (take_reference(&p))
		return;
	for (size_t n = 0; n < NR(names_caps); n++)
		for (int m = 0; m < (int)NR(snap_modes); m++)
			cross_caps(&p, m, names_caps[n]);
	end_pass(&p);
}

/* The caps that take the most calls, and the names edge, over a whole target. */
static void cross_whole(int fd, const struct target *t)
{
	static const struct combo whole[] = {
		{ 0, 1, 1, PATH_MAX },
		{ 0, LARGE_VMAS, LARGE_PAGES, PATH_MAX },
		{ 0, LARGE_VMAS, LARGE_PAGES, LARGE_NAMES },
		{ 3, 1, 1, PATH_MAX },
		{ 3, LARGE_VMAS, LARGE_PAGES, PATH_MAX },
		{ 3, LARGE_VMAS, LARGE_PAGES, LARGE_NAMES },
	};
	struct pass p;

	/* end = 2^64 - 4096: "everything", clamped to task_size, given back at the end */
	init_pass(&p, fd, t, "whole", 0, ~0ull & ~(PAGE - 1));
	ct_step("the whole of %s", t->name);
	if (take_reference(&p))
		return;
	for (size_t i = 0; i < NR(whole); i++)
		run_combo(&p, &whole[i]);
	end_pass(&p);
}

static int open_cross(void)
{
	int fd = must_open_ctl();

	seed_rng();	/* the cross is exhaustive; the seed is printed all the same */
	alloc_out(fd);
	return fd;
}

TEST_TIMEOUT(snapshot_caps_crossed_over_thousands_of_named_vmas, 900)
{
	struct target t = { .name = "thousands-of-vmas" };
	int fd = open_cross();
	char why[160];

	make_long_files();
	if (spawn_target(&t, named_vmas_setup, NULL, why, sizeof(why))) {
		remove_long_files();
		FAIL("%s", why);
	}
	/* from here on the names end in " (deleted)": see long_len */
	remove_long_files();
	cross_window(fd, &t);
	cross_whole(fd, &t);
	kill_target(&t);
	close(fd);
}

TEST_TIMEOUT(snapshot_caps_crossed_over_a_sparse_16tib_reservation, 600)
{
	struct target t = { .name = "sparse-16TiB-reservation" };
	int fd = open_cross();
	char why[160];

	if (spawn_target(&t, sparse_setup, NULL, why, sizeof(why)))
		FAIL("%s", why);
	printf("# reservation of %llu GiB at %#llx\n",
	       (unsigned long long)((t.w.end - t.w.start) >> 30), (unsigned long long)t.w.start);
	cross_window(fd, &t);
	kill_target(&t);
	close(fd);
}

TEST_TIMEOUT(snapshot_caps_crossed_over_a_hugetlb_page, 600)
{
	struct target t = { .name = "hugetlb" };
	int fd = open_cross();
	char why[160];
	long was = reserve_hugepage(why, sizeof(why));

	if (was < 0)
		SKIP("%s", why);
	if (spawn_target(&t, hugetlb_setup, NULL, why, sizeof(why))) {
		restore_hugepages(was);
		SKIP("%s", why);
	}
	cross_window(fd, &t);
	kill_target(&t);
	restore_hugepages(was);
	close(fd);
}

TEST_TIMEOUT(snapshot_caps_crossed_over_thps_being_split, 600)
{
	struct target t = { .name = "thp-being-split", .churns = 1 };
	int fd;
	char why[160];

	if (!thp_enabled())
		SKIP("transparent_hugepage/enabled is [never]");
	fd = open_cross();
	if (spawn_target(&t, thp_setup, thp_churn, why, sizeof(why)))
		FAIL("%s", why);
	cross_window(fd, &t);
	kill_target(&t);
	close(fd);
}

/* ---- every debugfs file, read by many threads at once ---- */

#define CT_DIR "/sys/kernel/debug/cowtrace"
#define MAX_FILES 32
#define READER_ROUNDS 24
#define READS_PER_ROUND 12

/* What docs/abi.md lists; readdir finds what there is. */
static const char *const documented_files[] = { "ctl", "target", "vmas", "pages",
						"summary", "trace", "events" };

static int list_files(char names[][NAME_MAX + 1])
{
	DIR *d = opendir(CT_DIR);
	struct dirent *e;
	int n = 0;

	ASSERT_TRUE(d);
	while ((e = readdir(d)) && n < MAX_FILES)
		if (e->d_name[0] != '.')
			snprintf(names[n++], NAME_MAX + 1, "%s", e->d_name);
	closedir(d);
	return n;
}

static void expect_documented_files(char names[][NAME_MAX + 1], int n)
{
	for (size_t i = 0; i < NR(documented_files); i++) {
		int found = 0;

		for (int k = 0; k < n; k++)
			found |= !strcmp(names[k], documented_files[i]);
		if (!found)
			ct_fail(__FILE__, __LINE__, "%s/%s is documented and missing", CT_DIR,
				documented_files[i]);
	}
}

struct reader {
	char path[sizeof(CT_DIR) + NAME_MAX + 1];
	int oflags;		/* 0 or O_NONBLOCK */
	int streams;		/* events: may block until the session stops */
	uint64_t rng;		/* this thread's own sequence from the seed */
	struct errno_tally t;
	pthread_t th;
};

/*
 * A blocking read of events waits, rightly, for as long as the traced
 * process makes no fault: only once the session is over must it come back
 * (EOF), so only then does the watchdog time it.
 */
static int session_running;

static int waits_for_events(const struct reader *r)
{
	return r->streams && !(r->oflags & O_NONBLOCK) &&
	       __atomic_load_n(&session_running, __ATOMIC_ACQUIRE);
}

/* Fixed rounds of open, reads of random sizes at random offsets, close. */
static void *read_rounds(void *arg)
{
	static const size_t sizes[] = { 1, 7, 64, 4096, 65536 };
	struct reader *r = arg;
	char *buf = malloc(65536);

	for (int round = 0; buf && round < READER_ROUNDS; round++) {
		int fd;

		wd_begin("open %s", r->path);
		fd = open(r->path, O_RDONLY | O_CLOEXEC | r->oflags);
		wd_end();
		if (fd < 0) {
			tally_errno(&r->t, errno);
			continue;
		}
		for (int k = 0; k < READS_PER_ROUND; k++) {
			size_t len = sizes[rnd_r(&r->rng) % NR(sizes)];
			ssize_t n;

			/* the views seek (seq_file); events cannot, and says so: ignored */
			if (rnd_r(&r->rng) % 4 == 0)
				lseek(fd, (off_t)(rnd_r(&r->rng) % 16384), SEEK_SET);
			if (waits_for_events(r)) {
				n = read(fd, buf, len);
			} else {
				wd_begin("read(%zu) of %s%s", len, r->path,
					 r->oflags ? ", O_NONBLOCK" : "");
				n = read(fd, buf, len);
				wd_end();
			}
			tally_errno(&r->t, n < 0 ? errno : 0);
			if (n <= 0)
				break;
		}
		close(fd);
	}
	free(buf);
	return NULL;
}

/* io_uring by raw syscalls: a ring of URING_DEPTH reads, done by io-wq workers. */

#define URING_READS 64
#define URING_DEPTH 8

struct uring {
	int fd;
	unsigned int *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static void *uring_map(int fd, size_t len, uint64_t off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (off_t)off);
}

/* 0, or the errno of io_uring_setup() or of mapping its rings */
static int uring_setup(struct uring *u)
{
	struct io_uring_params p = { 0 };
	size_t sq_len, cq_len;
	char *sq, *cq;

	u->fd = (int)syscall(__NR_io_uring_setup, URING_DEPTH, &p);
	if (u->fd < 0)
		return errno;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
	sq = uring_map(u->fd, sq_len, IORING_OFF_SQ_RING);
	cq = p.features & IORING_FEAT_SINGLE_MMAP ? sq :
						     uring_map(u->fd, cq_len, IORING_OFF_CQ_RING);
	u->sqes = uring_map(u->fd, p.sq_entries * sizeof(struct io_uring_sqe), IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || u->sqes == MAP_FAILED) {
		int err = errno;

		close(u->fd);
		return err;
	}
	u->sq_tail = (void *)(sq + p.sq_off.tail);
	u->sq_mask = (void *)(sq + p.sq_off.ring_mask);
	u->sq_array = (void *)(sq + p.sq_off.array);
	u->cq_head = (void *)(cq + p.cq_off.head);
	u->cq_tail = (void *)(cq + p.cq_off.tail);
	u->cq_mask = (void *)(cq + p.cq_off.ring_mask);
	u->cqes = (void *)(cq + p.cq_off.cqes);
	return 0;
}

/* Queue a read at the file position and submit it; 0 or the errno. */
static int uring_read(struct uring *u, int fd, void *buf, unsigned int len, uint64_t tag)
{
	unsigned int tail = *u->sq_tail, i = tail & *u->sq_mask;
	struct io_uring_sqe *sqe = &u->sqes[i];
	long n;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_READ;
	sqe->flags = IOSQE_ASYNC;	/* straight to an io-wq worker thread */
	sqe->fd = fd;
	sqe->addr = (uintptr_t)buf;
	sqe->len = len;
	sqe->off = (uint64_t)-1;	/* the file position, as read(2) */
	sqe->user_data = tag;
	u->sq_array[i] = i;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
	do
		n = syscall(__NR_io_uring_enter, u->fd, 1, 0, 0, NULL, 0);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? errno : EAGAIN;
}

/* Wait for one completion; 0 or io_uring_enter()'s errno. */
static int uring_wait(struct uring *u, struct io_uring_cqe *cqe)
{
	for (;;) {
		unsigned int head = *u->cq_head;

		if (head != __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE)) {
			*cqe = u->cqes[head & *u->cq_mask];
			__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
			return 0;
		}
		if (syscall(__NR_io_uring_enter, u->fd, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0) &&
		    errno != EINTR)
			return errno;
	}
}

/* io_uring's own answer for a cancelled request, on top of docs/abi.md's */
static const int uring_allowed[] = { EINVAL, ENOTTY, EFAULT, ESRCH, EPERM, E2BIG, EINTR,
				     ENOMEM, EBUSY, ENOENT, EOPNOTSUPP, EAGAIN, ECANCELED };

struct uring_reader {
	char events[128], trace[128];
	char skip[160];		/* why this part did not run */
	struct errno_tally t;
	pthread_t th;
};

/* URING_READS reads, URING_DEPTH at a time: three of events to one of trace. */
static void uring_reads_on(struct uring_reader *r, struct uring *u, const int fds[2])
{
	static char bufs[URING_DEPTH][4096];
	int busy[URING_DEPTH] = { 0 }, submitted = 0, inflight = 0, err;
	struct io_uring_cqe cqe;

	while (submitted < URING_READS || inflight) {
		for (int slot = 0; slot < URING_DEPTH && submitted < URING_READS; slot++) {
			if (busy[slot])
				continue;
			err = uring_read(u, fds[submitted % 4 == 3], bufs[slot], sizeof(bufs[slot]),
					 (uint64_t)slot);
			if (err) {
				tally_errno(&r->t, err);
				return;
			}
			busy[slot] = 1;
			submitted++;
			inflight++;
		}
		/* (blocking reads of events: timed once the session is over) */
		if (__atomic_load_n(&session_running, __ATOMIC_ACQUIRE)) {
			err = uring_wait(u, &cqe);
		} else {
			wd_begin("io_uring_enter: wait for 1 of %d reads of events/trace by io-wq workers",
				 inflight);
			err = uring_wait(u, &cqe);
			wd_end();
		}
		if (err) {
			tally_errno(&r->t, err);
			return;
		}
		busy[cqe.user_data % URING_DEPTH] = 0;
		inflight--;
		tally_errno(&r->t, cqe.res < 0 ? -cqe.res : 0);
	}
}

static void *uring_reads(void *arg)
{
	struct uring_reader *r = arg;
	struct uring u = { .fd = -1 };
	int err, fds[2];

	err = uring_setup(&u);

	if (err == ENOSYS || err == EPERM) {
		snprintf(r->skip, sizeof(r->skip), "io_uring_setup: %s", strerror(err));
		return NULL;
	}
	if (err) {
		tally_errno(&r->t, err);
		return NULL;
	}
	fds[0] = open(r->events, O_RDONLY | O_CLOEXEC);
	fds[1] = open(r->trace, O_RDONLY | O_CLOEXEC);
	if (fds[0] < 0 || fds[1] < 0)
		tally_errno(&r->t, errno);
	else
		uring_reads_on(r, &u, fds);
	close(fds[0]);
	close(fds[1]);
	close(u.fd);
	return NULL;
}

/* A process that writes, forks writers and loses pages, until killed: events. */
static void churn_forever(void)
{
	size_t len = 64 * PAGE;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		_exit(1);
	for (unsigned int round = 0;; round++) {
		pid_t c;

		memset(m, (int)round, len);
		c = fork();
		if (c == 0) {
			memset(m, (int)round + 1, len / 2);
			_exit(0);
		}
		madvise(m + len / 2, len / 8, MADV_DONTNEED);
		waitpid(c, NULL, 0);
	}
}

static pid_t fork_churner(void)
{
	pid_t p = fork();

	ASSERT_GE(p, 0);
	if (p == 0)
		churn_forever();
	return p;
}

/* Trace a pid on fd; 0, or the errno, printed (the readers then just see EOF). */
static int start_session(int fd, pid_t pid, uint64_t flags)
{
	struct cowtrace_trace_start st = { .size = sizeof(st), .flags = flags,
					   .pid = (uint32_t)pid };
	int err;

	wd_begin("TRACE_START of %d", (int)pid);
	err = ioctl(fd, COWTRACE_IOC_TRACE_START, &st) ? errno : 0;
	wd_end();
	if (err)
		printf("# no trace session (%s%s%s)\n", errno_name(err),
		       err == ENOENT ? ": " : "", err == ENOENT ? st.missing : "");
	return err;
}

static void stop_session(int fd)
{
	wd_begin("TRACE_STOP");
	stop_any_session(fd);
	wd_end();
}

static void start_readers(struct reader *r, char names[][NAME_MAX + 1], int n)
{
	for (int i = 0; i < 2 * n; i++) {
		snprintf(r[i].path, sizeof(r[i].path), "%s/%s", CT_DIR, names[i / 2]);
		r[i].oflags = i % 2 ? O_NONBLOCK : 0;
		r[i].streams = !strcmp(names[i / 2], "events");
		r[i].rng = rng_state ^ (0x9e3779b97f4a7c15ull * (uint64_t)(i + 1));
		r[i].t = (struct errno_tally){ .allowed = fuzz_documented, .nr_allowed = FUZZ_NR_DOCUMENTED };
		ASSERT_EQ(pthread_create(&r[i].th, NULL, read_rounds, &r[i]), 0);
	}
}

/* Per file: every errno documented, and some read answered (ctl has no read). */
static void report_readers(struct reader *r, int n)
{
	for (int i = 0; i < 2 * n; i += 2) {
		struct errno_tally sum = r[i].t;

		for (int e = 0; e < 256; e++)
			sum.by_errno[e] += r[i + 1].t.by_errno[e];
		sum.calls += r[i + 1].t.calls;
		sum.ok += r[i + 1].t.ok;
		sum.unexpected += r[i + 1].t.unexpected;
		print_errno_tally(r[i].path, &sum);
		EXPECT_EQ(sum.unexpected, 0);
		if (!strstr(r[i].path, "/ctl"))
			EXPECT_GT(sum.ok, 0);
	}
}

TEST_TIMEOUT(every_debugfs_file_read_at_once_with_io_uring, 300)
{
	static char names[MAX_FILES][NAME_MAX + 1];
	struct uring_reader ur = {
		.t = { .allowed = uring_allowed, .nr_allowed = NR(uring_allowed) },
	};
	int n = list_files(names), fd = must_open_ctl(), traced;
	struct reader *r = calloc(2 * (size_t)n, sizeof(*r));
	pid_t churner = fork_churner();
	char pid[16];

	seed_rng();
	ASSERT_TRUE(r);
	expect_documented_files(names, n);
	snprintf(pid, sizeof(pid), "%d\n", (int)churner);
	EXPECT_EQ(write_file(CT_DIR "/target", pid), 0);
	traced = !start_session(fd, churner, COWTRACE_TRACE_CHILDREN);
	__atomic_store_n(&session_running, traced, __ATOMIC_RELEASE);
	ct_step("%d files, two readers each, and io_uring", n);
	start_readers(r, names, n);
	snprintf(ur.events, sizeof(ur.events), "%s/events", CT_DIR);
	snprintf(ur.trace, sizeof(ur.trace), "%s/trace", CT_DIR);
	ASSERT_EQ(pthread_create(&ur.th, NULL, uring_reads, &ur), 0);
	/* a blocked read of events ends when the session stops: the others first */
	for (int i = 0; i < 2 * n; i++)
		if (!r[i].streams)
			pthread_join(r[i].th, NULL);
	if (traced)
		stop_session(fd);
	__atomic_store_n(&session_running, 0, __ATOMIC_RELEASE);
	for (int i = 0; i < 2 * n; i++)
		if (r[i].streams)
			pthread_join(r[i].th, NULL);
	pthread_join(ur.th, NULL);
	kill(churner, SIGKILL);
	waitpid(churner, NULL, 0);
	report_readers(r, n);
	if (ur.skip[0])
		printf("# io_uring part skipped: %s\n", ur.skip);
	else
		print_errno_tally("io_uring reads of events and trace", &ur.t);
	EXPECT_EQ(ur.t.unexpected, 0);
	free(r);
	close(fd);
}

/* ---- junk written to every writable file ---- */

/* Each is refused by docs/abi.md: not a number, no such pid, a kernel thread. */
static const char *const junk[] = {
	"\n", "abc\n", "-1", "0", "-0",
	"2",			/* kthreadd: a kernel thread, no mm: ESRCH */
	"99999999",		/* above any pid_max */
	"2147483648",		/* does not fit an int */
	"99999999999999999999", "0x10", "1 2", "12 grandchildren", "stopp", "STOP",
	"\xff\xfe", " -",
};

#define RANDOM_JUNK 4
#define LONG_JUNK 5000		/* more than a page: no buffer takes it whole */

/* Junk as the log shows it: printable, the rest \xNN, cut at 40 bytes. */
static void escape(const char *val, size_t len, char *shown, size_t size)
{
	size_t k = 0;

	for (size_t i = 0; i < len && i < 40 && k + 5 < size; i++) {
		unsigned char c = (unsigned char)val[i];
		const char *fmt = c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x";

		k += (size_t)snprintf(shown + k, size - k, fmt, c);
	}
	shown[k] = 0;
}

/*
 * Write one junk string; it must fail with a documented errno.  Returns 1
 * when it was taken (a failure of its own: the caller repairs the state).
 */
static int write_junk(const char *path, const char *val, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err;
	char shown[256];
	ssize_t n;

	escape(val, len, shown, sizeof(shown));
	if (fd < 0) {
		ct_fail(__FILE__, __LINE__, "cannot open %s to write: %s", path, strerror(errno));
		return 0;
	}
	wd_begin("write %zu junk bytes '%s' to %s", len, shown, path);
	n = write(fd, val, len);
	err = errno;
	wd_end();
	close(fd);
	if (n >= 0)
		ct_fail(__FILE__, __LINE__, "%s took junk '%s'", path, shown);
	else if (!errno_in(fuzz_documented, FUZZ_NR_DOCUMENTED, err))
		ct_fail(__FILE__, __LINE__, "%s: junk '%s' failed with %s, not in docs/abi.md",
			path, shown, errno_name(err));
	return n >= 0;
}

/* Junk from the seed: DEL first, so never a number nor "stop". */
static size_t random_junk(char *buf, size_t size)
{
	size_t len = 2 + rnd() % 40;

	buf[0] = 0x7f;
	for (size_t i = 1; i < len && i < size; i++)
		buf[i] = (char)(1 + rnd() % 255);
	return len < size ? len : size;
}

/* The k-th junk: the list, then RANDOM_JUNK from the seed, then LONG_JUNK x's. */
static size_t junk_at(size_t k, char *buf, size_t size)
{
	if (k < NR(junk)) {
		memcpy(buf, junk[k], strlen(junk[k]));
		return strlen(junk[k]);
	}
	if (k < NR(junk) + RANDOM_JUNK)
		return random_junk(buf, size);
	memset(buf, 'x', LONG_JUNK);
	return LONG_JUNK;
}

/* What junk must not change: the target and the session, as the files say. */
static void module_state(char *buf, size_t size)
{
	int n = 0;

	for (int k = 0; k < 2; k++) {
		int fd = open(k ? CT_DIR "/trace" : CT_DIR "/target", O_RDONLY | O_CLOEXEC);
		ssize_t got = fd < 0 ? 0 : read(fd, buf + n, size - (size_t)n - 1);

		n += got > 0 ? (int)got : 0;
		if (fd >= 0)
			close(fd);
	}
	buf[n] = 0;
}

/* Junk the session took (a start) is stopped, a target is put back. */
static void repair(const char *path, const char *target_pid)
{
	if (strstr(path, "/trace"))
		write_file(CT_DIR "/trace", "stop");
	if (strstr(path, "/target"))
		write_file(CT_DIR "/target", target_pid);
}

/* Every junk string to every file whose mode lets someone write it. */
static void junk_every_writable_file(const char *target_pid, int tracing)
{
	static char names[MAX_FILES][NAME_MAX + 1];
	int n = list_files(names);

	for (int i = 0; i < n; i++) {
		char path[sizeof(CT_DIR) + NAME_MAX + 1], buf[LONG_JUNK];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%.*s", CT_DIR, NAME_MAX, names[i]);
		if (stat(path, &st) || !(st.st_mode & 0222))
			continue;
		for (size_t k = 0; k < NR(junk) + RANDOM_JUNK + 1; k++) {
			size_t len = junk_at(k, buf, sizeof(buf));

			if (write_junk(path, buf, len) && !tracing)
				repair(path, target_pid);
		}
	}
}

TEST(junk_writes_to_debugfs_files_fail_and_change_nothing)
{
	char before[2048], after[2048], pid[16];
	int fd = must_open_ctl();
	pid_t sleeper = fork();

	ASSERT_GE(sleeper, 0);
	if (sleeper == 0)
		for (;;)
			pause();
	seed_rng();
	snprintf(pid, sizeof(pid), "%d", (int)sleeper);
	ASSERT_EQ(write_file(CT_DIR "/target", pid), 0);
	/* once with no session running, once while one traces the sleeper */
	for (int tracing = 0; tracing < 2; tracing++) {
		if (tracing && start_session(fd, sleeper, 0))
			break;
		ct_step("junk, %s", tracing ? "tracing" : "no session");
		module_state(before, sizeof(before));
		junk_every_writable_file(pid, tracing);
		module_state(after, sizeof(after));
		if (strcmp(before, after))
			ct_fail(__FILE__, __LINE__,
				"junk changed target/trace: before\n%s\nafter\n%s", before, after);
	}
	stop_session(fd);
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	close(fd);
}

/* ---- module parameters at their limits ---- */

#define PARAM_DIR "/sys/module/cowtrace/parameters"
#define RING_DEFAULT 65536
#define EVENT_BYTES 96		/* sizeof(struct cowtrace_event) */

/* The largest value docs/abi.md gives a parameter; UINT_MAX if it gives none. */
static uint64_t param_max(const char *name)
{
	return !strcmp(name, "ring_events") ? 1u << 24 : 0xffffffffu;
}

/*
 * How a parameter may refuse a value: docs/abi.md says EINVAL (and EPERM
 * without the capability).  A read-only one: EACCES without
 * CAP_DAC_OVERRIDE, else the sysfs attribute has no store and the write
 * gets EIO (kernel/params.c).
 */
static const int param_refusals[] = { EINVAL, EPERM };
static const int readonly_refusals[] = { EACCES, EPERM, EIO };

static int read_param(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return n < 0 ? -1 : 0;
}

/* 0, or the errno that refused the value */
static int write_param(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err;
	ssize_t n;

	if (fd < 0)
		return errno;
	wd_begin("write '%s' to %s", val, path);
	n = write(fd, val, strlen(val));
	err = errno;
	wd_end();
	close(fd);
	return n < 0 ? err : 0;
}

static uint64_t mem_available(void)
{
	char line[128];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb << 10;
}

/* The module still answers: a snapshot of this process succeeds. */
static void snapshot_self(const char *why)
{
	static char mem[4 * PAGE] __attribute__((aligned(4096)));
	struct cowtrace_vma v[4];
	struct cowtrace_page pg[4];
	struct cowtrace_snapshot s = {
		.size = sizeof(s), .pid = (uint32_t)getpid(),
		.start = (uintptr_t)mem, .end = (uintptr_t)mem + sizeof(mem),
		.vmas = (uintptr_t)v, .vma_cap = 4, .pages = (uintptr_t)pg, .page_cap = 4,
	};
	int fd = must_open_ctl(), err;

	memset(mem, 1, sizeof(mem));
	wd_begin("SNAPSHOT of self after %s", why);
	err = ioctl(fd, COWTRACE_IOC_SNAPSHOT, &s) ? errno : 0;
	wd_end();
	if (err || s.page_count != 4)
		ct_fail(__FILE__, __LINE__, "after %s: snapshot of self: %s, %u pages", why,
			err ? strerror(err) : "ok", s.page_count);
	close(fd);
}

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/*
 * A session of this process starts, with the ring ring_events asks for, and
 * stops; unless that ring is more than an eighth of the free memory, which
 * would test the guest's OOM killer rather than the module.
 */
static void trace_self(const char *why)
{
	char val[64] = "";
	uint64_t asked, ring;
	struct cowtrace_trace_start st = { .size = sizeof(st), .pid = (uint32_t)getpid() };
	int fd, err;

	read_param(PARAM_DIR "/ring_events", val, sizeof(val));
	asked = strtoull(val, NULL, 10);
	ring = asked ? pow2_at_least(asked) : RING_DEFAULT;
	if (ring > mem_available() / 8 / EVENT_BYTES) {
		printf("# after %s: a ring of %llu events is too big for this guest: no session\n",
		       why, (unsigned long long)ring);
		return;
	}
	fd = must_open_ctl();
	wd_begin("TRACE_START of self after %s", why);
	err = ioctl(fd, COWTRACE_IOC_TRACE_START, &st) ? errno : 0;
	wd_end();
	if (!err && val[0] && asked)
		EXPECT_EQ(st.ring_events, ring);
	if (err && err != ENOMEM && err != ENOENT && err != EOPNOTSUPP)
		ct_fail(__FILE__, __LINE__, "after %s: TRACE_START: %s", why, errno_name(err));
	if (!err)
		stop_session(fd);
	close(fd);
}

/* 0, 1, max - 1, max, max + 1, 2^31, 2^32, -1 and garbage: each taken or refused. */
static void limits_of(const char *name, const char *path)
{
	uint64_t max = param_max(name);
	char vals[10][32], now[256], why[128];
	int n = 0;

	snprintf(vals[n++], 32, "0");
	snprintf(vals[n++], 32, "1");
	for (int d = -1; d <= 1; d++)
		snprintf(vals[n++], 32, "%llu", (unsigned long long)(max + (uint64_t)(int64_t)d));
	snprintf(vals[n++], 32, "2147483648");
	snprintf(vals[n++], 32, "4294967296");
	snprintf(vals[n++], 32, "-1");
	snprintf(vals[n++], 32, "garbage");
	snprintf(vals[n++], 32, "%c%llx", 0x7f, (unsigned long long)rnd());
	for (int i = 0; i < n; i++) {
		int err = write_param(path, vals[i]);
		const char *said = err ? errno_name(err) : "taken";

		read_param(path, now, sizeof(now));
		printf("# %s=%s: %s, reads back %s\n", name, vals[i], said, now);
		if (err && !errno_in(param_refusals, NR(param_refusals), err))
			ct_fail(__FILE__, __LINE__, "%s=%s: %s", name, vals[i], said);
		/* a number taken is the number kept */
		if (!err && vals[i][0] >= '0' && vals[i][0] <= '9' && strcmp(now, vals[i]))
			ct_fail(__FILE__, __LINE__, "%s=%s taken, reads %s", name, vals[i], now);
		snprintf(why, sizeof(why), "%.64s=%.31s", name, vals[i]);
		snapshot_self(why);
		trace_self(why);
	}
}

/* A read-only parameter refuses every write, and keeps its value. */
static void readonly_stays(const char *name, const char *path, const char *was)
{
	static const char *const vals[] = { "1", "garbage" };
	char now[256];

	for (size_t i = 0; i < NR(vals); i++) {
		int err = write_param(path, vals[i]);

		read_param(path, now, sizeof(now));
		if (err && errno_in(readonly_refusals, NR(readonly_refusals), err) &&
		    !strcmp(now, was))
			continue;
		ct_fail(__FILE__, __LINE__, "read-only %s=%s: %s, reads back %s (was %s)", name,
			vals[i], err ? errno_name(err) : "taken", now, was);
	}
}

#define MAX_PARAMS 16

TEST(module_parameters_at_their_limits)
{
	static char names[MAX_PARAMS][NAME_MAX + 1], was[MAX_PARAMS][256];
	char path[sizeof(PARAM_DIR) + NAME_MAX + 1], now[256];
	DIR *d = opendir(PARAM_DIR);
	struct dirent *e;
	int n = 0;

	if (!d)
		SKIP("no %s: the module has no parameters", PARAM_DIR);
	seed_rng();
	while ((e = readdir(d)) && n < MAX_PARAMS)
		if (e->d_name[0] != '.')
			snprintf(names[n++], NAME_MAX + 1, "%s", e->d_name);
	closedir(d);
	for (int i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", PARAM_DIR, names[i]);
		ASSERT_EQ(stat(path, &st), 0);
		ASSERT_EQ(read_param(path, was[i], sizeof(was[i])), 0);
		ct_step("parameter %s (%s, mode %o)", names[i], was[i], st.st_mode & 0777);
		if (st.st_mode & 0222)
			limits_of(names[i], path);
		else
			readonly_stays(names[i], path, was[i]);
		/* put it back, and see that it is back */
		if (st.st_mode & 0222)
			EXPECT_EQ(write_param(path, was[i]), 0);
		read_param(path, now, sizeof(now));
		if (strcmp(now, was[i]))
			ct_fail(__FILE__, __LINE__, "%s not restored: %s, was %s", names[i], now,
				was[i]);
	}
	snapshot_self("restoring the parameters");
	trace_self("restoring the parameters");
}
