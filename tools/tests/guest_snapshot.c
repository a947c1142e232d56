// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot engine on a real kernel.  Each test drives puppet processes to
 * one step of a copy-on-write story, snapshots them while they are blocked,
 * checks what the kernel is known to do at that step, and cross-checks every
 * snapshot against pagemap/kpagecount/kpageflags (snap_checked).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest_util.h"

#define NPAGES 16

/* A puppet with NPAGES written anonymous private pages, and its fork. */
struct forked {
	struct puppet parent, child;
	uint64_t buf;
};

static void setup_forked(struct forked *f)
{
	must_spawn(&f->parent);
	f->buf = must_call(&f->parent, PUP_MMAP, NPAGES * PAGE, 0,
			   PROT_READ | PROT_WRITE);
	must_call(&f->parent, PUP_WRITE, f->buf, NPAGES * PAGE, 0x11);
	must_fork(&f->parent, &f->child);
}

TEST(version_and_layout)
{
	struct cowtrace_version v = { .size = sizeof(v) };
	int fd = open(CT_CTL_PATH, O_RDONLY);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(ioctl(fd, COWTRACE_IOC_VERSION, &v), 0);
	EXPECT_EQ(v.abi_version, COWTRACE_ABI_VERSION);
	EXPECT_EQ(v.page_size, sysconf(_SC_PAGESIZE));
	EXPECT_EQ(v.page_rec_size, sizeof(struct cowtrace_page));
	EXPECT_TRUE(v.features & COWTRACE_FEAT_RUNS);
	EXPECT_EQ(v.run_rec_size, sizeof(struct cowtrace_page_run));
	EXPECT_EQ(v.vma_rec_size, sizeof(struct cowtrace_vma));
	EXPECT_EQ(sizeof(struct cowtrace_page), 32);
	EXPECT_TRUE(v.features & COWTRACE_FEAT_SOFT_DIRTY);
	/* every page counted its own mappings until 6.15 made it optional */
	if (v.kernel_version < (6u << 16 | 15u << 8))
		EXPECT_TRUE(v.features & COWTRACE_FEAT_PAGE_MAPCOUNT);
	close(fd);
}

TEST(private_page_before_fork)
{
	struct ct_snapshot s;
	struct puppet p;
	uint64_t buf;

	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, NPAGES * PAGE, 0, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_WRITE, buf, NPAGES * PAGE, 0x11);
	snap_checked(p.pid, &s);
	for (int i = 0; i < NPAGES; i++) {
		const struct cowtrace_page *r = page_at(&s, buf + i * PAGE);

		EXPECT_TRUE(PTE(r, PRESENT) && PTE(r, WRITE) && PTE(r, DIRTY));
		EXPECT_TRUE(PG(r, ANON) && EXCLUSIVE(&s, r));
		EXPECT_EQ(r->mapcount, 1);
		EXPECT_EQ(r->folio_mapcount, 1);
		EXPECT_GE(r->refcount, 1);
		EXPECT_EQ(COWTRACE_PAGE_LEVEL(r->flags), COWTRACE_LEVEL_PTE);
	}
	EXPECT_TRUE(ct_find_vma(&s, buf)->flags & COWTRACE_VMA_COW);
	ct_snapshot_free(&s);
	puppet_kill(&p);
}

TEST(fork_shares_and_write_protects)
{
	struct ct_snapshot ps, cs;
	struct forked f;

	setup_forked(&f);
	snap_checked(f.parent.pid, &ps);
	snap_checked(f.child.pid, &cs);
	for (int i = 0; i < NPAGES; i++) {
		const struct cowtrace_page *a = page_at(&ps, f.buf + i * PAGE);
		const struct cowtrace_page *b = page_at(&cs, f.buf + i * PAGE);

		EXPECT_EQ(a->pfn, b->pfn);
		EXPECT_FALSE(PTE(a, WRITE));
		EXPECT_FALSE(PTE(b, WRITE));
		EXPECT_EQ(a->mapcount, 2);
		EXPECT_EQ(b->mapcount, 2);
		EXPECT_FALSE(PG(a, ANON_EXCL));
		EXPECT_FALSE(PG(b, ANON_EXCL));
	}
	ct_snapshot_free(&ps);
	ct_snapshot_free(&cs);
	puppet_kill(&f.child);
	puppet_kill(&f.parent);
}

TEST(child_write_copies)
{
	const struct cowtrace_page *a, *b, *a0;
	struct ct_snapshot before, ps, cs;
	struct forked f;

	setup_forked(&f);
	snap_checked(f.parent.pid, &before);
	must_call(&f.child, PUP_WRITE, f.buf, PAGE, 0x22);
	snap_checked(f.parent.pid, &ps);
	snap_checked(f.child.pid, &cs);

	a0 = page_at(&before, f.buf);
	a = page_at(&ps, f.buf);
	b = page_at(&cs, f.buf);
	/* the child got a new page, writable and its own */
	EXPECT_NE(b->pfn, a0->pfn);
	EXPECT_TRUE(PTE(b, WRITE) && EXCLUSIVE(&cs, b));
	EXPECT_EQ(b->mapcount, 1);
	/* the parent kept the old page, still read-only, now mapped once */
	EXPECT_EQ(a->pfn, a0->pfn);
	EXPECT_FALSE(PTE(a, WRITE));
	EXPECT_EQ(a->mapcount, 1);
	EXPECT_FALSE(PG(a, ANON_EXCL));
	/* the untouched pages are still shared */
	EXPECT_EQ(page_at(&ps, f.buf + PAGE)->pfn, page_at(&cs, f.buf + PAGE)->pfn);
	EXPECT_EQ(page_at(&cs, f.buf + PAGE)->mapcount, 2);
	ct_snapshot_free(&before);
	ct_snapshot_free(&ps);
	ct_snapshot_free(&cs);
	puppet_kill(&f.child);
	puppet_kill(&f.parent);
}

TEST(parent_write_after_child_reuses)
{
	struct ct_snapshot before, after;
	const struct cowtrace_page *a, *b;
	struct forked f;

	setup_forked(&f);
	must_call(&f.child, PUP_WRITE, f.buf, PAGE, 0x22);
	snap_checked(f.parent.pid, &before);
	must_call(&f.parent, PUP_WRITE, f.buf, PAGE, 0x33);
	snap_checked(f.parent.pid, &after);
	b = page_at(&before, f.buf);
	a = page_at(&after, f.buf);
	/* the last sharer writes: same page, made writable and exclusive */
	EXPECT_EQ(a->pfn, b->pfn);
	EXPECT_FALSE(PTE(b, WRITE));
	EXPECT_TRUE(PTE(a, WRITE));
	EXPECT_TRUE(EXCLUSIVE(&after, a));
	EXPECT_EQ(a->mapcount, 1);
	ct_snapshot_free(&before);
	ct_snapshot_free(&after);
	puppet_kill(&f.child);
	puppet_kill(&f.parent);
}

TEST(shared_mapping_is_not_cow)
{
	struct ct_snapshot ps, cs;
	struct puppet p, c;
	uint64_t buf;

	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, 4 * PAGE, PUP_MAP_SHARED,
			PROT_READ | PROT_WRITE);
	must_call(&p, PUP_WRITE, buf, 4 * PAGE, 1);
	must_fork(&p, &c);
	/* fork copies no PTEs of a shared mapping: the child faults them in */
	snap_checked(c.pid, &cs);
	EXPECT_EQ(ct_find_page(&cs, buf), NULL);
	EXPECT_FALSE(ct_find_vma(&cs, buf)->flags & COWTRACE_VMA_COW);
	ct_snapshot_free(&cs);

	must_call(&c, PUP_WRITE, buf, 4 * PAGE, 2);
	snap_checked(p.pid, &ps);
	snap_checked(c.pid, &cs);
	for (int i = 0; i < 4; i++) {
		const struct cowtrace_page *a = page_at(&ps, buf + i * PAGE);
		const struct cowtrace_page *b = page_at(&cs, buf + i * PAGE);

		EXPECT_EQ(a->pfn, b->pfn);
		EXPECT_TRUE(PTE(a, WRITE));	/* fork did not write-protect it */
		EXPECT_TRUE(PTE(b, WRITE));
		EXPECT_EQ(a->mapcount, 2);
		EXPECT_FALSE(PG(a, ANON));
	}
	ct_snapshot_free(&ps);
	ct_snapshot_free(&cs);
	puppet_kill(&c);
	puppet_kill(&p);
}

TEST(dontfork_and_wipeonfork)
{
	struct ct_snapshot cs;
	struct puppet p, c;
	uint64_t dont, wipe;

	must_spawn(&p);
	dont = must_call(&p, PUP_MMAP, 4 * PAGE, 0, PROT_READ | PROT_WRITE);
	wipe = must_call(&p, PUP_MMAP, 4 * PAGE, 0, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_WRITE, dont, 4 * PAGE, 1);
	must_call(&p, PUP_WRITE, wipe, 4 * PAGE, 1);
	ASSERT_EQ(must_call(&p, PUP_MADVISE, dont, 4 * PAGE, MADV_DONTFORK), 0);
	ASSERT_EQ(must_call(&p, PUP_MADVISE, wipe, 4 * PAGE, MADV_WIPEONFORK), 0);
	must_fork(&p, &c);
	snap_checked(c.pid, &cs);
	EXPECT_EQ(ct_find_vma(&cs, dont), NULL);
	ASSERT_NE(ct_find_vma(&cs, wipe), NULL);
	EXPECT_TRUE(ct_find_vma(&cs, wipe)->flags & COWTRACE_VMA_WIPEONFORK);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(ct_find_page(&cs, wipe + i * PAGE), NULL);
	ct_snapshot_free(&cs);
	snap_checked(p.pid, &cs);
	EXPECT_TRUE(ct_find_vma(&cs, dont)->flags & COWTRACE_VMA_DONTCOPY);
	EXPECT_NE(ct_find_page(&cs, dont), NULL);
	ct_snapshot_free(&cs);
	puppet_kill(&c);
	puppet_kill(&p);
}

TEST(file_text_stays_shared)
{
	struct ct_snapshot ps, cs;
	struct puppet p, c;
	uint64_t code;

	must_spawn(&p);
	code = must_call(&p, PUP_SELF, 1, 0, 0) & ~(PAGE - 1);
	must_fork(&p, &c);
	snap_checked(p.pid, &ps);
	snap_checked(c.pid, &cs);
	{
		const struct cowtrace_page *a = page_at(&ps, code);
		const struct cowtrace_page *b = page_at(&cs, code);
		const struct cowtrace_vma *v = ct_find_vma(&ps, code);

		EXPECT_EQ(v->backing, COWTRACE_BACKING_FILE);
		EXPECT_TRUE(v->flags & COWTRACE_VMA_EXEC);
		EXPECT_EQ(a->pfn, b->pfn);
		EXPECT_FALSE(PTE(a, WRITE));
		EXPECT_FALSE(PG(a, ANON));
		EXPECT_GE(a->mapcount, 2);
	}
	ct_snapshot_free(&ps);
	ct_snapshot_free(&cs);
	puppet_kill(&c);
	puppet_kill(&p);
}

TEST(read_fault_maps_zero_page)
{
	struct ct_snapshot s;
	struct puppet p;
	uint64_t buf;

	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, 4 * PAGE, 0, PROT_READ | PROT_WRITE);
	/* no THP here: a huge zero page would be the other right answer */
	must_call(&p, PUP_MADVISE, buf, 4 * PAGE, MADV_NOHUGEPAGE);
	must_call(&p, PUP_READ, buf, 4 * PAGE, 0);
	snap_checked(p.pid, &s);
	for (int i = 0; i < 4; i++) {
		const struct cowtrace_page *r = page_at(&s, buf + i * PAGE);

		EXPECT_TRUE(PG(r, ZERO) && PTE(r, SPECIAL));
		EXPECT_FALSE(PTE(r, WRITE));
		EXPECT_EQ(r->pfn, page_at(&s, buf)->pfn);
	}
	ct_snapshot_free(&s);
	puppet_kill(&p);
}

TEST(thp_pmd_mapped_and_shared_after_fork)
{
	struct ct_snapshot ps, cs;
	struct puppet p, c;
	uint64_t buf, len = 2ul << 20;
	const struct cowtrace_page *a, *b;

	if (!thp_enabled())
		SKIP("THP not available (transparent_hugepage/enabled is never)");
	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, len, PUP_MAP_ALIGN_2M, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_MADVISE, buf, len, MADV_HUGEPAGE);
	must_call(&p, PUP_WRITE, buf, len, 7);
	snap_checked(p.pid, &ps);
	a = page_at(&ps, buf);
	if (COWTRACE_PAGE_LEVEL(a->flags) != COWTRACE_LEVEL_PMD)
		SKIP("the kernel gave no THP here (memory fragmented?)");
	for (uint64_t off = 0; off < len; off += PAGE) {
		b = page_at(&ps, buf + off);
		EXPECT_EQ(COWTRACE_PAGE_LEVEL(b->flags), COWTRACE_LEVEL_PMD);
		EXPECT_TRUE(PG(b, THP));
		EXPECT_EQ(COWTRACE_PAGE_ORDER(b->flags), 9);
		EXPECT_EQ(b->pfn, a->pfn + off / PAGE);
		if (ct_failed())
			ct_abort();
	}
	EXPECT_TRUE(PG(a, HEAD) && PTE(a, WRITE) && EXCLUSIVE(&ps, a));
	/* a whole-mapped folio's exclusivity is its head's, on every page */
	EXPECT_TRUE(PG(page_at(&ps, buf + PAGE), TAIL) &&
		    EXCLUSIVE(&ps, page_at(&ps, buf + PAGE)));
	ct_snapshot_free(&ps);

	must_fork(&p, &c);
	snap_checked(p.pid, &ps);
	snap_checked(c.pid, &cs);
	a = page_at(&ps, buf + 5 * PAGE);
	b = page_at(&cs, buf + 5 * PAGE);
	EXPECT_EQ(COWTRACE_PAGE_LEVEL(b->flags), COWTRACE_LEVEL_PMD);
	EXPECT_EQ(a->pfn, b->pfn);
	EXPECT_FALSE(PTE(a, WRITE));
	EXPECT_FALSE(PTE(b, WRITE));
	EXPECT_FALSE(PG(a, ANON_EXCL) || PG(b, ANON_EXCL));
	EXPECT_EQ(a->mapcount, 2);
	EXPECT_EQ(a->folio_mapcount, 2);
	ct_snapshot_free(&ps);
	ct_snapshot_free(&cs);
	puppet_kill(&c);
	puppet_kill(&p);
}

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

/* /proc/kpagecount of one PFN: the kernel's own mapcount of that page. */
static long kpagecount(uint64_t pfn)
{
	uint64_t count;
	int fd = open("/proc/kpagecount", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, &count, sizeof(count), pfn * sizeof(count));
	close(fd);
	return n == sizeof(count) ? (long)count : -1;
}

/*
 * One 2 MiB hugetlb page, written: a PMD leaf mapped once, its head and each
 * tail page mapped once, as /proc/kpagecount says.  From 6.12 the head's
 * _mapcount word holds the hugetlb page type, not a count: read raw, the
 * head's mapcount came out as about 4 billion there.
 */
TEST(hugetlb_head_mapcount_is_the_kernels)
{
	const uint64_t len = 2ul << 20;
	const struct cowtrace_page *head, *tail;
	long old = read_long(NR_HUGEPAGES);
	struct ct_snapshot s;
	char val[32];
	char *p;

	if (old < 0)
		SKIP("no hugetlb pages (no " NR_HUGEPAGES ")");
	snprintf(val, sizeof(val), "%ld", old + 1);
	if (write_file(NR_HUGEPAGES, val) || read_long(NR_HUGEPAGES) < old + 1) {
		snprintf(val, sizeof(val), "%ld", old);
		write_file(NR_HUGEPAGES, val);
		SKIP("cannot reserve a 2 MiB hugetlb page");
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 1;
	snap_range_checked(getpid(), (uintptr_t)p, len, &s);
	head = page_at(&s, (uintptr_t)p);
	tail = page_at(&s, (uintptr_t)p + PAGE);
	EXPECT_TRUE(PG(head, HUGETLB) && PG(head, HEAD));
	EXPECT_TRUE(PG(tail, HUGETLB) && PG(tail, TAIL));
	EXPECT_EQ(COWTRACE_PAGE_LEVEL(head->flags), COWTRACE_LEVEL_PMD);
	EXPECT_EQ(head->mapcount, kpagecount(head->pfn));
	EXPECT_EQ(head->mapcount, 1);
	EXPECT_EQ(head->folio_mapcount, 1);
	EXPECT_EQ(tail->mapcount, kpagecount(tail->pfn));
	EXPECT_EQ(tail->mapcount, 1);
	ct_snapshot_free(&s);
	munmap(p, len);
	snprintf(val, sizeof(val), "%ld", old);
	write_file(NR_HUGEPAGES, val);
}

/*
 * A THP that the parent maps with its PMD and the child, after fork and
 * MADV_DONTNEED of the first 4 KiB, with PTEs for the other 511 pages.
 * Counted per page, the first page is mapped once (the parent's PMD) and
 * every other twice.  A kernel that keeps no per-page count
 * (CONFIG_NO_PAGE_MAPCOUNT) has 512 mappings of the folio, one of them
 * entire: the average, (511 + 256) / 512 + 1, is 2 for every page.
 * /proc/kpagecount says which the kernel does; the module's
 * COWTRACE_FEAT_PAGE_MAPCOUNT must say the same, and its mapcounts must be
 * the kernel's.
 */
TEST(thp_page_mapcount_is_the_kernels)
{
	struct cowtrace_version v = { .size = sizeof(v) };
	const struct cowtrace_page *first, *second;
	struct ct_snapshot ps, proc;
	uint64_t buf, len = 2ul << 20;
	struct ct_error err;
	struct puppet p, c;
	int fd, per_page;

	if (!thp_enabled())
		SKIP("THP not available (transparent_hugepage/enabled is never)");
	fd = must_open_ctl();
	ASSERT_EQ(ioctl(fd, COWTRACE_IOC_VERSION, &v), 0);
	close(fd);
	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, len, PUP_MAP_ALIGN_2M, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_MADVISE, buf, len, MADV_HUGEPAGE);
	must_call(&p, PUP_WRITE, buf, len, 7);
	must_fork(&p, &c);
	ASSERT_EQ(must_call(&c, PUP_MADVISE, buf, PAGE, MADV_DONTNEED), 0);
	snap_checked(p.pid, &ps);
	first = page_at(&ps, buf);
	second = page_at(&ps, buf + PAGE);
	if (COWTRACE_PAGE_LEVEL(first->flags) != COWTRACE_LEVEL_PMD)
		SKIP("the kernel gave no THP here (memory fragmented?)");
	per_page = kpagecount(first->pfn) == 1;
	printf("# kpagecount counts %s\n",
	       per_page ? "each page's own mappings" :
			  "a THP page as its folio's average (CONFIG_NO_PAGE_MAPCOUNT)");
	EXPECT_EQ(!!(v.features & COWTRACE_FEAT_PAGE_MAPCOUNT), per_page);
	EXPECT_EQ(!!(ps.unavailable & CT_UNAVAIL_PAGE_MAPCOUNT), !per_page);
	EXPECT_EQ(first->mapcount, per_page ? 1 : 2);
	EXPECT_EQ(second->mapcount, 2);
	EXPECT_EQ(first->folio_mapcount, 512);
	EXPECT_EQ(ct_mapcount_is_average(&ps, first), !per_page);
	/* the procfs source's own probe of kpagecount agrees */
	if (ct_snapshot_procfs(p.pid, buf, buf + len, &proc, &err))
		FAIL("procfs snapshot of %d: %s", (int)p.pid, err.msg);
	EXPECT_EQ(!!(proc.unavailable & CT_UNAVAIL_PAGE_MAPCOUNT), !per_page);
	ct_snapshot_free(&proc);
	ct_snapshot_free(&ps);
	puppet_kill(&c);
	puppet_kill(&p);
}

/* A 2 MiB THP written whole by @p; 0 if the kernel gave none there. */
static uint64_t thp_in(struct puppet *p)
{
	uint64_t buf, len = 2ul << 20;
	struct ct_snapshot s;
	int pmd;

	buf = must_call(p, PUP_MMAP, len, PUP_MAP_ALIGN_2M, PROT_READ | PROT_WRITE);
	must_call(p, PUP_MADVISE, buf, len, MADV_HUGEPAGE);
	must_call(p, PUP_WRITE, buf, len, 7);
	snap_checked(p->pid, &s);
	pmd = COWTRACE_PAGE_LEVEL(page_at(&s, buf)->flags) == COWTRACE_LEVEL_PMD;
	ct_snapshot_free(&s);
	return pmd ? buf : 0;
}

/*
 * The walker reads one head and one tail of a folio that no PTE maps and
 * lets them stand for all 512 pages; these are the folios it must not do
 * that for.  A THP whose PMD mprotect() split is mapped by 512 PTEs and no
 * PMD: folio mapcount 512 (6.1 keeps no DoubleMap flag for it, so the flag
 * alone would say "PMD only").  After fork, a child's mprotect() splits only
 * its own PMD: the parent's records, read at its PMD, must count the child's
 * PTEs, folio mapcount 1 + 512 and every page 2.  snap_checked() holds each
 * page's mapcount to /proc/kpagecount.
 */
TEST(thp_facts_exact_when_pte_mapped)
{
	struct ct_snapshot ps, cs;
	struct puppet p, q, c;
	uint64_t buf, len = 2ul << 20;
	const struct cowtrace_page *a;

	if (!thp_enabled())
		SKIP("THP not available (transparent_hugepage/enabled is never)");
	must_spawn(&q);
	buf = thp_in(&q);
	if (!buf)
		SKIP("the kernel gave no THP here (memory fragmented?)");
	must_call(&q, PUP_MPROTECT, buf, PAGE, PROT_READ);
	snap_checked(q.pid, &ps);
	for (uint64_t off = 0; off < len; off += PAGE) {
		a = page_at(&ps, buf + off);
		EXPECT_EQ(COWTRACE_PAGE_LEVEL(a->flags), COWTRACE_LEVEL_PTE);
		EXPECT_TRUE(PG(a, THP));
		EXPECT_EQ(a->folio_mapcount, 512);
		if (ct_failed())
			ct_abort();
	}
	ct_snapshot_free(&ps);
	puppet_kill(&q);

	must_spawn(&p);
	buf = thp_in(&p);
	if (!buf)
		SKIP("the kernel gave no THP here (memory fragmented?)");
	must_fork(&p, &c);
	must_call(&c, PUP_MPROTECT, buf, PAGE, PROT_READ);
	snap_checked(p.pid, &ps);
	snap_checked(c.pid, &cs);
	for (uint64_t off = 0; off < len; off += PAGE) {
		a = page_at(&ps, buf + off);
		EXPECT_EQ(COWTRACE_PAGE_LEVEL(a->flags), COWTRACE_LEVEL_PMD);
		EXPECT_EQ(a->folio_mapcount, 513);
		EXPECT_EQ(page_at(&cs, buf + off)->folio_mapcount, 513);
		EXPECT_EQ(COWTRACE_PAGE_LEVEL(page_at(&cs, buf + off)->flags),
			  COWTRACE_LEVEL_PTE);
		if (ct_failed())
			ct_abort();
	}
	if (!(ps.unavailable & CT_UNAVAIL_PAGE_MAPCOUNT))
		EXPECT_EQ(page_at(&ps, buf + len - PAGE)->mapcount, 2);
	ct_snapshot_free(&ps);
	ct_snapshot_free(&cs);
	puppet_kill(&c);
	puppet_kill(&p);
}

#define KSM "/sys/kernel/mm/ksm/"

TEST_TIMEOUT(ksm_merges_identical_pages, 240)
{
	struct ct_snapshot s;
	struct puppet p;
	uint64_t buf;
	long scans;

	if (access(KSM "run", W_OK))
		SKIP("KSM not available (no " KSM "run)");
	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, 8 * PAGE, 0, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_FILL, buf, 8 * PAGE, 0x5a);
	ASSERT_EQ(must_call(&p, PUP_MADVISE, buf, 8 * PAGE, MADV_MERGEABLE), 0);
	write_file(KSM "pages_to_scan", "10000");
	write_file(KSM "sleep_millisecs", "10");
	scans = read_long(KSM "full_scans");
	ASSERT_EQ(write_file(KSM "run", "1"), 0);
	/* two full scans: the first finds candidates, the second merges */
	for (int i = 0; i < 2000 && read_long(KSM "full_scans") < scans + 3; i++)
		usleep(10000);
	write_file(KSM "run", "0");
	snap_checked(p.pid, &s);
	for (int i = 0; i < 8; i++) {
		const struct cowtrace_page *r = page_at(&s, buf + i * PAGE);

		EXPECT_TRUE(PG(r, KSM) && PG(r, ANON));
		EXPECT_FALSE(PG(r, ANON_EXCL));
		EXPECT_FALSE(PTE(r, WRITE));
		EXPECT_EQ(r->pfn, page_at(&s, buf)->pfn);
		EXPECT_EQ(r->mapcount, 8);
	}
	ct_snapshot_free(&s);
	puppet_kill(&p);
	write_file(KSM "run", "2");	/* unmerge everything */
}

static int setup_zram_swap(void)
{
	if (access("/proc/swaps", R_OK))
		return -1;
	if (system("grep -q zram0 /proc/swaps && exit 0; "
		   "modprobe zram num_devices=1 2>/dev/null; "
		   "[ -e /sys/block/zram0/disksize ] || exit 1; "
		   "echo 64M > /sys/block/zram0/disksize && "
		   "mkswap /dev/zram0 >/dev/null && swapon /dev/zram0") != 0)
		return -1;
	return 0;
}

TEST(swap_entries)
{
	struct ct_snapshot s;
	struct puppet p;
	uint64_t buf;

	if (setup_zram_swap())
		SKIP("no swap device: zram, mkswap or swapon not available");
	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, 8 * PAGE, 0, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_MADVISE, buf, 8 * PAGE, MADV_NOHUGEPAGE);
	must_call(&p, PUP_WRITE, buf, 8 * PAGE, 3);
	ASSERT_EQ(must_call(&p, PUP_MADVISE, buf, 8 * PAGE, MADV_PAGEOUT), 0);
	snap_checked(p.pid, &s);
	for (int i = 0; i < 8; i++) {
		const struct cowtrace_page *r = page_at(&s, buf + i * PAGE);

		EXPECT_TRUE(PTE(r, SWAP));
		EXPECT_FALSE(PTE(r, PRESENT));
		/* swapped out while exclusive: the swap PTE remembers it */
		EXPECT_TRUE(EXCLUSIVE(&s, r));
	}
	ct_snapshot_free(&s);
	/* swap it back in: present and exclusive again */
	must_call(&p, PUP_READ, buf, 8 * PAGE, 0);
	snap_checked(p.pid, &s);
	EXPECT_TRUE(PTE(page_at(&s, buf), PRESENT));
	ct_snapshot_free(&s);
	puppet_kill(&p);
}

TEST(mm_info_matches_proc_status)
{
	struct cowtrace_mm_info mi = { .size = sizeof(mi) };
	struct ct_snapshot s;
	struct puppet p;
	char path[64], line[256];
	long vmpte = -1;
	FILE *f;
	int fd;

	must_spawn(&p);
	must_call(&p, PUP_WRITE,
		  must_call(&p, PUP_MMAP, 64 * PAGE, 0, PROT_READ | PROT_WRITE),
		  64 * PAGE, 1);
	fd = open(CT_CTL_PATH, O_RDONLY);
	ASSERT_GE(fd, 0);
	mi.pid = p.pid;
	ASSERT_EQ(ioctl(fd, COWTRACE_IOC_MM_INFO, &mi), 0);
	close(fd);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)p.pid);
	f = fopen(path, "r");
	ASSERT_TRUE(f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "VmPTE: %ld kB", &vmpte);
	fclose(f);
	EXPECT_EQ(mi.tgid, p.pid);
	EXPECT_EQ(mi.pgtables_bytes / 1024, vmpte);
	EXPECT_EQ(mi.mm_users, 1);
	/* TASK_SIZE_MAX: 47-bit, or 56-bit with 5-level paging */
	EXPECT_TRUE(mi.task_size == (1ull << 47) - PAGE ||
		    mi.task_size == (1ull << 56) - PAGE);
	snap_checked(p.pid, &s);
	EXPECT_EQ(mi.map_count, s.nr_vmas);
	ct_snapshot_free(&s);
	puppet_kill(&p);
}

/* Small buffers force resumption; the result must equal one big call. */
TEST(continuation_matches_single_call)
{
	struct cowtrace_page pages[7];
	struct cowtrace_vma vmas[3];
	char names[4096];
	struct ct_snapshot whole;
	struct ct_error err;
	struct puppet p;
	size_t np = 0, calls = 0;
	uint64_t next = 0;
	int fd;

	must_spawn(&p);
	must_call(&p, PUP_WRITE,
		  must_call(&p, PUP_MMAP, 40 * PAGE, 0, PROT_READ | PROT_WRITE),
		  40 * PAGE, 1);
	ASSERT_EQ(ct_snapshot_module(p.pid, 0, 1ull << 47, &whole, &err), 0);
	fd = open(CT_CTL_PATH, O_RDONLY);
	ASSERT_GE(fd, 0);
	do {
		struct cowtrace_snapshot a = {
			.size = sizeof(a), .pid = p.pid, .start = next,
			.end = 1ull << 47,
			.vmas = (uintptr_t)vmas, .vma_cap = 3,
			.pages = (uintptr_t)pages, .page_cap = 7,
			.names = (uintptr_t)names, .names_cap = sizeof(names),
		};

		ASSERT_EQ(ioctl(fd, COWTRACE_IOC_SNAPSHOT, &a), 0);
		ASSERT_LE(a.page_count, 7);
		ASSERT_LE(a.vma_count, 3);
		for (uint32_t i = 0; i < a.page_count; i++, np++) {
			ASSERT_LE(np + 1, whole.nr_pages);
			EXPECT_EQ(pages[i].addr, whole.pages[np].addr);
			EXPECT_EQ(pages[i].pfn, whole.pages[np].pfn);
			/*
			 * PG_LRU changes on its own, when a per-CPU batch is
			 * drained into the LRU between the two reads
			 */
			EXPECT_EQ(pages[i].flags & ~COWTRACE_PG_LRU,
				  whole.pages[np].flags & ~COWTRACE_PG_LRU);
		}
		/* the first VMA of each call contains (or follows) start */
		if (a.vma_count)
			EXPECT_TRUE(vmas[0].end > next);
		ASSERT_TRUE(a.next > next);
		next = a.next;
		calls++;
	} while (next < (1ull << 47));
	EXPECT_EQ(np, whole.nr_pages);
	EXPECT_GE(calls, whole.nr_pages / 7);
	close(fd);
	ct_snapshot_free(&whole);
	puppet_kill(&p);
}

static int snap_ioctl(int fd, struct cowtrace_snapshot *a)
{
	return ioctl(fd, COWTRACE_IOC_SNAPSHOT, a) ? errno : 0;
}

/*
 * The names buffer fills first: 300 file VMAs whose path is 60 characters
 * need 18,300 bytes of names, and names_cap is the documented minimum, 4096,
 * while the VMA and page buffers have room for everything.  Each call must
 * return a partial result (the names that fit, next at the VMA whose name did
 * not), as for a full page or VMA buffer, and the calls together must report
 * every VMA, each name whole.  A module that only stops on a full page or
 * VMA buffer never returns from the first call: the test's alarm then names
 * the call it is stuck in.
 */
TEST_TIMEOUT(names_buffer_full_returns_partial_result, 60)
{
	enum { NR = 300, PATHLEN = 60, NAMES_CAP = 4096, VMA_CAP = 4096,
	       PAGE_CAP = 200000 };
	const uint64_t end = 1ull << 47;
	struct cowtrace_vma *vmas = calloc(VMA_CAP, sizeof(*vmas));
	struct cowtrace_page *pages = calloc(PAGE_CAP, sizeof(*pages));
	char path[PATHLEN + 1], names[NAMES_CAP];
	uint64_t next = 0, last_start = 0;
	int fd = must_open_ctl(), file, found = 0, calls = 0;
	char *region;

	ASSERT_TRUE(vmas && pages);
	/* "/tmp/cowtrace-names-PID-xxx...": 60 characters, whatever the PID */
	snprintf(path, sizeof(path), "/tmp/cowtrace-names-%d-", (int)getpid());
	memset(path + strlen(path), 'x', PATHLEN - strlen(path));
	path[PATHLEN] = 0;
	file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(file, 0);
	ASSERT_EQ(ftruncate(file, PAGE), 0);
	/* every other page: a VMA of the file, kept apart by PROT_NONE holes */
	region = mmap(NULL, 2 * NR * PAGE, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(region != MAP_FAILED);
	for (int i = 0; i < NR; i++)
		ASSERT_TRUE(mmap(region + 2 * i * PAGE, PAGE, PROT_READ,
				 MAP_PRIVATE | MAP_FIXED, file, 0) != MAP_FAILED);
	close(file);

	do {
		struct cowtrace_snapshot a = {
			.size = sizeof(a), .pid = getpid(), .start = next,
			.end = end,
			.vmas = (uintptr_t)vmas, .vma_cap = VMA_CAP,
			.pages = (uintptr_t)pages, .page_cap = PAGE_CAP,
			.names = (uintptr_t)names, .names_cap = NAMES_CAP,
		};

		ct_step("COWTRACE_IOC_SNAPSHOT call %d, start %#llx, names_cap %d",
			calls, (unsigned long long)next, NAMES_CAP);
		ASSERT_EQ(snap_ioctl(fd, &a), 0);
		ASSERT_LE(a.names_len, NAMES_CAP);
		ASSERT_LE(a.vma_count, VMA_CAP);
		ASSERT_GT(a.next, next);
		for (uint32_t i = 0; i < a.vma_count; i++) {
			const struct cowtrace_vma *v = &vmas[i];

			/* a resumed call may repeat the VMA it starts in */
			if (v->start <= last_start && last_start)
				continue;
			last_start = v->start;
			if (v->backing != COWTRACE_BACKING_FILE ||
			    v->name_len != PATHLEN)
				continue;
			ASSERT_LE(v->name_off + v->name_len + 1, a.names_len);
			found += !strcmp(names + v->name_off, path);
		}
		next = a.next;
		calls++;
	} while (next < end);
	EXPECT_EQ(found, NR);
	/* 18,300 bytes of names, 4096 per call */
	EXPECT_GE(calls, NR * (PATHLEN + 1) / NAMES_CAP + 1);
	munmap(region, 2 * NR * PAGE);
	unlink(path);
	close(fd);
	free(vmas);
	free(pages);
}

/* All of [start, end) of @pid in one call, per page or as runs. */
static uint32_t snap_raw(int fd, pid_t pid, uint64_t start, uint64_t end,
			 void *buf, uint32_t cap, uint64_t flags)
{
	struct cowtrace_snapshot a = {
		.size = sizeof(a), .flags = flags, .pid = pid, .start = start,
		.end = end, .pages = (uintptr_t)buf, .page_cap = cap,
	};

	if (ioctl(fd, COWTRACE_IOC_SNAPSHOT, &a) || a.next != end)
		FAIL("COWTRACE_IOC_SNAPSHOT flags %#llx: %s, next %#llx",
		     (unsigned long long)flags, strerror(errno),
		     (unsigned long long)a.next);
	return a.page_count;
}

/*
 * Per-page records and runs of [start, end) while the pages hold still.  A
 * page's refcount moves on its own while it waits in a per-CPU LRU batch
 * (and PG_LRU when the batch drains), so the runs are taken between two
 * per-page snapshots, again until those two agree.
 */
static void snap_pages_and_runs(int fd, pid_t pid, uint64_t start, uint64_t end,
				struct cowtrace_page *pages, struct cowtrace_page_run *runs,
				uint32_t cap, uint32_t *np, uint32_t *nr)
{
	struct cowtrace_page *again = calloc(cap, sizeof(*again));
	uint32_t n2;

	ASSERT_TRUE(again);
	for (int tries = 0; tries < 50; tries++) {
		*np = snap_raw(fd, pid, start, end, pages, cap, 0);
		*nr = snap_raw(fd, pid, start, end, runs, cap, COWTRACE_SNAP_RUNS);
		n2 = snap_raw(fd, pid, start, end, again, cap, 0);
		if (n2 == *np && !memcmp(pages, again, n2 * sizeof(*pages))) {
			free(again);
			return;
		}
		usleep(20 * 1000);
	}
	free(again);
	FAIL("pages of %d kept changing: no two per-page snapshots in a row agreed", (int)pid);
}

/*
 * The same idle process read per page and as runs: the runs, expanded,
 * are the per-page records, field by field.  Written small pages, the zero
 * page, a THP (where the kernel gives one) and a hole between them.
 */
/*
 * Expanded, @nr runs are the @np per-page records, field by field (PG_LRU
 * aside: it changes on its own, as per-CPU batches drain).  Returns how many
 * records the runs held, to be checked against @np by the caller.
 */
static size_t expect_runs_are_pages(const struct cowtrace_page_run *runs, uint32_t nr,
				    const struct cowtrace_page *pages, uint32_t np)
{
	size_t k = 0;

	for (uint32_t i = 0; i < nr; i++) {
		const struct cowtrace_page_run *r = &runs[i];

		ASSERT_GE(r->nr_pages, 1);
		ASSERT_LE(r->pfn_step, 1);
		for (uint32_t j = 0; j < r->nr_pages; j++, k++) {
			const struct cowtrace_page *want = &pages[k];

			ASSERT_GT(np, k);
			EXPECT_EQ(r->first.addr + j * PAGE, want->addr);
			EXPECT_EQ(r->first.pfn + j * r->pfn_step, want->pfn);
			EXPECT_EQ(r->first.flags & ~COWTRACE_PG_LRU,
				  want->flags & ~COWTRACE_PG_LRU);
			EXPECT_EQ(r->first.refcount, want->refcount);
			EXPECT_EQ(r->first.mapcount, want->mapcount);
			EXPECT_EQ(r->first.folio_mapcount, want->folio_mapcount);
			if (ct_failed())
				ct_abort();
		}
	}
	return k;
}

TEST(runs_expand_to_the_per_page_records)
{
	enum { CAP = 4096, SMALL = 64, ZERO = 32 };
	uint64_t small, zero, thp = 0, start, end;
	struct cowtrace_page_run *runs;
	struct cowtrace_page *pages;
	uint32_t np, nr, zero_runs = 0, thp_runs = 0;
	bool thp_pmd = false;
	size_t k = 0;
	struct puppet p;
	int fd = must_open_ctl();

	pages = calloc(CAP, sizeof(*pages));
	runs = calloc(CAP, sizeof(*runs));
	ASSERT_TRUE(pages && runs);
	must_spawn(&p);
	small = must_call(&p, PUP_MMAP, 8ul << 20, PUP_MAP_ALIGN_2M,
			  PROT_READ | PROT_WRITE);
	must_call(&p, PUP_MADVISE, small, 4ul << 20, MADV_NOHUGEPAGE);
	must_call(&p, PUP_WRITE, small, SMALL * PAGE, 3);
	zero = small + (2ul << 20);
	must_call(&p, PUP_READ, zero, ZERO * PAGE, 0);
	if (thp_enabled()) {
		thp = small + (4ul << 20);
		must_call(&p, PUP_MADVISE, thp, 2ul << 20, MADV_HUGEPAGE);
		must_call(&p, PUP_WRITE, thp, 2ul << 20, 4);
	}
	start = small;
	end = small + (8ul << 20);

	snap_pages_and_runs(fd, p.pid, start, end, pages, runs, CAP, &np, &nr);
	k = expect_runs_are_pages(runs, nr, pages, np);
	EXPECT_EQ(k, np);
	for (uint32_t i = 0; i < nr; i++) {
		uint64_t a = runs[i].first.addr;

		zero_runs += a >= zero && a < zero + ZERO * PAGE;
		thp_runs += thp && a >= thp && a < thp + (2ul << 20);
	}
	for (k = 0; thp && k < np; k++)
		if (pages[k].addr == thp)
			thp_pmd = COWTRACE_PAGE_LEVEL(pages[k].flags) ==
				  COWTRACE_LEVEL_PMD;
	EXPECT_EQ(np, SMALL + ZERO + (thp ? 512 : 0));
	/* what runs are for: the zero page is one run, a THP its head and tails */
	EXPECT_EQ(zero_runs, 1);
	if (thp_pmd)
		EXPECT_EQ(thp_runs, 2);
	close(fd);
	free(pages);
	free(runs);
	puppet_kill(&p);
}

/*
 * Dense memory after fork and COW, where a run must end at pages whose PFNs
 * still follow on: the module lengthens a run of like pages without decoding
 * each (walk.c, take_repeats()), so every way a neighbour can differ is made
 * here, in the parent and the child.  The child copies page 5 (the parent's
 * page 5 is left mapped once, its refcount and mapcount down); the parent
 * then writes page 5 (reused: writable, dirty, exclusive again) and page 9
 * (a copy, a PFN out of line).  Expanded runs must equal per-page records.
 */
TEST(runs_end_where_cow_made_neighbours_differ)
{
	enum { CAP = 4096, N = 64 };
	struct cowtrace_page_run *runs;
	struct cowtrace_page *pages;
	struct puppet p, c;
	uint64_t buf;
	int fd = must_open_ctl();

	pages = calloc(CAP, sizeof(*pages));
	runs = calloc(CAP, sizeof(*runs));
	ASSERT_TRUE(pages && runs);
	must_spawn(&p);
	buf = must_call(&p, PUP_MMAP, N * PAGE, 0, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_MADVISE, buf, N * PAGE, MADV_NOHUGEPAGE);
	must_call(&p, PUP_WRITE, buf, N * PAGE, 3);
	must_fork(&p, &c);
	must_call(&c, PUP_WRITE, buf + 5 * PAGE, PAGE, 4);
	must_call(&p, PUP_WRITE, buf + 5 * PAGE, PAGE, 5);
	must_call(&p, PUP_WRITE, buf + 9 * PAGE, PAGE, 6);
	for (int who = 0; who < 2; who++) {
		pid_t pid = who ? c.pid : p.pid;
		uint32_t np, nr;

		snap_pages_and_runs(fd, pid, buf, buf + N * PAGE, pages, runs, CAP, &np, &nr);
		EXPECT_EQ(np, N);
		EXPECT_EQ(expect_runs_are_pages(runs, nr, pages, np), np);
		/* page 5 stands alone, in both (its own refcount/mapcount) */
		for (uint32_t i = 0; i < nr; i++)
			if (runs[i].first.addr <= buf + 5 * PAGE &&
			    buf + 5 * PAGE < runs[i].first.addr + runs[i].nr_pages * PAGE)
				EXPECT_EQ(runs[i].first.addr, buf + 5 * PAGE);
	}
	close(fd);
	free(pages);
	free(runs);
	puppet_kill(&c);
	puppet_kill(&p);
}

/*
 * The buffer mapped from the module holds what the copied runs hold, and
 * takes them in turns when they do not fit.  Its errors: SNAP_MMAP with
 * nothing mapped or with a pages pointer, an offset, too big a mapping,
 * another size than the file's buffer.
 */
TEST(mapped_buffer_matches_copied_runs)
{
	enum { CAP = 4096, SCATTERED = 300 };
	struct cowtrace_page_run *copied, *small, *again, *big;
	uint64_t buf, start, end, next;
	uint32_t nr, got = 0, calls = 0;
	struct puppet p;
	int fd = must_open_ctl();
	struct cowtrace_snapshot a = {
		.size = sizeof(a), .flags = COWTRACE_SNAP_RUNS | COWTRACE_SNAP_MMAP,
		.page_cap = CAP,
	};

	copied = calloc(CAP, sizeof(*copied));
	ASSERT_TRUE(copied);
	must_spawn(&p);
	/* every other page: each a run of its own, more than a page of runs */
	buf = must_call(&p, PUP_MMAP, 2 * SCATTERED * PAGE, 0, PROT_READ | PROT_WRITE);
	must_call(&p, PUP_MADVISE, buf, 2 * SCATTERED * PAGE, MADV_NOHUGEPAGE);
	for (int i = 0; i < SCATTERED; i++)
		must_call(&p, PUP_WRITE, buf + 2 * i * PAGE, PAGE, 5);
	start = buf;
	end = buf + 2 * SCATTERED * PAGE;
	a.pid = p.pid;
	a.start = start;
	a.end = end;

	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);	/* nothing mapped yet */
	EXPECT_TRUE(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE) == MAP_FAILED &&
		    errno == EINVAL);
	EXPECT_TRUE(mmap(NULL, COWTRACE_MMAP_MAX + PAGE, PROT_READ, MAP_SHARED, fd,
			 0) == MAP_FAILED && errno == EINVAL);
	small = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(small != MAP_FAILED);
	big = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_TRUE(big == MAP_FAILED && errno == EINVAL);
	again = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(again != MAP_FAILED);
	a.pages = (uintptr_t)copied;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);	/* a pointer too */
	a.pages = 0;

	nr = snap_raw(fd, p.pid, start, end, copied, CAP, COWTRACE_SNAP_RUNS);
	EXPECT_EQ(nr, SCATTERED);
	/* a page of buffer holds 102 runs: the rest come in later calls */
	for (next = start; next < end; calls++) {
		a.start = next;
		ASSERT_EQ(snap_ioctl(fd, &a), 0);
		ASSERT_LE(a.page_count, PAGE / sizeof(*small));
		EXPECT_EQ(a.page_cap, CAP);	/* an in field stays as given */
		for (uint32_t i = 0; i < a.page_count; i++, got++) {
			ASSERT_GT(nr, got);
			EXPECT_EQ(small[i].first.addr, copied[got].first.addr);
			EXPECT_EQ(small[i].first.pfn, copied[got].first.pfn);
			EXPECT_EQ(small[i].first.flags & ~COWTRACE_PG_LRU,
				  copied[got].first.flags & ~COWTRACE_PG_LRU);
			EXPECT_EQ(small[i].nr_pages, copied[got].nr_pages);
			/* both mappings are the one buffer */
			EXPECT_EQ(again[i].first.pfn, small[i].first.pfn);
		}
		ASSERT_GT(a.next, next);
		next = a.next;
	}
	EXPECT_EQ(got, nr);
	EXPECT_GE(calls, 3);

	/* VMAs only, with SNAP_MMAP set: no page records, one call */
	{
		struct cowtrace_vma vmas[8];

		a.start = start;
		a.page_cap = 0;
		a.vmas = (uintptr_t)vmas;
		a.vma_cap = 8;
		ASSERT_EQ(snap_ioctl(fd, &a), 0);
		EXPECT_EQ(a.page_count, 0);
		EXPECT_EQ(a.vma_count, 1);
		EXPECT_EQ(a.next, end);
	}
	munmap(small, PAGE);
	munmap(again, PAGE);
	close(fd);
	free(copied);
	puppet_kill(&p);
}

/*
 * The mapped buffer is the module's to write: a writable mapping is refused,
 * shared or private, and a read-only one cannot be made writable later,
 * even on a file open for writing.
 */
TEST(mapped_buffer_cannot_be_written)
{
	int fd = must_open_ctl();
	void *m;

	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_TRUE(m == MAP_FAILED && errno == EPERM);
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(m == MAP_FAILED && errno == EPERM);
	m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	EXPECT_EQ(mprotect(m, PAGE, PROT_READ | PROT_WRITE), -1);
	EXPECT_EQ(errno, EACCES);
	munmap(m, PAGE);
	m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	EXPECT_EQ(mprotect(m, PAGE, PROT_READ | PROT_WRITE), -1);
	EXPECT_EQ(errno, EACCES);
	munmap(m, PAGE);
	close(fd);
}

/* ---- every documented errno, and that a failing call changes nothing ---- */


TEST(errors_einval)
{
	struct cowtrace_page pages[4];
	struct cowtrace_snapshot good = {
		.size = sizeof(good), .pid = getpid(), .start = 0,
		.end = 1ull << 47, .pages = (uintptr_t)pages, .page_cap = 4,
	}, a;
	int fd = open(CT_CTL_PATH, O_RDONLY);

	ASSERT_GE(fd, 0);
	a = good, a.flags = 1ull << 63;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);
	EXPECT_EQ(memcmp(&a, &good, offsetof(struct cowtrace_snapshot, flags)), 0);
	a = good, a.reserved = 1;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);
	a = good, a.start = 123;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);
	a = good, a.end = 0x5001;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);
	a = good, a.start = 0x10000, a.end = 0x10000;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);
	a = good, a.start = 0x20000, a.end = 0x10000;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);
	a = good, a.page_cap = 0;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);
	a = good, a.vma_cap = 1, a.vmas = (uintptr_t)pages, a.names_cap = 100,
	a.names = (uintptr_t)pages;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);
	a = good, a.size = 8;
	EXPECT_EQ(snap_ioctl(fd, &a), EINVAL);
	/* unchanged out fields after every failure */
	EXPECT_EQ(a.page_count, 0);
	EXPECT_EQ(a.next, 0);
	/* a good call works */
	a = good;
	EXPECT_EQ(snap_ioctl(fd, &a), 0);
	EXPECT_EQ(a.page_count, 4);
	close(fd);
}

TEST(errors_enotty_efault_e2big)
{
	struct cowtrace_page pages[4];
	struct {
		struct cowtrace_snapshot a;
		uint64_t tail;
	} big = { .a = { .size = sizeof(big), .pid = getpid(), .end = 1ull << 47,
			 .pages = (uintptr_t)pages, .page_cap = 4 } };
	struct cowtrace_snapshot a;
	char *ro;
	int fd = open(CT_CTL_PATH, O_RDONLY);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(ioctl(fd, _IOWR(COWTRACE_IOC_MAGIC, 0x7f, struct cowtrace_snapshot), &a), -1);
	EXPECT_EQ(errno, ENOTTY);
	EXPECT_EQ(ioctl(fd, _IOWR('x', 0x02, struct cowtrace_snapshot), &a), -1);
	EXPECT_EQ(errno, ENOTTY);
	EXPECT_EQ(ioctl(fd, _IO(COWTRACE_IOC_MAGIC, 0x02)), -1);
	EXPECT_EQ(errno, ENOTTY);
	/* a NULL, an unmapped and a read-only argument or buffer */
	EXPECT_EQ(ioctl(fd, COWTRACE_IOC_SNAPSHOT, NULL), -1);
	EXPECT_EQ(errno, EFAULT);
	EXPECT_EQ(ioctl(fd, COWTRACE_IOC_SNAPSHOT, (void *)0x10), -1);
	EXPECT_EQ(errno, EFAULT);
	a = big.a, a.size = sizeof(a), a.pages = 0x1000;
	EXPECT_EQ(snap_ioctl(fd, &a), EFAULT);
	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a = big.a, a.size = sizeof(a), a.pages = (uintptr_t)ro;
	EXPECT_EQ(snap_ioctl(fd, &a), EFAULT);
	/* a larger struct: fine with a zero tail, E2BIG with a nonzero one */
	EXPECT_EQ(ioctl(fd, COWTRACE_IOC_SNAPSHOT, &big), 0);
	big.tail = 1;
	EXPECT_EQ(ioctl(fd, COWTRACE_IOC_SNAPSHOT, &big), -1);
	EXPECT_EQ(errno, E2BIG);
	a = big.a, a.size = 2 * PAGE;
	EXPECT_EQ(snap_ioctl(fd, &a), E2BIG);
	close(fd);
}

TEST(errors_esrch)
{
	struct cowtrace_mm_info mi = { .size = sizeof(mi) };
	struct cowtrace_page pages[4];
	struct cowtrace_snapshot a = {
		.size = sizeof(a), .end = 1ull << 47,
		.pages = (uintptr_t)pages, .page_cap = 4,
	};
	int fd = open(CT_CTL_PATH, O_RDONLY);
	pid_t zombie;

	ASSERT_GE(fd, 0);
	a.pid = 0;
	EXPECT_EQ(snap_ioctl(fd, &a), ESRCH);
	a.pid = 4000000;
	EXPECT_EQ(snap_ioctl(fd, &a), ESRCH);
	a.pid = 2;	/* kthreadd: no mm */
	EXPECT_EQ(snap_ioctl(fd, &a), ESRCH);
	zombie = fork();
	if (!zombie)
		_exit(0);
	usleep(100000);	/* not reaped: a zombie with no mm */
	a.pid = zombie;
	EXPECT_EQ(snap_ioctl(fd, &a), ESRCH);
	mi.pid = zombie;
	EXPECT_EQ(ioctl(fd, COWTRACE_IOC_MM_INFO, &mi), -1);
	EXPECT_EQ(errno, ESRCH);
	waitpid(zombie, NULL, 0);
	close(fd);
}

TEST(errors_eperm_without_cap_sys_admin)
{
	struct cowtrace_page pages[4];
	struct cowtrace_snapshot a = {
		.size = sizeof(a), .pid = getpid(), .end = 1ull << 47,
		.pages = (uintptr_t)pages, .page_cap = 4,
	};
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int fd = open(CT_CTL_PATH, O_RDONLY);

	ASSERT_GE(fd, 0);
	/* keep the open fd, drop CAP_SYS_ADMIN from every set */
	ASSERT_EQ(syscall(SYS_capget, &hdr, data), 0);
	data[0].effective &= ~(1u << CAP_SYS_ADMIN);
	data[0].permitted &= ~(1u << CAP_SYS_ADMIN);
	data[0].inheritable &= ~(1u << CAP_SYS_ADMIN);
	ASSERT_EQ(syscall(SYS_capset, &hdr, data), 0);
	EXPECT_EQ(snap_ioctl(fd, &a), EPERM);
	EXPECT_EQ(a.page_count, 0);
	/* nor can such a caller map the output buffer */
	EXPECT_TRUE(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	close(fd);
}

/* The text views agree with the ioctl, and a bad target changes nothing. */
TEST(debugfs_views)
{
	struct ct_snapshot s;
	struct puppet p;
	char cmd[256], buf[64];
	FILE *f;
	long lines = -1;

	must_spawn(&p);
	must_call(&p, PUP_WRITE,
		  must_call(&p, PUP_MMAP, 8 * PAGE, 0, PROT_READ | PROT_WRITE),
		  8 * PAGE, 1);
	snprintf(buf, sizeof(buf), "%d\n", (int)p.pid);
	ASSERT_EQ(write_file("/sys/kernel/debug/cowtrace/target", buf), 0);
	EXPECT_EQ(write_file("/sys/kernel/debug/cowtrace/target", "999999\n"), -1);
	EXPECT_EQ(write_file("/sys/kernel/debug/cowtrace/target", "bogus\n"), -1);
	EXPECT_EQ(read_long("/sys/kernel/debug/cowtrace/target"), p.pid);
	snap_checked(p.pid, &s);
	f = popen("grep -vc '^#' /sys/kernel/debug/cowtrace/pages", "r");
	ASSERT_TRUE(f);
	EXPECT_EQ(fscanf(f, "%ld", &lines), 1);
	pclose(f);
	EXPECT_EQ(lines, s.nr_pages);
	f = popen("grep -vc '^#' /sys/kernel/debug/cowtrace/vmas", "r");
	EXPECT_EQ(fscanf(f, "%ld", &lines), 1);
	pclose(f);
	EXPECT_EQ(lines, s.nr_vmas);
	snprintf(cmd, sizeof(cmd),
		 "head -1 /sys/kernel/debug/cowtrace/pages | grep -q '^# ADDR PFN' && "
		 "grep -qx 'comm cowtrace-puppet' /sys/kernel/debug/cowtrace/summary");
	EXPECT_EQ(system(cmd), 0);
	ct_snapshot_free(&s);
	puppet_kill(&p);
}
