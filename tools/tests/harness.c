// SPDX-License-Identifier: GPL-2.0
/* The harness of harness.h: fork per test, TAP out, counts at the end. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "../puppet.h"

#define CT_MAX_TESTS 256
#define CT_EXIT_FAIL 1
#define CT_EXIT_SKIP 4

static struct {
	const char *name;
	ct_test_fn fn;
	int timeout;
} tests[CT_MAX_TESTS];
static int nr_tests;
static int failures;		/* in the forked test process */

/* Written by the test process, read by the parent after it dies. */
struct ct_shared {
	char skip_reason[256];
	char step[192];		/* the last ct_step(), for a timeout report */
	struct timespec test_start, step_start;
};
static struct ct_shared *shared;

void ct_register(const char *name, ct_test_fn fn, int timeout_s)
{
	if (nr_tests == CT_MAX_TESTS)
		abort();
	tests[nr_tests].name = name;
	tests[nr_tests].fn = fn;
	tests[nr_tests].timeout = timeout_s;
	nr_tests++;
}

void ct_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	failures++;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int ct_failed(void)
{
	return failures;
}

void ct_abort(void)
{
	fflush(stdout);
	_exit(CT_EXIT_FAIL);
}

void ct_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(shared->skip_reason, sizeof(shared->skip_reason), fmt, ap);
	va_end(ap);
	fflush(stdout);
	_exit(failures ? CT_EXIT_FAIL : CT_EXIT_SKIP);
}

void ct_step(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(shared->step, sizeof(shared->step), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_MONOTONIC, &shared->step_start);
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Where a test that ran out of time was, so the log says what hung. */
static void report_timeout(const char *name)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!shared->step[0])
		return;
	printf("# %s: stuck in step \"%s\" since %.1f s (test ran %.1f s)\n", name,
	       shared->step, seconds_between(&shared->step_start, &now),
	       seconds_between(&shared->test_start, &now));
}

static int selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int pass = 0, fail = 0, skip = 0, n = 0, total = 0;

	puppet_maybe_run(argc, argv);

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (int i = 0; i < nr_tests; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 2;
	for (int i = 0; i < nr_tests; i++)
		total += selected(tests[i].name, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%d\n", total);
	for (int i = 0; i < nr_tests; i++) {
		int status;
		pid_t pid;

		if (!selected(tests[i].name, argc, argv))
			continue;
		n++;
		memset(shared, 0, sizeof(*shared));
		clock_gettime(CLOCK_MONOTONIC, &shared->test_start);
		printf("# RUN %s\n", tests[i].name);
		pid = fork();
		if (pid == 0) {
			/* own process group: a timeout kills the test's puppets too */
			setpgid(0, 0);
			alarm(tests[i].timeout);
			tests[i].fn();
			fflush(stdout);
			_exit(failures ? CT_EXIT_FAIL : 0);
		}
		waitpid(pid, &status, 0);
		kill(-pid, SIGKILL);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			pass++;
			printf("ok %d %s\n", n, tests[i].name);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == CT_EXIT_SKIP) {
			skip++;
			printf("ok %d %s # SKIP %s\n", n, tests[i].name, shared->skip_reason);
		} else {
			fail++;
			if (WIFSIGNALED(status))
				printf("# %s: killed by signal %d%s\n", tests[i].name,
				       WTERMSIG(status),
				       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
				report_timeout(tests[i].name);
			printf("not ok %d %s\n", n, tests[i].name);
		}
	}
	printf("# %d passed, %d failed, %d skipped\n", pass, fail, skip);
	return fail || !n ? 1 : 0;
}
