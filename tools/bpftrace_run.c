// SPDX-License-Identifier: GPL-2.0
/*
 * Starting and stopping bpftrace from C (bpftrace_run.h).  Stopping is the
 * subtle part.  bpftrace's SIGINT and SIGTERM handlers only set a flag,
 * which its event loop checks when epoll_wait() returns; a signal that lands
 * while the loop is between two waits is noted and then slept through, for
 * good when the probes are quiet.  Under TCG that was seen about once in 25
 * stops.  So the signal is sent again each second until bpftrace exits.  It
 * is SIGTERM: once its loop has ended bpftrace puts SIGINT back to the
 * default, and a second SIGINT would kill it while it prints its maps,
 * whereas SIGTERM keeps the flag-setting handler to the end.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpftrace_run.h"

#define POLL_US (100 * 1000)
#define POLLS_PER_S 10

/* Has bpftrace's output a line starting "Tracing" yet? */
static int says_tracing(const char *path)
{
	char line[256];
	int found = 0;
	FILE *f = fopen(path, "r");

	while (f && !found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "Tracing", 7);
	if (f)
		fclose(f);
	return found;
}

int bpftrace_start(struct bpftrace_run *r, char *const argv[], int attach_s,
		   const char **why)
{
	int fd;

	strcpy(r->out, "/tmp/bpftrace.XXXXXX");
	fd = mkstemp(r->out);
	if (fd < 0) {
		*why = "cannot create its output file in /tmp";
		return -1;
	}
	if (access(BPFTRACE_PATH, X_OK)) {
		close(fd);
		*why = BPFTRACE_PATH " is missing: scripts/provision installs it";
		return -1;
	}
	r->pid = fork();
	if (r->pid < 0) {
		close(fd);
		*why = "fork() failed";
		return -1;
	}
	if (r->pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(BPFTRACE_PATH, argv);
		_exit(127);
	}
	close(fd);
	for (int polls = 0; polls < attach_s * POLLS_PER_S; polls++) {
		if (says_tracing(r->out))
			return 0;
		if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
			*why = "bpftrace exited before attaching";
			return -1;
		}
		usleep(POLL_US);
	}
	if (says_tracing(r->out))
		return 0;
	bpftrace_stop(r, 0);
	*why = "bpftrace did not attach in time";
	return -1;
}

int bpftrace_stop(struct bpftrace_run *r, int kill_after_s)
{
	for (int polls = 0; polls < kill_after_s * POLLS_PER_S; polls++) {
		if (polls % POLLS_PER_S == 0)
			kill(r->pid, SIGTERM);
		if (waitpid(r->pid, NULL, WNOHANG) == r->pid)
			return 0;
		usleep(POLL_US);
	}
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	return 1;
}
