// SPDX-License-Identifier: GPL-2.0
/*
 * The scenarios of cowtrace run: the textbook's copy-on-write stories, each
 * played on real processes with the step engine (run_step.h).  A scenario
 * says what to do and what each step was about; what the kernel did, the
 * engine reads from the snapshots.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "procstat.h"
#include "reserve.h"
#include "run_step.h"

/* ---- the scenarios ---- */

#define PG 4096ull

static void sc_shared_variable(struct scen *sc)
{
	uint64_t var = scen_call(sc, &sc->parent, PUP_SELF, 0, 0, 0) & ~(PG - 1);

	scen_add_region(sc, var, PG, "the page holding shared_variable");
	scen_call(sc, &sc->parent, PUP_WRITE, var, 1, 10);
	scen_observe(sc, "parent: int shared_variable = 10", 0, var, "wrote", NULL);
	scen_fork(sc);
	scen_observe_fork(sc);
	scen_call(sc, &sc->child, PUP_WRITE, var, 1, 20);
	scen_observe(sc, "child: shared_variable = 20", 1, var, "wrote", NULL);
	scen_note(sc, "read_sum", (int64_t)scen_call(sc, &sc->parent, PUP_READ, var, 1, 0));
	scen_note(sc, "parent_wrote_sum", 10);
	scen_observe(sc, "parent: printf(shared_variable) -> still 10", 0, 0, NULL,
		"the parent still maps its own page, now its only mapping: the child's write went to the child's copy");
}

/*
 * The exec'd child, once it runs the new program and sleeps: from then on
 * its snapshots are the new program's.  If it does not get there, the
 * scenario goes on without it.
 */
static void watch_exec(struct scen *sc, pid_t pid, const char *comm)
{
	struct ct_proc_stat st;

	if (sc->failed || ct_proc_wait_state(pid, 'S', comm, 5000, &st))
		return;
	sc->have_child = 1;
	sc->child_pid = pid;
}

static void sc_fork_exec(struct scen *sc)
{
	uint64_t buf = scen_map_region(sc, 256 * PG, 0, "a 1 MiB heap");
	uint64_t pid;

	scen_add_probe(sc, scen_call(sc, &sc->parent, PUP_SELF, 1, 0, 0) & ~(PG - 1));	/* its text */
	scen_call(sc, &sc->parent, PUP_WRITE, buf, 256 * PG, 1);
	scen_observe(sc, "parent fills 1 MiB", 0, 0, NULL, "256 private pages, writable and exclusive");
	pid = scen_call(sc, &sc->parent, PUP_EXEC_SLEEP, 0, 0, 0);
	watch_exec(sc, (pid_t)pid, "sleep");
	scen_observe(sc, "fork() + exec(\"sleep\") in the child", 0, 0, NULL,
		"the child (pid %" PRIu64 ") replaced its copy of the address space at exec%s: the parent's pages were write-protected by fork() and are mapped once again",
		pid, sc->have_child ? " with sleep's" : "");
	scen_call(sc, &sc->parent, PUP_WRITE, buf, PG, 2);
	scen_observe(sc, "parent writes its first page", 0, buf, "wrote", NULL);
}

#define VFORK_PAGES 64
#define VFORK_BYTE 7	/* what vfork_write's child writes */

/* 256 KiB filled, and a vfork child that writes byte to every page of it (0: none). */
static uint64_t vfork_over_buffer(struct scen *sc, int byte)
{
	uint64_t buf = scen_map_region(sc, VFORK_PAGES * PG, 0, "a 256 KiB buffer");
	uint64_t pid;

	scen_call(sc, &sc->parent, PUP_WRITE, buf, VFORK_PAGES * PG, 1);
	scen_observe(sc, "parent fills 256 KiB", 0, 0, NULL, NULL);
	pid = scen_call(sc, &sc->parent, PUP_VFORK, buf, byte ? VFORK_PAGES * PG : 0, byte);
	if (pid == (uint64_t)-1)
		return 0;
	sc->have_child = 1;
	sc->child_pid = pid;
	return buf;
}

static void sc_vfork(struct scen *sc)
{
	if (!vfork_over_buffer(sc, 0))
		return;
	scen_observe(sc, "vfork(): the child borrows the parent's mm", 0, 0, NULL,
		"no page table was copied and nothing was write-protected: the child runs in the parent's own address space (same PFNs, still writable)");
}

/* N2: the vfork child writes, and the parent reads what it wrote. */
static void sc_vfork_write(struct scen *sc)
{
	uint64_t buf = vfork_over_buffer(sc, VFORK_BYTE);
	int64_t sum;

	if (!buf)
		return;
	scen_observe(sc, "vfork(): the child writes 7 to every page of the buffer", 0, 0, NULL,
		"the child (pid %d) wrote in the mm it borrows, which is the parent's: see what changed in the parent's pages, and what it reads next",
		(int)sc->child_pid);
	sum = (int64_t)scen_call(sc, &sc->parent, PUP_READ, buf, VFORK_PAGES * PG, 0);
	scen_note(sc, "read_sum", sum);
	scen_note(sc, "child_wrote_sum", VFORK_BYTE * VFORK_PAGES);
	scen_observe(sc, "parent reads one byte of every page", 0, 0, NULL,
		"the parent read %" PRId64 " over %d pages: %s", sum, VFORK_PAGES,
		sum == VFORK_BYTE * VFORK_PAGES ? "the bytes its vfork child wrote, in its own pages" :
		"not what its vfork child wrote");
}

/*
 * N3: a real vfork (CLONE_VFORK).  The puppet's vfork() cannot return, so it
 * cannot reply, until its child exits: the call is sent, the parent's state
 * read while the child lives, and the reply taken once the child is let go.
 */
static void sc_vfork_suspends(struct scen *sc)
{
	uint64_t buf = scen_map_region(sc, 4 * PG, 0, "a 16 KiB buffer");
	struct ct_proc_stat st;
	int rel[2], early;
	pid_t child;

	scen_call(sc, &sc->parent, PUP_WRITE, buf, 4 * PG, 1);
	scen_observe(sc, "parent fills 16 KiB", 0, 0, NULL, NULL);
	if (sc->failed || pipe2(rel, O_CLOEXEC))
		return;
	if (puppet_call_begin(&sc->parent, PUP_VFORK_WAIT, 0, 0, 0, rel[0]) == (uint64_t)-1) {
		close(rel[0]);
		close(rel[1]);
		scen_call(sc, &sc->parent, PUP_NOP, 0, 0, 0);	/* says what failed */
		return;
	}
	close(rel[0]);
	ct_proc_wait_state(sc->parent.pid, 'D', NULL, 2000, &st);
	early = puppet_replied(&sc->parent);
	child = ct_proc_child_of(sc->parent.pid);
	scen_note(sc, "parent_state", st.state);
	scen_note(sc, "replied_while_child_lives", early);
	if (child > 0 && !early) {
		sc->have_child = 1;
		sc->child_pid = child;
	}
	scen_observe(sc, "vfork(): the child lives, blocked on a pipe", 0, 0, NULL,
		"the parent is in state %c (%s) while its child (pid %d) lives, and %s", st.state ? st.state : '?',
		st.state == 'D' ? "waiting in the kernel" : "not waiting in the kernel", (int)child,
		early ? "it has replied: vfork() returned" : "it has not replied: vfork() has not returned");
	close(rel[1]);	/* the child reads EOF and exits */
	if (puppet_call_end(&sc->parent) == (uint64_t)-1) {
		sc->failed = 1;
		ct_err(EXIT_RUNTIME, "scenario %s: vfork failed: %s", sc->name, strerror(errno));
		return;
	}
	scen_note(sc, "vfork_returned", 1);
	sc->have_child = 0;	/* gone: its exit is in this step's events */
	scen_observe(sc, "the child exits: vfork() returns in the parent", 0, 0, NULL,
		"the child (pid %d) exited, and only then did the parent's vfork() return", (int)child);
}

static void sc_private_vs_shared(struct scen *sc)
{
	uint64_t priv = scen_map_region(sc, 4 * PG, 0, "MAP_PRIVATE");
	uint64_t shr = scen_map_region(sc, 4 * PG, PUP_MAP_SHARED, "MAP_SHARED");
	int64_t sum;

	scen_call(sc, &sc->parent, PUP_WRITE, priv, 4 * PG, 1);
	scen_call(sc, &sc->parent, PUP_WRITE, shr, 4 * PG, 1);
	scen_observe(sc, "parent writes a MAP_PRIVATE and a MAP_SHARED mapping", 0, 0, NULL, NULL);
	scen_fork(sc);
	scen_observe(sc, "fork()", 0, 0, NULL,
		"the private pages are now shared read-only; fork() copied no PTEs of the MAP_SHARED mapping at all: the child will fault them in");
	scen_call(sc, &sc->child, PUP_WRITE, priv, PG, 2);
	scen_observe(sc, "child writes the MAP_PRIVATE page", 1, priv, "wrote", NULL);
	scen_call(sc, &sc->child, PUP_WRITE, shr, PG, 2);
	scen_observe(sc, "child writes the MAP_SHARED page", 1, shr, "wrote", NULL);
	sum = (int64_t)scen_call(sc, &sc->parent, PUP_READ, shr, PG, 0);
	scen_note(sc, "read_sum", sum);
	scen_note(sc, "child_wrote_sum", 2);
	scen_observe(sc, "parent reads the MAP_SHARED page", 0, 0, NULL,
		"the parent read %" PRId64 ": %s", sum,
		sum == 2 ? "the byte the child wrote, in the one page both map" : "not the child's byte");
}

/* The page of text the puppets run, and a fork over it: its address. */
static uint64_t fork_over_text(struct scen *sc)
{
	uint64_t code = scen_call(sc, &sc->parent, PUP_SELF, 1, 0, 0) & ~(PG - 1);

	scen_add_region(sc, code, PG, "a page of program text");
	scen_observe(sc, "the parent runs its code", 0, 0, NULL, NULL);
	scen_fork(sc);
	scen_observe_fork(sc);
	return code;
}

static void sc_readonly_code(struct scen *sc)
{
	uint64_t code = fork_over_text(sc);

	scen_call(sc, &sc->child, PUP_READ, code, PG, 0);
	scen_observe(sc, "the child runs the same code", 1, code, "executed", NULL);
}

/* N5: self-modifying code, after mprotect(): the byte written is the one read. */
static void sc_code_write(struct scen *sc)
{
	uint64_t code = fork_over_text(sc), byte;

	scen_call(sc, &sc->child, PUP_MPROTECT, code, PG, PROT_READ | PROT_WRITE | PROT_EXEC);
	byte = scen_call(sc, &sc->child, PUP_READ, code, 1, 0);
	scen_call(sc, &sc->child, PUP_WRITE, code, 1, byte);
	scen_observe(sc, "the child makes the page writable (mprotect) and writes a byte of its code",
		1, code, "wrote", NULL);
}

/*
 * A new page waits in its CPU's LRU batch, which holds a reference of its
 * own, until the batch is full: 64 more new pages (batches hold 15 or 31)
 * drain it, so later refcounts are the mappings' (and pins') only.  5.10's
 * do_wp_page() does not drain the batch itself, and that reference alone
 * makes a last sharer copy; 6.1's drains only its own CPU's.  The scratch
 * pages are in no region.
 */
static void drain_lru_batch(struct scen *sc)
{
	uint64_t scratch = scen_call(sc, &sc->parent, PUP_MMAP, 64 * PG, 0, PROT_READ | PROT_WRITE);

	if (sc->failed)
		return;
	scen_call(sc, &sc->parent, PUP_MADVISE, scratch, 64 * PG, MADV_NOHUGEPAGE);
	scen_call(sc, &sc->parent, PUP_WRITE, scratch, 64 * PG, 1);
}

/* One page, written, forked, and written by each side in turn, first first. */
static void write_in_turn(struct scen *sc, int first)
{
	static const char *const names[2] = { "parent", "child" };
	uint64_t buf = scen_map_region(sc, PG, 0, "one private page");
	char action[64];

	scen_call(sc, &sc->parent, PUP_WRITE, buf, PG, 1);
	drain_lru_batch(sc);
	scen_observe(sc, "parent writes a page (and 64 elsewhere, to drain this CPU's LRU batch)",
		0, buf, "wrote", NULL);
	scen_fork(sc);
	scen_observe_fork(sc);
	for (int k = 0; k < 2; k++) {
		int side = k ? !first : first;

		scen_call(sc, side ? &sc->child : &sc->parent, PUP_WRITE, buf, PG, 2 + k);
		snprintf(action, sizeof(action), "%s writes it%s", names[side],
			 k ? ": the last sharer" : "");
		scen_observe(sc, action, side, buf, "wrote", NULL);
	}
}

static void sc_last_sharer(struct scen *sc)
{
	write_in_turn(sc, CT_CHILD);
}

/* N1: the parent writes first, so it is the parent that copies. */
static void sc_parent_copies(struct scen *sc)
{
	write_in_turn(sc, CT_PARENT);
}

/* The parent reads memory it never touched, forks, and the child writes it. */
static void read_fork_write(struct scen *sc, uint64_t addr, uint64_t len, const char *action)
{
	scen_note(sc, "read_sum", (int64_t)scen_call(sc, &sc->parent, PUP_READ, addr, len, 0));
	scen_observe(sc, action, 0, addr, "read", NULL);
	scen_fork(sc);
	scen_observe_fork(sc);
	scen_call(sc, &sc->child, PUP_WRITE, addr, PG, 1);
	scen_observe(sc, "child writes", 1, addr, "wrote", NULL);
}

static void sc_zero_page(struct scen *sc)
{
	uint64_t buf = scen_map_region(sc, 4 * PG, 0, "untouched memory");

	scen_call(sc, &sc->parent, PUP_MADVISE, buf, 4 * PG, MADV_NOHUGEPAGE);
	read_fork_write(sc, buf, 4 * PG, "parent reads untouched memory");
}

/* N4: what the kernel put in the BSS, a page no one has written. */
static void sc_bss(struct scen *sc)
{
	uint64_t bss = scen_call(sc, &sc->parent, PUP_SELF, 2, 0, 0);

	scen_add_region(sc, bss, PG, "a page of the program's BSS (uninitialised data)");
	read_fork_write(sc, bss, PG, "parent reads its BSS, never written");
}

#define MB2 (2ull << 20)

/* A region of 2 MiB, 2 MiB aligned (one PMD's reach), with that madvise(). */
static uint64_t map_2m(struct scen *sc, int advice, const char *what)
{
	uint64_t buf = scen_call(sc, &sc->parent, PUP_MMAP, MB2, PUP_MAP_ALIGN_2M,
			    PROT_READ | PROT_WRITE);

	scen_add_region(sc, buf, MB2, what);
	scen_call(sc, &sc->parent, PUP_MADVISE, buf, MB2, advice);
	return buf;
}

/* N8: a first touch allocates the page tables the address needs. */
static void sc_first_touch(struct scen *sc)
{
	uint64_t buf = map_2m(sc, MADV_NOHUGEPAGE, "2 MiB, 2 MiB aligned: one page table's reach");

	scen_observe(sc, "parent maps 2 MiB and touches none of it", 0, 0, NULL, NULL);
	scen_call(sc, &sc->parent, PUP_READ, buf, PG, 0);
	scen_observe(sc, "parent reads its first page", 0, buf, "read", NULL);
}

static void sc_thp(struct scen *sc)
{
	uint64_t len = MB2;
	uint64_t buf = map_2m(sc, MADV_HUGEPAGE, "a 2 MiB aligned region");

	scen_call(sc, &sc->parent, PUP_WRITE, buf, len, 1);
	scen_observe(sc, "parent writes 2 MiB with MADV_HUGEPAGE", 0, 0, NULL, NULL);
	if (!sc->failed && !(sc->prev[0].nr_pages &&
			     ct_find_page(&sc->prev[0], buf) &&
			     ct_find_page(&sc->prev[0], buf)->flags & COWTRACE_PG_THP)) {
		if (scen_text_out(sc))
			printf("  (no THP here: transparent_hugepage is off or memory is fragmented)\n");
	}
	scen_fork(sc);
	scen_observe_fork(sc);
	scen_call(sc, &sc->child, PUP_WRITE, buf + 5 * PG, 1, 2);
	scen_observe(sc, "child writes one byte", 1, buf + 5 * PG, "wrote", NULL);
}

static int ksm_run(const char *val)
{
	FILE *f = fopen("/sys/kernel/mm/ksm/run", "we");
	int ok;

	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* The number in a proc or sysfs file, or -1. */
static long read_number(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static long ksm_full_scans(void)
{
	return read_number("/sys/kernel/mm/ksm/full_scans");
}

static void sc_ksm(struct scen *sc)
{
	uint64_t buf = scen_map_region(sc, 8 * PG, 0, "8 identical pages");
	long scans;

	scen_call(sc, &sc->parent, PUP_FILL, buf, 8 * PG, 0x5a);
	scen_call(sc, &sc->parent, PUP_MADVISE, buf, 8 * PG, MADV_MERGEABLE);
	scen_observe(sc, "parent fills 8 pages with the same bytes, MADV_MERGEABLE", 0, 0, NULL, NULL);
	scans = ksm_full_scans();
	if (scans < 0 || ksm_run("1")) {
		if (scen_text_out(sc))
			printf("  (KSM not available: cannot start ksmd; run as root on a kernel with CONFIG_KSM)\n");
		return;
	}
	for (int i = 0; i < 3000 && ksm_full_scans() < scans + 3; i++)
		usleep(10000);
	ksm_run("0");
	scen_observe(sc, "ksmd scans and merges", 0, 0, NULL,
		"ksmd found identical pages and merged them into one write-protected KSM page: see the ksm-merged count");
	scen_call(sc, &sc->parent, PUP_WRITE, buf, PG, 1);
	scen_observe(sc, "parent writes one of them", 0, buf, "wrote", NULL);
	ksm_run("2");
}

static void sc_dontfork(struct scen *sc)
{
	uint64_t dont = scen_map_region(sc, 4 * PG, 0, "MADV_DONTFORK");
	uint64_t wipe = scen_map_region(sc, 4 * PG, 0, "MADV_WIPEONFORK");

	scen_call(sc, &sc->parent, PUP_WRITE, dont, 4 * PG, 1);
	scen_call(sc, &sc->parent, PUP_WRITE, wipe, 4 * PG, 1);
	scen_call(sc, &sc->parent, PUP_MADVISE, dont, 4 * PG, MADV_DONTFORK);
	scen_call(sc, &sc->parent, PUP_MADVISE, wipe, 4 * PG, MADV_WIPEONFORK);
	scen_observe(sc, "parent writes two regions: one MADV_DONTFORK, one MADV_WIPEONFORK", 0, 0, NULL, NULL);
	scen_fork(sc);
	scen_observe(sc, "fork()", 0, 0, NULL,
		"the DONTFORK region is not in the child at all; the WIPEONFORK region is there but empty: nothing was shared");
	scen_call(sc, &sc->child, PUP_READ, wipe, PG, 0);
	scen_observe(sc, "child reads the wiped region", 1, wipe, "read", NULL);
}

/*
 * pinned_write: a page that only this process maps, but that another
 * reference holds (a pipe's, from vmsplice()), write-protected by soft-dirty
 * tracking and written again.  From 5.8 to 5.18 do_wp_page() reuses an
 * anonymous page only if its refcount is 1, so the pipe's reference makes it
 * copy; from 5.19 a PageAnonExclusive page is reused whatever its refcount.
 * Every sentence says which of the two this kernel did, from the records.
 */
#define PIN_OLD 0x11	/* the page's bytes when spliced */
#define PIN_NEW 0x22	/* and after the second write */

struct pin {
	int seen;		/* the write's records were there to compare */
	uint64_t old_pfn, new_pfn;	/* the page before and after the write */
	int excl;		/* PageAnonExclusive before the write */
	int copied;		/* the write moved the parent to another page */
	int reused;		/* the write made the same page writable again */
};

static void append(char *buf, size_t len, const char *fmt, ...)
		   __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Whether the records can say PageAnonExclusive at all.  The snapshots
 * report the bit where the kernel has it; a source that cannot tell says so
 * in its CT_UNAVAIL_* bits, and then no sentence may claim or deny it.
 */
static int anon_excl_known(uint32_t unavailable)
{
	return !(unavailable & CT_UNAVAIL_ANON_EXCL);
}

static int refcount_known(const struct cowtrace_page *r, uint32_t unavailable)
{
	return r && (r->flags & COWTRACE_PG_PAGE) && !(unavailable & CT_UNAVAIL_REFCOUNT);
}

/* "mapcount 1, refcount 2, PageAnonExclusive", as far as the record tells */
static void append_counts(char *buf, size_t len, const struct cowtrace_page *r,
			  uint32_t unavailable)
{
	if (!r || !(r->flags & COWTRACE_PG_PAGE))
		return;
	append(buf, len, "mapcount %u, ", r->mapcount);
	if (refcount_known(r, unavailable))
		append(buf, len, "refcount %u", r->refcount);
	else
		append(buf, len, "refcount not available from this source");
	if (r->flags & COWTRACE_PG_ANON_EXCL)
		append(buf, len, ", PageAnonExclusive");
	if (r->flags & COWTRACE_PG_DMA_PINNED)
		append(buf, len, ", DMA-pinned");
}

static int same_page(const struct cowtrace_page *a, const struct cowtrace_page *b)
{
	return a && b && (a->flags & COWTRACE_PTE_PRESENT) && (b->flags & COWTRACE_PTE_PRESENT) &&
	       a->pfn == b->pfn;
}

static void tell_first_write(struct scen *sc, char *buf, size_t len,
			     const struct ct_story_view *v, const struct cowtrace_page *a,
			     const struct cowtrace_page *b, uint32_t unavailable)
{
	(void)sc;
	(void)v;
	(void)a;
	if (b && (b->flags & COWTRACE_PG_PAGE)) {
		append(buf, len, "; ");
		append_counts(buf, len, b, unavailable);
	}
}

static void tell_vmsplice(struct scen *sc, char *buf, size_t len,
			  const struct ct_story_view *v, const struct cowtrace_page *a,
			  const struct cowtrace_page *b, uint32_t unavailable)
{
	(void)sc;
	(void)v;
	if (!same_page(a, b) || !(b->flags & COWTRACE_PG_PAGE))
		return;		/* not what vmsplice() does: the generic sentence */
	snprintf(buf, len, "parent vmspliced %#" PRIx64 " into a pipe: ", (uint64_t)b->addr);
	if (refcount_known(b, unavailable))
		append(buf, len, "refcount %u -> %u%s", a->refcount, b->refcount,
		       b->refcount == a->refcount + 1 ? ", the pipe buffer's reference" : "");
	else
		append(buf, len, "the pipe buffer took a reference (this source cannot show the refcount)");
	append(buf, len, ", while the mapcount %s %u%s: PFN %#" PRIx64 " stays; nothing was copied",
	       a->mapcount == b->mapcount ? "stays" : "is now", b->mapcount,
	       a->mapcount == b->mapcount ? " (a reference is not a mapping)" : "",
	       (uint64_t)b->pfn);
}

/*
 * Whether clear_refs write-protected the page: its write bit says so; where
 * the source cannot read that bit, the soft-dirty bit does, which
 * clear_soft_dirty() clears in the same PTE update.  A kernel without
 * CONFIG_MEM_SOFT_DIRTY accepts the "4" and does nothing: no bit ever set.
 */
static int clear_refs_protected(const struct cowtrace_page *a, const struct cowtrace_page *b,
				uint32_t unavailable)
{
	if (!same_page(a, b))
		return 0;
	if (!(unavailable & CT_UNAVAIL_WRITE))
		return !(b->flags & COWTRACE_PTE_WRITE);
	return (a->flags & COWTRACE_PTE_SOFT_DIRTY) && !(b->flags & COWTRACE_PTE_SOFT_DIRTY);
}

static void tell_clear_refs(struct scen *sc, char *buf, size_t len,
			    const struct ct_story_view *v, const struct cowtrace_page *a,
			    const struct cowtrace_page *b, uint32_t unavailable)
{
	int *protected = sc->tell_arg;

	(void)v;
	*protected = clear_refs_protected(a, b, unavailable);
	if (!same_page(a, b))
		return;
	snprintf(buf, len, "parent wrote \"4\" to /proc/self/clear_refs, for %#" PRIx64 ": ",
		 (uint64_t)b->addr);
	if (*protected && !(unavailable & CT_UNAVAIL_WRITE))
		append(buf, len, "soft-dirty tracking write-protected the PTE, so the next write faults");
	else if (*protected)
		append(buf, len,
		       "soft-dirty tracking cleared the PTE's soft-dirty bit, and write-protected it with it (this source cannot show the write bit), so the next write faults");
	else if (unavailable & CT_UNAVAIL_WRITE && !(a->flags & COWTRACE_PTE_SOFT_DIRTY))
		append(buf, len,
		       "the page was written but never soft-dirty: this kernel tracks no soft-dirty bits (no CONFIG_MEM_SOFT_DIRTY), and clear_refs did nothing");
	else if (unavailable & CT_UNAVAIL_WRITE)
		append(buf, len, "its soft-dirty bit is still set (this source cannot show the write bit)");
	else
		append(buf, len, "the PTE stayed writable%s, so the next write will not fault",
		       b->flags & COWTRACE_PG_DMA_PINNED ?
			       " (the page is DMA-pinned, and clear_refs never write-protects those)" :
			       (a->flags & COWTRACE_PTE_SOFT_DIRTY) ? "" :
			       ", and no soft-dirty bit was ever set: no CONFIG_MEM_SOFT_DIRTY here");
	append(buf, len, "; PFN %#" PRIx64 " stays, ", (uint64_t)b->pfn);
	append_counts(buf, len, b, unavailable);
}

static void tell_pinned_write(struct scen *sc, char *buf, size_t len,
			      const struct ct_story_view *v, const struct cowtrace_page *a,
			      const struct cowtrace_page *b, uint32_t unavailable)
{
	struct pin *pin = sc->tell_arg;
	int rc = refcount_known(a, unavailable);

	if (!a || !b || !(a->flags & COWTRACE_PTE_PRESENT) || !(b->flags & COWTRACE_PTE_PRESENT))
		return;
	pin->seen = 1;
	pin->old_pfn = a->pfn;
	pin->new_pfn = b->pfn;
	pin->excl = !!(a->flags & COWTRACE_PG_ANON_EXCL);
	pin->copied = a->pfn != b->pfn && (b->flags & COWTRACE_PG_ANON);
	pin->reused = v->story == CT_STORY_REUSED;
	if (pin->copied && a->mapcount == 1) {
		snprintf(buf, len,
			 "parent wrote %#" PRIx64 ": the kernel copied the page although only this process maps it (mapcount 1): PFN %#" PRIx64 " -> %#" PRIx64,
			 (uint64_t)b->addr, (uint64_t)a->pfn, (uint64_t)b->pfn);
		if (pin->excl)
			append(buf, len, ", and although the snapshot showed it PageAnonExclusive");
		else if (rc && a->refcount > 1)
			append(buf, len,
			       ". On this kernel the reuse rule is 'refcount == 1', and the pipe's reference made it %u",
			       a->refcount);
		else if (!rc)
			append(buf, len,
			       ". On this kernel the reuse rule counts references, not mappings: the pipe's reference (a refcount this source cannot show) ruled a reuse out");
	} else if (pin->reused) {
		snprintf(buf, len,
			 "parent wrote %#" PRIx64 ": the kernel reused the page without a copy: PFN %#" PRIx64 " stays and is writable again",
			 (uint64_t)b->addr, (uint64_t)b->pfn);
		if (pin->excl && rc && a->refcount > 1)
			append(buf, len,
			       ". It is PageAnonExclusive, so the pipe's extra reference (refcount %u) did not matter",
			       a->refcount);
		else if (pin->excl)
			append(buf, len, ". It is PageAnonExclusive, so no other reference could matter");
		else if (anon_excl_known(unavailable))
			append(buf, len, ", although the snapshot did not show it PageAnonExclusive");
		else
			append(buf, len, " (this source cannot show PageAnonExclusive)");
	}
	/* else: the generic sentence, e.g. no fault at all */
}

static void tell_pipe_read(struct scen *sc, char *buf, size_t len,
			   const struct ct_story_view *v, const struct cowtrace_page *a,
			   const struct cowtrace_page *b, uint32_t unavailable)
{
	const struct pin *pin = sc->tell_arg;
	int byte = sc->pipe_byte;

	(void)v;
	if (byte == PIN_OLD)
		snprintf(buf, len, "parent read the pipe: it delivered the old bytes (%#04x)", byte);
	else if (byte == PIN_NEW)
		snprintf(buf, len, "parent read the pipe: it delivered the new bytes (%#04x)", byte);
	else if (byte == 256)
		snprintf(buf, len, "parent read the pipe: it delivered a mix of bytes");
	else
		snprintf(buf, len, "parent read the pipe: it delivered %#04x, neither byte written", byte);
	if (!pin->seen) {
		append(buf, len, " (the write's records were not there to compare)");
		return;
	}
	if (byte == PIN_OLD && pin->copied)
		append(buf, len,
		       ": the pipe buffer still holds the page that was spliced, PFN %#" PRIx64 ", which the parent no longer maps; the parent's write went to its new page, PFN %#" PRIx64,
		       pin->old_pfn, pin->new_pfn);
	else if (byte == PIN_NEW && pin->old_pfn == pin->new_pfn)
		append(buf, len,
		       ": the pipe buffer holds the very page the parent wrote, PFN %#" PRIx64 "%s",
		       pin->new_pfn,
		       pin->reused && pin->excl ?
			       ", which the write reused because it was PageAnonExclusive" :
		       pin->reused ? ", which the write reused" : "");
	else
		append(buf, len, ", which the write's records do not explain (PFN %#" PRIx64 " -> %#" PRIx64 ")",
		       pin->old_pfn, pin->new_pfn);
	if (same_page(a, b) && refcount_known(a, unavailable) && refcount_known(b, unavailable) &&
	    b->refcount < a->refcount)
		append(buf, len, "; reading released the pipe's reference: refcount %u -> %u",
		       a->refcount, b->refcount);
}


static void sc_pinned_write(struct scen *sc)
{
	uint64_t buf = scen_map_region(sc, PG, 0, "one private page, spliced into a pipe");
	struct pin pin = { 0 };
	uint64_t n;
	int protected = 0;

	if (sc->failed)
		return;
	scen_call(sc, &sc->parent, PUP_MADVISE, buf, PG, MADV_NOHUGEPAGE);
	scen_call(sc, &sc->parent, PUP_FILL, buf, PG, PIN_OLD);
	drain_lru_batch(sc);
	scen_observe_told(sc, "parent writes a private page (and 64 elsewhere, to drain this CPU's LRU batch)",
		     buf, "wrote", tell_first_write, NULL);
	n = scen_call(sc, &sc->parent, PUP_VMSPLICE, buf, PG, 0);
	if (sc->failed)
		return;
	if (n != PG) {
		scen_stop(sc, "vmsplice() took %" PRIu64 " bytes of the page, not all %llu", n, PG);
		return;
	}
	scen_observe_told(sc, "parent vmsplice()s the page into a pipe (no SPLICE_F_GIFT)", buf,
		     "vmspliced", tell_vmsplice, NULL);
	if (puppet_call(&sc->parent, PUP_SOFT_DIRTY_CLEAR, 0, 0, 0) == (uint64_t)-1) {
		if (errno == EPIPE) {	/* the puppet died: a failure, not a finding */
			sc->failed = 1;
			ct_err(EXIT_RUNTIME, "scenario %s: the puppet died", sc->name);
		} else {
			scen_stop(sc, "cannot write \"4\" to /proc/self/clear_refs: %s (soft-dirty tracking needs CONFIG_MEM_SOFT_DIRTY)",
			     strerror(errno));
		}
		return;
	}
	scen_observe_told(sc, "parent clears its soft-dirty bits (echo 4 > /proc/self/clear_refs)", buf,
		     "cleared", tell_clear_refs, &protected);
	if (sc->failed)
		return;
	if (!protected) {
		scen_stop(sc, "clear_refs did not write-protect the page (see step %d): its next write would not fault",
		     sc->step);
		return;
	}
	scen_call(sc, &sc->parent, PUP_FILL, buf, PG, PIN_NEW);
	scen_observe_told(sc, "parent writes the page again", buf, "wrote", tell_pinned_write, &pin);
	n = scen_call(sc, &sc->parent, PUP_PIPE_READ, PG, 0, 0);
	if (sc->failed)
		return;
	sc->pipe_byte = (int)n;
	scen_observe_told(sc, "parent reads the pipe", buf, "read", tell_pipe_read, &pin);
	sc->pipe_byte = -1;
}

/* A field of /proc/meminfo, in bytes, or -1. */
static int64_t meminfo_bytes(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "re");
	size_t n = strlen(field);
	char line[128];
	long long kb;
	int64_t v = -1;

	if (!f)
		return -1;
	while (v < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':' &&
		    sscanf(line + n + 1, "%lld", &kb) == 1)
			v = kb * 1024;
	fclose(f);
	return v;
}

static int overcommit_mode(void)
{
	return (int)read_number("/proc/sys/vm/overcommit_memory");
}

/* What strict overcommit (mode 2) still lets the machine commit. */
static int64_t commit_headroom(void)
{
	return meminfo_bytes("CommitLimit") - meminfo_bytes("Committed_AS");
}

#define COMMIT_REGION (128ull << 20)

/*
 * Under vm.overcommit_memory=2 the parent maps three quarters of what is
 * left, so that its own mmap() fits but the child's charge for it cannot:
 * the fork must fail with ENOMEM though it would copy no page.
 */
static void fork_past_commit_limit(struct scen *sc)
{
	int64_t room = commit_headroom() & ~(int64_t)(PG - 1);
	uint64_t big = (uint64_t)(room / 4 * 3) & ~(PG - 1);
	struct puppet extra;
	int err = 0;

	if (room <= 0 || scen_map_region(sc, big, 0, "3/4 of the commit limit's headroom") ==
	    (uint64_t)-1)
		return;
	if (puppet_fork(&sc->parent, &extra))
		err = errno;
	else
		puppet_kill(&extra);
	scen_note(sc, "headroom_bytes", room);
	scen_note(sc, "second_region_bytes", (int64_t)big);
	scen_note(sc, "fork_errno", err);
	scen_observe(sc, "parent maps 3/4 of the headroom left and forks again", 0, 0, NULL,
		     "fork(): %s", err ? strerror(err) : "it worked");
}

/*
 * N11: fork takes no physical page, but it charges the child's private
 * writable memory (every VM_ACCOUNT VMA, in dup_mmap()) to the commit limit.
 */
static void sc_commit_charge(struct scen *sc)
{
	int mode = overcommit_mode();
	uint64_t len = COMMIT_REGION;
	/* under strict overcommit, what is left to commit, read once */
	int64_t room = mode == 2 ? commit_headroom() : 0;
	int64_t before;
	uint64_t buf;

	if (mode == 2 && room / 4 < (int64_t)len) {
		if (room < (int64_t)(16 * PG)) {
			scen_stop(sc, "vm.overcommit_memory is 2 and Committed_AS is within 64 KiB of CommitLimit, so nothing more can be mapped: raise vm.overcommit_ratio or add swap");
			return;
		}
		len = (uint64_t)(room / 4) & ~(PG - 1);
	}
	buf = scen_map_region(sc, len, 0, "private writable memory, one page of it written");
	scen_call(sc, &sc->parent, PUP_WRITE, buf, PG, 1);
	scen_observe(sc, "parent maps private memory and writes one page", 0, buf, "wrote", NULL);
	before = meminfo_bytes("Committed_AS");
	scen_fork(sc);
	scen_note(sc, "overcommit_memory", mode);
	scen_note(sc, "region_bytes", (int64_t)len);
	scen_note(sc, "committed_delta_bytes", meminfo_bytes("Committed_AS") - before);
	scen_observe_fork(sc);
	if (sc->failed)
		return;
	if (mode == 2)
		fork_past_commit_limit(sc);
	else if (scen_text_out(sc))
		printf("  (vm.overcommit_memory is %d, not 2: no commit limit a fork could fail on; as root, sysctl vm.overcommit_memory=2 plays the failing fork)\n",
		       mode);
}

const struct scenario ct_scenarios[] = {
	{ "shared_variable", sc_shared_variable,
	  "the classic: fork, the child changes a variable, the parent's stays" },
	{ "fork_exec", sc_fork_exec, "fork+exec: the child drops its copy; the parent reuses" },
	{ "vfork", sc_vfork, "vfork: the mm is borrowed, nothing is copied or protected" },
	{ "private_vs_shared", sc_private_vs_shared, "MAP_PRIVATE copies on write, MAP_SHARED never" },
	{ "readonly_code", sc_readonly_code, "program text stays shared: never written, never copied" },
	{ "last_sharer", sc_last_sharer, "the last sharer writes: reuse without a copy" },
	{ "zero_page", sc_zero_page, "reads map the zero page; a write replaces it" },
	{ "thp", sc_thp, "a 2 MiB THP shared after fork; one write splits and copies 4 KiB" },
	{ "ksm", sc_ksm, "KSM merges identical pages; a write breaks the merge" },
	{ "dontfork", sc_dontfork, "MADV_DONTFORK and MADV_WIPEONFORK" },
	{ "pinned_write", sc_pinned_write,
	  "a page another reference holds: refcount rule (5.8-5.18) vs PageAnonExclusive (5.19+)" },
	{ "parent_copies", sc_parent_copies, "the parent writes first: the parent gets the copy" },
	{ "vfork_write", sc_vfork_write, "the vfork child writes: its writes are the parent's" },
	{ "vfork_suspends", sc_vfork_suspends, "a real vfork: the parent waits until the child exits" },
	{ "bss", sc_bss, "the BSS is the zero page until written" },
	{ "code_write", sc_code_write, "self-modifying code: mprotect, write, a copy of the text page" },
	{ "first_touch", sc_first_touch, "a first touch allocates a page table (VmPTE grows)" },
	{ "commit_charge", sc_commit_charge,
	  "fork charges the child's private memory to the commit limit; strict overcommit fails it" },
};

const size_t ct_nr_scenarios = sizeof(ct_scenarios) / sizeof(ct_scenarios[0]);
