/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A puppet is a process that does exactly what it is told, one memory
 * operation at a time, and blocks in between.  Scenarios and tests drive
 * puppets to a state, snapshot them while they are blocked (so nothing
 * moves), and drive them on.  A puppet's FORK makes a second puppet whose
 * memory is the fork()ed copy: the subject of every COW question.  All
 * puppets run on one CPU (puppet.c says why).
 */
#ifndef COWTRACE_PUPPET_H
#define COWTRACE_PUPPET_H

#include <stdint.h>
#include <sys/types.h>

enum puppet_op {
	PUP_MMAP = 1,	/* a=len b=PUP_MAP_* c=prot -> address */
	PUP_WRITE,	/* a=addr b=len c=byte: write c to one byte per page */
	PUP_READ,	/* a=addr b=len: read one byte per page -> their sum */
	PUP_FILL,	/* a=addr b=len c=byte: memset the whole range */
	PUP_MADVISE,	/* a=addr b=len c=advice -> 0 or -errno */
	PUP_MUNMAP,	/* a=addr b=len */
	PUP_MPROTECT,	/* a=addr b=len c=prot */
	PUP_FORK,	/* new puppet from fork(); -> child pid */
	PUP_VFORK,	/* vfork()-like clone sharing the mm; -> child pid.  With
			 * b != 0 the child first writes c to one byte per page of
			 * [a, a+b), in the mm it shares, and the call returns
			 * once it has */
	PUP_EXEC_SLEEP,	/* fork a child that execs sleep; -> child pid */
	PUP_SELF,	/* -> an address of its own: a=0 a page of initialised
			 * data, a=1 code, a=2 a page of BSS (uninitialised) */
	PUP_NOP,	/* a round trip: the puppet is quiescent afterwards */
	PUP_VMSPLICE,	/* a=addr b=len: vmsplice() the range into a new pipe the
			 * puppet keeps (no SPLICE_F_GIFT) -> bytes spliced */
	PUP_PIPE_READ,	/* a=len: read len bytes from that pipe -> the first, or
			 * 256 if they are not all that same byte */
	PUP_SOFT_DIRTY_CLEAR, /* write "4" to /proc/self/clear_refs: every PTE
			 * write-protected, as soft-dirty tracking does */
	PUP_VFORK_WAIT,	/* a real vfork: clone(CLONE_VM | CLONE_VFORK) whose child
			 * blocks reading the fd passed with the call
			 * (puppet_call_begin) and exits at EOF; the puppet
			 * waits in the kernel until then -> child pid */
	PUP_EXIT,
};

/* How PUP_MMAP maps: anonymous private unless told otherwise. */
#define PUP_MAP_SHARED	 (1u << 0)	/* MAP_SHARED anonymous (shmem) */
#define PUP_MAP_FILE	 (1u << 1)	/* a temporary file on /tmp */
#define PUP_MAP_ALIGN_2M (1u << 2)	/* 2 MiB aligned, for THP */

struct puppet {
	pid_t pid;
	int sock;		/* SOCK_SEQPACKET to the puppet */
	int vfork_release;	/* PUP_VFORK child: write to let it exit */
};

/* Start a new puppet: this same binary, exec()ed fresh. */
int puppet_spawn(struct puppet *p);
/* Call first in main() of every binary that spawns puppets. */
void puppet_maybe_run(int argc, char **argv);
/*
 * Run one operation; returns its result (cast), or sets *err and returns
 * (uint64_t)-1 when the puppet died or the operation failed.
 */
uint64_t puppet_call(struct puppet *p, enum puppet_op op, uint64_t a,
		     uint64_t b, uint64_t c);
/*
 * The same in two halves, for an operation that blocks the puppet until the
 * caller does something (PUP_VFORK_WAIT): begin sends it, with passfd (or -1)
 * for the puppet to use; end waits for its result.  Both return
 * (uint64_t)-1 with errno set when the puppet is gone or the call failed.
 */
uint64_t puppet_call_begin(struct puppet *p, enum puppet_op op, uint64_t a, uint64_t b,
			   uint64_t c, int passfd);
uint64_t puppet_call_end(struct puppet *p);
/* Whether the reply to puppet_call_begin() has come (waits 50 ms for it). */
int puppet_replied(struct puppet *p);
/*
 * PUP_FORK, giving the child as a puppet of its own.  Returns only when both
 * are blocked again with nothing left to fault (see puppet.c).
 */
int puppet_fork(struct puppet *parent, struct puppet *child);
/* End a puppet and reap it (only the orchestrator's own child is reaped). */
void puppet_kill(struct puppet *p);

#endif
