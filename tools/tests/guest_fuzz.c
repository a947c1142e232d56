// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI under hostile input, on a real kernel (the debug kernel adds
 * KASAN, lockdep and DEBUG_VM; guest-suite fails on any splat).  A seeded
 * generator (COWTRACE_FUZZ_SEED replays a run): every call gets a random
 * command word, struct size, flags, reserved fields, ranges, PIDs and buffer
 * pointers (NULL, kernel addresses, unmapped memory, read-only memory,
 * buffers that end at a PROT_NONE guard page), and must succeed or fail
 * with an errno docs/abi.md lists.  Two threads on two fds race snapshots and trace
 * sessions against a target that forks and exits under them.  Iteration
 * counts are fixed; nothing here is timed.
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
#include <time.h>
#include <unistd.h>

#include "guest_util.h"

#define ITERATIONS 6000
#define RACE_ROUNDS 300
#define BIG (64 * PAGE)		/* the valid buffers */

/* Every errno docs/abi.md allows an ioctl to return. */
static const int documented[] = { EINVAL, ENOTTY, EFAULT, ESRCH, EPERM, E2BIG, EINTR,
				  ENOMEM, EBUSY, ENOENT, EOPNOTSUPP, EAGAIN };

#define NR_DOCUMENTED (sizeof(documented) / sizeof(documented[0]))

/* xorshift64*: reproducible from the seed printed at the start */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t pick(const uint64_t *v, size_t n)
{
	return v[rnd() % n];
}

/* Memory to point at: valid, and every way a pointer can be wrong. */
static struct {
	char *valid;		/* BIG bytes, writable */
	char *readonly;		/* PAGE bytes, PROT_READ */
	char *unmapped;		/* was mapped, now is not */
	char *edge;		/* PAGE writable bytes, then a PROT_NONE page */
} mem;

static void map_memory(void)
{
	char *g;

	mem.valid = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.readonly = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.unmapped = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(mem.valid != MAP_FAILED && mem.readonly != MAP_FAILED &&
		    mem.unmapped != MAP_FAILED && g != MAP_FAILED);
	munmap(mem.unmapped, PAGE);
	mprotect(g + PAGE, PAGE, PROT_NONE);
	mem.edge = g;
}

static uint64_t any_pointer(void)
{
	uint64_t v[] = {
		0,
		(uintptr_t)mem.valid,
		(uintptr_t)mem.valid,
		(uintptr_t)mem.readonly,
		(uintptr_t)mem.unmapped,
		(uintptr_t)mem.edge + PAGE - 64,	/* runs into the guard page */
		(uintptr_t)mem.valid + 1,		/* unaligned */
		0xffffffff81000000ull,			/* kernel text */
		0xffff888000000000ull,			/* the direct map */
		0x8000000000000000ull,			/* non-canonical */
		~0ull,
	};

	return pick(v, sizeof(v) / sizeof(v[0]));
}

static uint64_t any_capacity(void)
{
	uint64_t v[] = { 0, 1, 2, 7, 64, BIG / 32, BIG / 32 + 1, 4096, 65536, 0x7fffffff, ~0u };

	return pick(v, sizeof(v) / sizeof(v[0]));
}

static uint64_t any_address(void)
{
	uint64_t v[] = {
		0, PAGE, 0x400000, (uintptr_t)mem.valid, (uintptr_t)mem.valid + 17,
		0x7ffffffff000ull, 0x800000000000ull, 0xffffffffffff0000ull, ~0ull,
		rnd() & ~(PAGE - 1), rnd(),
	};

	return pick(v, sizeof(v) / sizeof(v[0]));
}

static uint32_t any_pid(pid_t live, pid_t gone)
{
	uint64_t v[] = { 0, 1, 2 /* kthreadd */, (uint32_t)getpid(), (uint32_t)live,
			 (uint32_t)gone, 0x7fffffff, ~0u, rnd() & 0xffff };

	return (uint32_t)pick(v, sizeof(v) / sizeof(v[0]));
}

static uint64_t any_size(uint64_t real)
{
	uint64_t v[] = { real, real, real, 0, 8, real - 8, real + 8, real + 4096,
			 1ull << 40, rnd() & 0xfff };

	return pick(v, sizeof(v) / sizeof(v[0]));
}

/* A command word: mostly ours, sometimes with the wrong type, nr, dir or size. */
static unsigned long any_command(unsigned int *nr)
{
	static const unsigned long ours[] = {
		COWTRACE_IOC_VERSION, COWTRACE_IOC_MM_INFO, COWTRACE_IOC_SNAPSHOT,
		COWTRACE_IOC_TRACE_START, COWTRACE_IOC_TRACE_READ, COWTRACE_IOC_TRACE_STOP,
	};
	unsigned long cmd = ours[rnd() % 6];

	switch (rnd() % 10) {
	case 0:
		cmd = _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), rnd() & 0xff, _IOC_SIZE(cmd));
		break;
	case 1:
		cmd = _IOC(rnd() & 3, _IOC_TYPE(cmd), _IOC_NR(cmd), _IOC_SIZE(cmd));
		break;
	case 2:
		cmd = _IOC(_IOC_DIR(cmd), rnd() & 0xff, _IOC_NR(cmd), _IOC_SIZE(cmd));
		break;
	case 3:
		cmd = _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), rnd() & 0x3fff);
		break;
	}
	*nr = _IOC_NR(cmd);
	return cmd;
}

/* The argument struct: random bytes, then plausible-but-wrong fields. */
static void fill_arg(unsigned int nr, uint64_t *arg, pid_t live, pid_t gone)
{
	for (int i = 0; i < 64; i++)
		arg[i] = rnd() % 4 ? 0 : rnd();
	switch (nr) {
	case 0:
		arg[0] = any_size(sizeof(struct cowtrace_version));
		break;
	case 1: {
		struct cowtrace_mm_info *m = (void *)arg;

		m->size = any_size(sizeof(*m));
		m->pid = any_pid(live, gone);
		m->flags = rnd() % 4 ? 0 : (uint32_t)rnd();
		break;
	}
	case 2: {
		struct cowtrace_snapshot *s = (void *)arg;

		s->size = any_size(sizeof(*s));
		/* per-page records or runs, copied or mapped, or junk */
		s->flags = rnd() % 4 ? (rnd() % 2 ? COWTRACE_SNAP_RUNS : 0) |
					       (rnd() % 2 ? COWTRACE_SNAP_MMAP : 0) :
				       rnd();
		s->pid = any_pid(live, gone);
		s->reserved = rnd() % 4 ? 0 : (uint32_t)rnd();
		s->start = any_address();
		s->end = rnd() % 3 ? s->start + (rnd() % 512) * PAGE : any_address();
		s->vmas = any_pointer();
		s->pages = (s->flags & COWTRACE_SNAP_MMAP) && rnd() % 4 ? 0 : any_pointer();
		s->names = any_pointer();
		s->vma_cap = (uint32_t)any_capacity();
		s->page_cap = (uint32_t)any_capacity();
		s->names_cap = (uint32_t)(rnd() % 2 ? 4096 : any_capacity());
		break;
	}
	case 3: {
		struct cowtrace_trace_start *t = (void *)arg;

		t->size = any_size(sizeof(*t));
		t->flags = rnd() % 2 ? rnd() % 2 : rnd();
		t->pid = any_pid(live, gone);
		t->reserved = rnd() % 4 ? 0 : (uint32_t)rnd();
		break;
	}
	case 4: {
		struct cowtrace_trace_read *r = (void *)arg;

		r->size = any_size(sizeof(*r));
		/* blocking reads are interrupted by the itimer: EINTR */
		r->flags = rnd() % 2 ? COWTRACE_READ_NONBLOCK : rnd() % 4;
		r->events = any_pointer();
		r->cap = (uint32_t)any_capacity();
		r->reserved = rnd() % 4 ? 0 : (uint32_t)rnd();
		break;
	}
	case 5:
		arg[0] = any_size(sizeof(struct cowtrace_trace_stop));
		arg[1] = rnd() % 4 ? 0 : rnd();
		break;
	}
}

static void on_wake(int sig)
{
	(void)sig;
}

/*
 * A blocked call is woken by SIGUSR1 after 50 ms, without SA_RESTART: its
 * own timer, as the harness's alarm() guards the whole test.
 */
static timer_t wake_timer;

static void make_wake_timer(void)
{
	struct sigaction sa = { .sa_handler = on_wake };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };

	sigaction(SIGUSR1, &sa, NULL);
	ASSERT_EQ(timer_create(CLOCK_MONOTONIC, &sev, &wake_timer), 0);
}

static void arm_interrupt(void)
{
	struct itimerspec it = { .it_value = { 0, 50 * 1000 * 1000 } };

	timer_settime(wake_timer, 0, &it, NULL);
}

static void disarm_interrupt(void)
{
	struct itimerspec it = { 0 };

	timer_settime(wake_timer, 0, &it, NULL);
}

static void stop_any_session(int fd)
{
	struct cowtrace_trace_stop st = { .size = sizeof(st) };

	ioctl(fd, COWTRACE_IOC_TRACE_STOP, &st);
}

/* A pid that existed and is gone (reaped). */
static pid_t gone_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

TEST_TIMEOUT(random_ioctls_return_documented_errnos, 600)
{
	struct errno_tally t = { .allowed = documented, .nr_allowed = NR_DOCUMENTED };
	int fd = must_open_ctl(), undocumented = 0;
	uint64_t arg_store[64 + 1];
	struct puppet live;
	pid_t gone = gone_pid();

	/* COWTRACE_FUZZ_SEED=0x... replays a run */
	rng_state = getenv("COWTRACE_FUZZ_SEED") ?
			    strtoull(getenv("COWTRACE_FUZZ_SEED"), NULL, 0) :
			    0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	printf("# seed %#llx (COWTRACE_FUZZ_SEED replays it)\n", (unsigned long long)rng_state);
	map_memory();
	make_wake_timer();
	/* an output buffer, so that SNAP_MMAP calls get as far as the walk */
	ASSERT_TRUE(mmap(NULL, 16 * PAGE, PROT_READ, MAP_SHARED, fd, 0) != MAP_FAILED);
	must_spawn(&live);
	must_call(&live, PUP_MMAP, 64 * PAGE, 0, PROT_READ | PROT_WRITE);
	for (int i = 0; i < ITERATIONS; i++) {
		unsigned int nr;
		unsigned long cmd = any_command(&nr);
		void *argp = arg_store;
		int ret, err;

		fill_arg(nr, arg_store, live.pid, gone);
		/* the argument pointer itself, now and then */
		if (rnd() % 16 == 0)
			argp = (void *)(uintptr_t)any_pointer();
		arm_interrupt();
		ret = ioctl(fd, cmd, argp);
		err = errno;
		disarm_interrupt();
		tally_errno(&t, ret ? err : 0);
		if (ret == 0) {
			if (nr == 3)	/* a session started: end it */
				stop_any_session(fd);
			continue;
		}
		if (ret != -1 || !errno_in(documented, NR_DOCUMENTED, err)) {
			if (undocumented++ < 10)
				ct_fail(__FILE__, __LINE__,
					"ioctl %#lx (nr %u) returned %d errno %d (%s): not in docs/abi.md",
					cmd, nr, ret, err, strerror(err));
		}
	}
	stop_any_session(fd);
	print_errno_tally("random calls", &t);
	EXPECT_EQ(undocumented, 0);
	/* the generator reached the interesting answers, not only EINVAL */
	EXPECT_GT(t.ok, 0);
	EXPECT_GT(t.by_errno[EFAULT], 0);
	EXPECT_GT(t.by_errno[ESRCH], 0);
	EXPECT_GT(t.by_errno[ENOTTY], 0);
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

		err = ioctl(r->fd, COWTRACE_IOC_SNAPSHOT, &s) ? errno : 0;
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
		int calls[3] = {
			ioctl(r->fd, COWTRACE_IOC_TRACE_START, &st) ? errno : 0,
			ioctl(r->fd, COWTRACE_IOC_TRACE_READ, &rd) ? errno : 0,
			ioctl(r->fd, COWTRACE_IOC_TRACE_STOP, &sp) ? errno : 0,
		};

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
			      .t = { .allowed = documented, .nr_allowed = NR_DOCUMENTED } };
	struct racer trace = { .fd = must_open_ctl(),
			       .t = { .allowed = documented, .nr_allowed = NR_DOCUMENTED } };
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
