// SPDX-License-Identifier: GPL-2.0
/*
 * The cross-check: every snapshot a guest test takes through the module is
 * compared with what /proc/PID/pagemap, /proc/kpagecount and /proc/kpageflags
 * say about the same stopped process.  They share: presence (present or
 * swap), PFN or swap slot, soft-dirty, uffd-wp, mapcount, and the anon, KSM,
 * THP, hugetlb, zero-page and anon-exclusive flags.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../classify.h"
#include "guest_util.h"

struct xcheck {
	const struct ct_snapshot *mod, *proc;
	int errors_before;
};

static void diff_page(const struct xcheck *x, const struct cowtrace_page *m,
		      const struct cowtrace_page *p)
{
	const struct ct_snapshot *mod = x->mod;
	const struct cowtrace_vma *v = ct_find_vma(mod, m->addr);
	uint32_t shared = COWTRACE_PTE_PRESENT | COWTRACE_PTE_SWAP |
			  COWTRACE_PTE_UFFD_WP | COWTRACE_PG_ANON |
			  COWTRACE_PG_KSM | COWTRACE_PG_ZERO |
			  COWTRACE_PG_HUGETLB | COWTRACE_PG_ANON_EXCL;
	uint32_t mflags = m->flags;

	/* a kernel whose kpageflags cannot tell KSM gives nothing to compare */
	if (x->proc->unavailable & CT_UNAVAIL_KSM)
		shared &= ~COWTRACE_PG_KSM;
	int huge_zero = (m->flags & COWTRACE_PG_ZERO) &&
			COWTRACE_PAGE_LEVEL(m->flags) == COWTRACE_LEVEL_PMD;

	/* pagemap ORs the VMA's soft-dirty flag into every page */
	if (v && (v->flags & COWTRACE_VMA_SOFTDIRTY))
		mflags |= COWTRACE_PTE_SOFT_DIRTY;
	shared |= COWTRACE_PTE_SOFT_DIRTY;
	/* migration and device entries look like swap to pagemap */
	if (mflags & (COWTRACE_PTE_MIGRATION | COWTRACE_PTE_DEVICE))
		mflags |= COWTRACE_PTE_SWAP;
	/* kpageflags sets THP only for LRU or anon heads, and on the huge zero page */
	if ((m->flags & COWTRACE_PG_THP) &&
	    ((m->flags & (COWTRACE_PG_ANON | COWTRACE_PG_LRU)) || huge_zero))
		shared |= COWTRACE_PG_THP;
	/*
	 * For a PMD-mapped THP only the head's PG_anon_exclusive means anything
	 * and the module reports it on every page.  kpageflags reads the tail's
	 * own bit on 6.1 and the head's from 6.9: compare the head only.
	 */
	if ((m->flags & COWTRACE_PG_TAIL) &&
	    COWTRACE_PAGE_LEVEL(m->flags) != COWTRACE_LEVEL_PTE)
		shared &= ~COWTRACE_PG_ANON_EXCL;
	/* a swap PTE's exclusive bit has no pagemap counterpart */
	if (m->flags & COWTRACE_PTE_SWAP)
		mflags &= ~COWTRACE_PG_ANON_EXCL;
	if ((mflags & shared) != (p->flags & shared))
		ct_fail(__FILE__, __LINE__,
			"cross-check %#llx (%s): module flags %#x, procfs flags %#x (differ in %#x; all module flags %#x, pfn %#llx)",
			(unsigned long long)m->addr, v ? ct_vma_name(mod, v) : "?",
			mflags & shared, p->flags & shared,
			(mflags ^ p->flags) & shared, m->flags,
			(unsigned long long)m->pfn);
	if (m->pfn != p->pfn)
		ct_fail(__FILE__, __LINE__,
			"cross-check %#llx: module pfn %#llx, pagemap %#llx",
			(unsigned long long)m->addr, (unsigned long long)m->pfn,
			(unsigned long long)p->pfn);
	if ((m->flags & COWTRACE_PTE_SWAP) && m->swap_type != p->swap_type)
		ct_fail(__FILE__, __LINE__, "cross-check %#llx: swap type %u vs %u",
			(unsigned long long)m->addr, m->swap_type, p->swap_type);
	if ((m->flags & COWTRACE_PG_PAGE) && !huge_zero &&
	    m->mapcount != p->mapcount)
		ct_fail(__FILE__, __LINE__,
			"cross-check %#llx (%s): module mapcount %u, kpagecount %u, flags %#x",
			(unsigned long long)m->addr, v ? ct_vma_name(mod, v) : "?",
			m->mapcount, p->mapcount, m->flags);
}

static void xcheck_pair(const struct cowtrace_page *m,
			const struct cowtrace_page *p, void *arg)
{
	struct xcheck *x = arg;

	if (m && p)
		diff_page(x, m, p);
	else if (m && !(m->flags & COWTRACE_PTE_MARKER)) /* not pages to pagemap */
		ct_fail(__FILE__, __LINE__,
			"cross-check: %#llx only in the module snapshot",
			(unsigned long long)m->addr);
	else if (p)
		ct_fail(__FILE__, __LINE__, "cross-check: %#llx only in pagemap",
			(unsigned long long)p->addr);
	if (ct_failed() > x->errors_before + 10)
		FAIL("cross-check: too many differences");
}

void crosscheck(const struct ct_snapshot *mod, const struct ct_snapshot *proc)
{
	struct xcheck x = { .mod = mod, .proc = proc,
			    .errors_before = ct_failed() };
	size_t i;

	ct_pair_pages(mod, proc, xcheck_pair, &x);
	if (mod->nr_vmas != proc->nr_vmas)
		FAIL("cross-check: %zu VMAs from the module, %zu in smaps",
		     mod->nr_vmas, proc->nr_vmas);
	for (i = 0; i < mod->nr_vmas; i++) {
		const struct cowtrace_vma *a = &mod->vmas[i], *b = &proc->vmas[i];
		uint32_t mask = ~(uint32_t)COWTRACE_VMA_ANON_VMA;

		if (a->start != b->start || a->end != b->end ||
		    (a->flags & mask) != (b->flags & mask) ||
		    a->ino != b->ino || strcmp(ct_vma_name(mod, a), ct_vma_name(proc, b)))
			ct_fail(__FILE__, __LINE__,
				"cross-check VMA %#llx-%#llx flags %#x '%s' vs smaps %#llx-%#llx flags %#x '%s'",
				(unsigned long long)a->start, (unsigned long long)a->end,
				a->flags, ct_vma_name(mod, a),
				(unsigned long long)b->start, (unsigned long long)b->end,
				b->flags, ct_vma_name(proc, b));
	}
	if (ct_failed() > x.errors_before)
		ct_abort();
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/*
 * Before 5.14 there is no MADV_POPULATE_READ: read each page through
 * /proc/self/mem instead, whose GUP faults the page into our page tables as
 * an access would, but answers EIO rather than SIGBUS past a file's end.
 */
static void populate_by_reading(int mem, unsigned long lo, unsigned long hi)
{
	char byte;

	for (; lo < hi; lo += PAGE)
		if (pread(mem, &byte, 1, (off_t)lo) < 0 && errno != EIO)
			break;
}

/*
 * The observer must not move what it observes.  fork() copies no PTEs of file
 * mappings, so this process would fault in libc text (raising the mapcount of
 * pages the target shares) the first time it runs a code path between two
 * snapshots.  Populate every readable mapping once, up front.
 */
static void populate_self(void)
{
	static int done;
	char line[512];
	int mem;
	FILE *f;

	if (done++)
		return;
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	mem = open("/proc/self/mem", O_RDONLY);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || strstr(line, "[vsyscall]") ||
		    strstr(line, "[vvar]"))
			continue;
		if (madvise((void *)lo, hi - lo, MADV_POPULATE_READ) &&
		    errno == EINVAL && mem >= 0)
			populate_by_reading(mem, lo, hi);
	}
	if (mem >= 0)
		close(mem);
	fclose(f);
}

void snap_range_checked(pid_t pid, uint64_t start, uint64_t len,
			struct ct_snapshot *s)
{
	struct ct_snapshot proc;
	struct ct_error err;

	populate_self();
	if (ct_snapshot_module(pid, start, start + len, s, &err))
		FAIL("module snapshot of %d: %s", (int)pid, err.msg);
	if (ct_snapshot_procfs(pid, start, start + len, &proc, &err))
		FAIL("procfs snapshot of %d: %s", (int)pid, err.msg);
	crosscheck(s, &proc);
	ct_snapshot_free(&proc);
}

void snap_checked(pid_t pid, struct ct_snapshot *s)
{
	snap_range_checked(pid, 0, 1ull << 47, s);
}

const struct cowtrace_page *page_at(const struct ct_snapshot *s, uint64_t addr)
{
	const struct cowtrace_page *r = ct_find_page(s, addr);

	if (!r)
		FAIL("pid %u: no page record at %#llx", s->pid,
		     (unsigned long long)addr);
	return r;
}

uint64_t must_call(struct puppet *p, enum puppet_op op, uint64_t a, uint64_t b,
		   uint64_t c)
{
	uint64_t r = puppet_call(p, op, a, b, c);

	if (r == (uint64_t)-1)
		FAIL("puppet %d: operation %d failed: %s", (int)p->pid, op,
		     strerror(errno));
	return r;
}

void must_spawn(struct puppet *p)
{
	if (puppet_spawn(p))
		FAIL("cannot spawn a puppet: %s", strerror(errno));
}

void must_fork(struct puppet *parent, struct puppet *child)
{
	if (puppet_fork(parent, child))
		FAIL("puppet %d cannot fork: %s", (int)parent->pid, strerror(errno));
}

int must_open_ctl(void)
{
	int fd = open(CT_CTL_PATH, O_RDWR);

	if (fd < 0)
		FAIL("cannot open %s: %s", CT_CTL_PATH, strerror(errno));
	return fd;
}

int errno_in(const int *list, size_t n, int e)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == e)
			return 1;
	return 0;
}

void tally_errno(struct errno_tally *t, int err)
{
	t->calls++;
	t->ok += !err;
	t->by_errno[err & 0xff]++;
	t->unexpected += err && !errno_in(t->allowed, t->nr_allowed, err);
}

const char *errno_name(int e)
{
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32)
	return strerrorname_np(e);
#else
	return strerror(e);
#endif
}

void print_errno_tally(const char *what, const struct errno_tally *t)
{
	printf("# %s: %d calls, %d ok", what, t->calls, t->ok);
	for (int e = 1; e < 256; e++)
		if (t->by_errno[e])
			printf(", %d %s", t->by_errno[e], errno_name(e));
	printf("\n");
}

int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

int thp_enabled(void)
{
	char buf[128] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return !strstr(buf, "[never]");
}
