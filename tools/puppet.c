// SPDX-License-Identifier: GPL-2.0
/*
 * Puppet processes (see puppet.h).  The command channel is an AF_UNIX
 * SOCK_SEQPACKET pair: one message per command, one per reply, and the new
 * channel for a fork()ed puppet travels as SCM_RIGHTS with PUP_FORK.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "puppet.h"

struct cmd {
	uint32_t op;
	uint64_t a, b, c;
};

struct reply {
	int64_t val;
	int32_t err;	/* errno of a failed operation, 0 if it worked */
};

/*
 * Something to point at in the data segment (PUP_SELF): a page of its own, so
 * no other write to .data (or a lazily bound .got.plt) copies it behind the
 * scenario's back.  Initialised, so it starts as a file-backed private page.
 */
static volatile char puppet_data_byte[4096] __attribute__((aligned(4096))) = { 1 };
/* A page of BSS of its own (PUP_SELF 2): no other variable shares it. */
static volatile char puppet_bss_page[4096] __attribute__((aligned(4096)));

static int send_fd(int sock, const void *buf, size_t len, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd >= 0) {
		msg.msg_control = ctl;
		msg.msg_controllen = sizeof(ctl);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int recv_fd(int sock, void *buf, size_t len, int *fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

	*fd = -1;
	if (n != (ssize_t)len)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

static int64_t do_mmap(uint64_t len, uint32_t how, int prot)
{
	int flags = how & PUP_MAP_SHARED ? MAP_SHARED : MAP_PRIVATE;
	size_t maplen = len;
	int fd = -1;
	char *p;

	if (how & PUP_MAP_FILE) {
		char path[] = "/tmp/cowtrace-puppet-XXXXXX";

		fd = mkstemp(path);
		if (fd < 0)
			return -errno;
		unlink(path);
		if (ftruncate(fd, len))
			return -errno;
	} else {
		flags |= MAP_ANONYMOUS;
	}
	if (how & PUP_MAP_ALIGN_2M)
		maplen += 2u << 20;
	p = mmap(NULL, maplen, prot, flags, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED)
		return -errno;
	if (how & PUP_MAP_ALIGN_2M) {
		uintptr_t mask = (2u << 20) - 1;
		char *aligned = (char *)(((uintptr_t)p + mask) & ~mask);

		if (aligned > p)
			munmap(p, aligned - p);
		munmap(aligned + len, p + maplen - (aligned + len));
		p = aligned;
	}
	return (int64_t)(uintptr_t)p;
}

/*
 * What a vfork child is told.  Static, not on the stack: the child shares
 * the mm and may read it after do_vfork() has returned.
 */
struct vfork_arg {
	int release;	/* read end: the child exits at EOF */
	int hold;	/* write end, which the child must not keep open */
	int written;	/* write end: closed once the child has written */
	volatile unsigned char *addr;	/* what it writes: one byte per page */
	uint64_t len;
	unsigned char byte;
};

static struct vfork_arg vfork_arg;
static char vfork_stack[64 * 1024] __attribute__((aligned(16)));

static void block_until_eof(int fd)
{
	char c;

	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
}

static int vfork_child(void *arg)
{
	struct vfork_arg *va = arg;

	/* shares the parent's mm; blocks until the orchestrator lets go */
	close(va->hold);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (uint64_t off = 0; off < va->len; off += 4096)
		va->addr[off] = va->byte;
	if (va->written >= 0)
		close(va->written);
	block_until_eof(va->release);
	_exit(0);
}

static int64_t do_vfork(const struct cmd *c, int *release_fd)
{
	struct vfork_arg *va = &vfork_arg;
	int fds[2], written[2] = { -1, -1 };
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) || (c->b && pipe2(written, O_CLOEXEC)))
		return -errno;
	*va = (struct vfork_arg){ .release = fds[0], .hold = fds[1], .written = written[1],
				  .addr = (volatile unsigned char *)(uintptr_t)c->a, .len = c->b,
				  .byte = (unsigned char)c->c };
	/*
	 * CLONE_VM without CLONE_VFORK: the orchestrator must keep driving us
	 * (to reply) while the child lives; the mm is shared all the same.
	 */
	pid = clone(vfork_child, vfork_stack + sizeof(vfork_stack), CLONE_VM | SIGCHLD, va);
	close(fds[0]);
	if (written[1] >= 0)
		close(written[1]);
	if (pid < 0) {
		close(fds[1]);
		if (written[0] >= 0)
			close(written[0]);
		return -errno;
	}
	if (written[0] >= 0) {	/* EOF: the child has written (or died) */
		block_until_eof(written[0]);
		close(written[0]);
	}
	*release_fd = fds[1];
	return pid;
}

static int vfork_wait_child(void *arg)
{
	/* the parent sleeps in the kernel until this exits (CLONE_VFORK) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	block_until_eof((int)(intptr_t)arg);
	_exit(0);
}

static int64_t do_vfork_wait(int release)
{
	pid_t pid;

	if (release < 0)
		return -EBADF;
	pid = clone(vfork_wait_child, vfork_stack + sizeof(vfork_stack),
		    CLONE_VM | CLONE_VFORK | SIGCHLD, (void *)(intptr_t)release);
	close(release);
	return pid < 0 ? -errno : pid;
}

/* Returns once the child has exec()ed: until then it shares our pages. */
static int64_t do_exec_sleep(void)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		close(fds[0]);
		/* hold no pipe of the caller's open, and die with the puppet */
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("sleep", "sleep", "3600", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* EOF when exec closes the write end */
	while (read(fds[0], &c, 1) < 0 && errno == EINTR)
		;
	close(fds[0]);
	return pid < 0 ? -errno : pid;
}

/*
 * The pipe of PUP_VMSPLICE: its buffers hold references to the puppet's
 * pages (GUP, FOLL_GET) until PUP_PIPE_READ consumes them.  The read end is
 * non-blocking, so a read of more than was spliced fails instead of hanging.
 */
static int splice_pipe[2] = { -1, -1 };

static void close_splice_pipe(void)
{
	for (int i = 0; i < 2; i++) {
		if (splice_pipe[i] >= 0)
			close(splice_pipe[i]);
		splice_pipe[i] = -1;
	}
}

static int64_t do_vmsplice(void *addr, uint64_t len)
{
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	ssize_t n;

	close_splice_pipe();
	if (pipe2(splice_pipe, O_CLOEXEC))
		return -errno;
	if (fcntl(splice_pipe[0], F_SETFL, O_NONBLOCK)) {
		int e = errno;

		close_splice_pipe();
		return -e;
	}
	n = vmsplice(splice_pipe[1], &iov, 1, 0);
	return n < 0 ? -errno : n;
}

static int64_t do_pipe_read(uint64_t len)
{
	unsigned char buf[4096];
	int first = -1, same = 1;

	if (splice_pipe[0] < 0)
		return -EBADF;
	while (len) {
		ssize_t n = read(splice_pipe[0], buf, len < sizeof(buf) ? len : sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* less in the pipe than asked for */
		if (first < 0)
			first = buf[0];
		for (ssize_t i = 0; i < n; i++)
			same &= buf[i] == first;
		len -= n;
	}
	return first < 0 ? -EINVAL : same ? first : 256;
}

static int64_t do_soft_dirty_clear(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int64_t ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

static void puppet_main(int sock) __attribute__((noreturn));

static int64_t do_fork(int newsock)
{
	pid_t pid = fork();

	if (pid == 0)
		puppet_main(newsock);
	close(newsock);
	return pid < 0 ? -errno : pid;
}

static int64_t run_cmd(const struct cmd *c, int newsock, int *extra_fd)
{
	volatile unsigned char *p = (volatile unsigned char *)(uintptr_t)c->a;
	long page = sysconf(_SC_PAGESIZE);
	int64_t sum = 0;

	switch (c->op) {
	case PUP_MMAP:
		return do_mmap(c->a, c->b, c->c);
	case PUP_WRITE:
		for (uint64_t off = 0; off < c->b; off += page)
			p[off] = (unsigned char)c->c;
		return 0;
	case PUP_READ:
		for (uint64_t off = 0; off < c->b; off += page)
			sum += p[off];
		return sum;
	case PUP_FILL:
		memset((void *)p, (int)c->c, c->b);
		return 0;
	case PUP_MADVISE:
		return madvise((void *)p, c->b, c->c) ? -errno : 0;
	case PUP_MUNMAP:
		return munmap((void *)p, c->b) ? -errno : 0;
	case PUP_MPROTECT:
		return mprotect((void *)p, c->b, c->c) ? -errno : 0;
	case PUP_FORK:
		return do_fork(newsock);
	case PUP_VFORK:
		return do_vfork(c, extra_fd);
	case PUP_VFORK_WAIT:
		return do_vfork_wait(newsock);
	case PUP_EXEC_SLEEP:
		return do_exec_sleep();
	case PUP_NOP:
		return 0;
	case PUP_VMSPLICE:
		return do_vmsplice((void *)p, c->b);
	case PUP_PIPE_READ:
		return do_pipe_read(c->a);
	case PUP_SOFT_DIRTY_CLEAR:
		return do_soft_dirty_clear();
	case PUP_SELF:
		if (c->a == 1)
			return (int64_t)(uintptr_t)&puppet_main;
		if (c->a == 2)
			return (int64_t)(uintptr_t)puppet_bss_page;
		return (int64_t)(uintptr_t)puppet_data_byte;
	default:
		return -EINVAL;
	}
}

static void puppet_main(int sock)
{
	struct cmd c;
	int newsock;

	/* die with the orchestrator, never linger as an orphan */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "cowtrace-puppet");
	/* our own children (forked puppets, sleepers) reap themselves */
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		struct reply r = { 0 };
		int extra = -1;

		if (recv_fd(sock, &c, sizeof(c), &newsock))
			_exit(0);
		if (c.op == PUP_EXIT)
			_exit(0);
		r.val = run_cmd(&c, newsock, &extra);
		if (r.val < 0 && r.val > -4096) {
			r.err = (int)-r.val;
			r.val = -1;
		}
		if (send_fd(sock, &r, sizeof(r), extra))
			_exit(1);
		if (extra >= 0)
			close(extra);
	}
}

#define PUPPET_ARG "--cowtrace-puppet"

/*
 * Every puppet runs on the same CPU, the first it may use.  A page written a
 * moment ago may still sit in that CPU's LRU batch, which holds a reference;
 * do_wp_page() drains only the local CPU's batch before judging whether the
 * last sharer may reuse a page, so on another CPU the extra reference turns
 * the reuse into a copy.  One CPU keeps the kernel's textbook answer exact.
 */
static void pin_to_one_cpu(void)
{
	cpu_set_t allowed, one;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	CPU_ZERO(&one);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &allowed)) {
			CPU_SET(cpu, &one);
			sched_setaffinity(0, sizeof(one), &one);
			return;
		}
	}
}

void puppet_maybe_run(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], PUPPET_ARG)) {
		pin_to_one_cpu();
		puppet_main(atoi(argv[2]));
	}
}

/*
 * A fresh program, not a plain fork: a forked puppet would share its anonymous
 * pages with the orchestrator, whose own writes would then change their
 * mapcounts (and copy them) while the puppet is being observed.
 */
int puppet_spawn(struct puppet *p)
{
	char fdarg[16];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	p->vfork_release = -1;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		close(sv[0]);
		fcntl(sv[1], F_SETFD, 0);
		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		execl("/proc/self/exe", "cowtrace-puppet", PUPPET_ARG, fdarg,
		      (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	p->sock = sv[0];
	return 0;
}

static int send_cmd(struct puppet *p, enum puppet_op op, uint64_t a, uint64_t b,
		    uint64_t c, int passfd)
{
	struct cmd cmd = { .op = op, .a = a, .b = b, .c = c };

	if (send_fd(p->sock, &cmd, sizeof(cmd), passfd)) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

static uint64_t recv_reply(struct puppet *p, int *gotfd)
{
	struct reply r;
	int fd = -1;

	if (recv_fd(p->sock, &r, sizeof(r), &fd)) {
		errno = EPIPE;
		return (uint64_t)-1;
	}
	if (gotfd)
		*gotfd = fd;
	else if (fd >= 0)
		close(fd);
	if (r.err) {
		errno = r.err;
		return (uint64_t)-1;
	}
	return (uint64_t)r.val;
}

static uint64_t call(struct puppet *p, enum puppet_op op, uint64_t a,
		     uint64_t b, uint64_t c, int passfd, int *gotfd)
{
	if (send_cmd(p, op, a, b, c, passfd))
		return (uint64_t)-1;
	return recv_reply(p, gotfd);
}

uint64_t puppet_call_begin(struct puppet *p, enum puppet_op op, uint64_t a, uint64_t b,
			   uint64_t c, int passfd)
{
	return send_cmd(p, op, a, b, c, passfd) ? (uint64_t)-1 : 0;
}

uint64_t puppet_call_end(struct puppet *p)
{
	return recv_reply(p, NULL);
}

int puppet_replied(struct puppet *p)
{
	struct pollfd pfd = { .fd = p->sock, .events = POLLIN };

	return poll(&pfd, 1, 50) > 0;
}

uint64_t puppet_call(struct puppet *p, enum puppet_op op, uint64_t a,
		     uint64_t b, uint64_t c)
{
	if (op == PUP_VFORK) {
		int fd = -1;
		uint64_t pid = call(p, op, a, b, c, -1, &fd);

		p->vfork_release = fd;
		return pid;
	}
	return call(p, op, a, b, c, -1, NULL);
}

int puppet_fork(struct puppet *parent, struct puppet *child)
{
	int sv[2];
	uint64_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	pid = call(parent, PUP_FORK, 0, 0, 0, sv[1], NULL);
	close(sv[1]);
	if (pid == (uint64_t)-1) {
		close(sv[0]);
		return -1;
	}
	child->pid = (pid_t)pid;
	child->sock = sv[0];
	child->vfork_release = -1;
	/*
	 * After replying, both processes still run back into recvmsg() over
	 * stack pages that fork() just made COW-shared, faulting as they go,
	 * concurrently with whatever the caller does next.  One more round
	 * trip each: the way back then touches only pages already faulted.
	 */
	if (call(child, PUP_NOP, 0, 0, 0, -1, NULL) == (uint64_t)-1 ||
	    call(parent, PUP_NOP, 0, 0, 0, -1, NULL) == (uint64_t)-1)
		return -1;
	return 0;
}

void puppet_kill(struct puppet *p)
{
	if (p->sock >= 0) {
		struct cmd c = { .op = PUP_EXIT };

		send(p->sock, &c, sizeof(c), MSG_NOSIGNAL);
		close(p->sock);
		p->sock = -1;
	}
	if (p->vfork_release >= 0) {
		close(p->vfork_release);
		p->vfork_release = -1;
	}
	/*
	 * Reap our own children.  A grandchild is reaped by its puppet parent
	 * (SIGCHLD ignored there): wait until it is gone all the same, so that
	 * its exit cannot change what the next snapshot sees.
	 */
	if (p->pid > 0 && waitpid(p->pid, NULL, 0) < 0 && errno == ECHILD) {
		for (int i = 0; i < 5000 && kill(p->pid, 0) == 0; i++)
			usleep(1000);
	}
	p->pid = 0;
}
