// SPDX-License-Identifier: GPL-2.0
/*
 * workload: a parent that holds SIZE MiB of private anonymous memory, forks,
 * and a child that writes PERCENT of those pages, like a snapshotting child
 * (Redis BGSAVE) touching part of its parent's heap.  Prints
 * "parent PID child PID addr ADDR" once the child has written, then both wait
 * to be looked at until killed (or for SECONDS).
 *
 *	usage: workload SIZE_MIB PERCENT [SECONDS]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE), mib, percent, seconds = 3600;
	size_t len, npages, dirty;
	int ready[2];
	char *buf, c;
	pid_t child;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: workload SIZE_MIB PERCENT [SECONDS]\n");
		return 1;
	}
	mib = atol(argv[1]);
	percent = atol(argv[2]);
	if (argc == 4)
		seconds = atol(argv[3]);
	if (mib < 1 || percent < 0 || percent > 100 || seconds < 1) {
		fprintf(stderr, "workload: SIZE_MIB >= 1, 0 <= PERCENT <= 100, SECONDS >= 1\n");
		return 1;
	}
	len = (size_t)mib << 20;
	npages = len / page;
	dirty = npages * percent / 100;
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || pipe(ready)) {
		perror("workload");
		return 2;
	}
	/* 4 KiB pages, so the numbers read as pages */
	madvise(buf, len, MADV_NOHUGEPAGE);
	memset(buf, 'p', len);
	child = fork();
	if (child < 0) {
		perror("workload: fork");
		return 2;
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		for (size_t i = 0; i < dirty; i++)
			buf[i * page] = 'c';
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		sleep(seconds);
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1)
		return 2;
	printf("parent %d child %d addr %p\n", (int)getpid(), (int)child, (void *)buf);
	fflush(stdout);
	sleep(seconds);
	kill(child, SIGTERM);
	return 0;
}
