// SPDX-License-Identifier: GPL-2.0
/*
 * Who can name which process, and targets at the edges (docs/threat-model.md):
 * PIDs resolve in the caller's pid namespace only; a target that changes its
 * credentials while it is read; an address space at the default
 * vm.max_map_count (65,000 VMAs), read whole through the continuation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_util.h"

static int mm_info(int fd, pid_t pid, struct cowtrace_mm_info *mi)
{
	memset(mi, 0, sizeof(*mi));
	mi->size = sizeof(*mi);
	mi->pid = pid;
	return ioctl(fd, COWTRACE_IOC_MM_INFO, mi) ? errno : 0;
}

/*
 * In a new pid namespace, pid 1 is the namespace's own init, and a process
 * outside it cannot be named at all, even by its global number.
 */
TEST(pids_resolve_in_the_callers_namespace)
{
	pid_t outside = getpid(), child;
	int status;

	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		pid_t init;

		if (unshare(CLONE_NEWPID))
			_exit(10);
		init = fork();	/* pid 1 of the new namespace */
		if (init == 0) {
			struct cowtrace_mm_info mi;
			int fd = open(CT_CTL_PATH, O_RDWR);

			if (fd < 0)
				_exit(11);
			if (getpid() != 1)
				_exit(12);
			/* itself, as pid 1 */
			if (mm_info(fd, 1, &mi) || mi.tgid != 1 || strcmp(mi.comm, "guest_perm"))
				_exit(13);
			/* the test process, by its number outside: not visible here */
			if (mm_info(fd, outside, &mi) != ESRCH)
				_exit(14);
			_exit(0);
		}
		if (init < 0 || waitpid(init, &status, 0) != init)
			_exit(15);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 16);
	}
	ASSERT_EQ(waitpid(child, &status, 0), child);
	ASSERT_TRUE(WIFEXITED(status));
	switch (WEXITSTATUS(status)) {
	case 0:
		break;
	case 10:
		SKIP("unshare(CLONE_NEWPID) failed: no pid namespaces in this kernel");
	case 13:
		FAIL("in a new pid namespace, MM_INFO of pid 1 did not describe the namespace's init");
	case 14:
		FAIL("a pid from outside the namespace was resolved instead of ESRCH");
	default:
		FAIL("the pid-namespace child failed at step %d", WEXITSTATUS(status));
	}
}

/* A target that flips its uid/gid while snapshots run: each call succeeds. */
TEST(target_changing_credentials_is_read_consistently)
{
	struct cowtrace_page *pages = calloc(4096, sizeof(*pages));
	int fd = must_open_ctl(), ok = 0;
	pid_t t;

	ASSERT_TRUE(pages);
	t = fork();
	ASSERT_GE(t, 0);
	if (t == 0) {
		/* saved ids keep root, so it can flip back and forth */
		for (;;) {
			if (setresuid(0, 65534, 0) || setresuid(0, 0, 0))
				_exit(1);
			if (setresgid(0, 65534, 0) || setresgid(0, 0, 0))
				_exit(1);
		}
	}
	for (int i = 0; i < 200; i++) {
		struct cowtrace_snapshot s = {
			.size = sizeof(s), .pid = t, .end = 1ull << 47,
			.pages = (uintptr_t)pages, .page_cap = 4096,
		};

		if (ioctl(fd, COWTRACE_IOC_SNAPSHOT, &s))
			ct_fail(__FILE__, __LINE__, "snapshot %d of a credential-flipping target: %s",
				i, strerror(errno));
		else
			ok += s.page_count > 0;
	}
	kill(t, SIGKILL);
	waitpid(t, NULL, 0);
	EXPECT_EQ(ok, 200);
	free(pages);
	close(fd);
}

/*
 * VMAs in /proc/PID/maps: its lines, less [vsyscall], the gate area every
 * process shows on kernels with LEGACY_VSYSCALL_XONLY, which is no VMA of
 * the mm (and lies above the user range a snapshot covers).
 */
static long maps_lines(pid_t pid)
{
	char path[64], buf[65536];
	long lines = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		lines -= !!strstr(buf, "[vsyscall]");
	}
	close(fd);
	return lines;
}

/*
 * 65,000 VMAs, just under the default vm.max_map_count.  The KASAN/lockdep
 * debug kernels under TCG take about ten minutes to build that many; there
 * the same exact check runs on 8,000.
 */
static long many_vmas(void)
{
	const char *k = getenv("COWTRACE_KERNEL");

	return k && !strncmp(k, "debug", 5) ? 8000 : 65000;
}

TEST_TIMEOUT(sixty_five_thousand_vmas_are_all_reported, 600)
{
	const long nr = many_vmas();
	struct ct_snapshot s;
	struct ct_error err;
	int ready[2];
	long maps;
	pid_t t;
	char c;

	ASSERT_EQ(pipe(ready), 0);
	ct_step("the target splits a mapping into %ld VMAs", nr);
	t = fork();
	ASSERT_GE(t, 0);
	if (t == 0) {
		/* every other page writable: each page its own VMA */
		char *m = mmap(NULL, (size_t)nr * PAGE, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED)
			_exit(1);
		for (long i = 0; i < nr / 2; i++)
			if (mprotect(m + 2 * i * PAGE, PAGE, PROT_READ | PROT_WRITE))
				_exit(2);
		if (write(ready[1], "x", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	ct_step("count /proc/PID/maps");
	maps = maps_lines(t);
	ASSERT_GE(maps, nr);
	ct_step("snapshot every VMA");
	if (ct_snapshot_module(t, 0, 1ull << 47, &s, &err))
		FAIL("%s", err.msg);
	printf("# %ld VMAs in /proc/%d/maps, %zu in the snapshot\n", maps, t, s.nr_vmas);
	EXPECT_EQ(s.nr_vmas, maps);
	ct_snapshot_free(&s);
	kill(t, SIGKILL);
	waitpid(t, NULL, 0);
	close(ready[0]);
}
