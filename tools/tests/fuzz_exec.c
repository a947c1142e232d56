// SPDX-License-Identifier: GPL-2.0
/* Sending and judging the fuzzers' calls (fuzz_exec.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_exec.h"
#include "watchdog.h"

const int fuzz_documented[FUZZ_NR_DOCUMENTED] = {
	EINVAL, ENOTTY, EFAULT, ESRCH, EPERM, E2BIG, EINTR,
	ENOMEM, EBUSY, ENOENT, EOPNOTSUPP, EAGAIN,
};

/*
 * Where a call's struct is copied to: the start of two zeroed pages and a
 * guard page.  A size past the struct reads zeros (trailing bytes the
 * kernel accepts), a size past 8 KiB faults: the same input gets the same
 * answer, which a corpus relies on.
 */
#define SENT_BYTES (2 * PAGE)
static uint64_t *sent;

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

/* A pid that existed and is gone (reaped). */
static pid_t gone_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

static void map_sent(void)
{
	char *m = mmap(NULL, SENT_BYTES + PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(m != MAP_FAILED);
	ASSERT_EQ(mprotect(m + SENT_BYTES, PAGE, PROT_NONE), 0);
	sent = (uint64_t *)m;
}

void fuzz_exec_setup(int fd, struct puppet *live)
{
	pid_t gone = gone_pid();

	seed_rng();
	make_wake_timer();
	map_sent();
	ASSERT_TRUE(mmap(NULL, 16 * PAGE, PROT_READ, MAP_SHARED, fd, 0) != MAP_FAILED);
	must_spawn(live);
	must_call(live, PUP_MMAP, 64 * PAGE, 0, PROT_READ | PROT_WRITE);
	fuzz_gen_init(live->pid, gone);
}

int fuzz_exec(int fd, const struct fuzz_call *c, const char *who, long i, int *ret)
{
	void *argp = sent;
	int err;

	memcpy(sent, c->arg, sizeof(c->arg));
	if (c->wild_argp)
		argp = (void *)(uintptr_t)c->argp;
	wd_begin("%s ioctl %ld: %#lx (nr %u)", who, i, c->cmd, (unsigned int)_IOC_NR(c->cmd));
	arm_interrupt();
	*ret = ioctl(fd, c->cmd, argp);
	err = errno;
	disarm_interrupt();
	wd_end();
	return *ret ? err : 0;
}

void fuzz_judge(struct fuzz_verdicts *v, const struct fuzz_call *c, int ret, int err)
{
	tally_errno(&v->t, err);
	if (ret == 0)
		return;
	if (ret == -1 && errno_in(fuzz_documented, FUZZ_NR_DOCUMENTED, err))
		return;
	if (v->undocumented++ < 10)
		ct_fail(__FILE__, __LINE__,
			"ioctl %#lx (nr %u) returned %d errno %d (%s): not in docs/abi.md",
			c->cmd, (unsigned int)_IOC_NR(c->cmd), ret, err, strerror(err));
}

void fuzz_end_session(int fd, const struct fuzz_call *c, int ret)
{
	if (ret == 0 && _IOC_NR(c->cmd) == 3)
		stop_any_session(fd);
}

void stop_any_session(int fd)
{
	struct cowtrace_trace_stop st = { .size = sizeof(st) };

	ioctl(fd, COWTRACE_IOC_TRACE_STOP, &st);
}
