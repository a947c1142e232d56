/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit suite for module/walk.c on a real mm, included at its end after
 * walk-kunit.h when built with COWTRACE_KUNIT=y (walk-kunit.h says why).
 *
 *   cowtrace_walk  the walker on a real mm: fault, write-protect, unmap
 *
 * The cases map, fault and unmap their own regions in insmod's mm, borrowed
 * with kthread_use_mm(): between that and kthread_unuse_mm() nothing may
 * assert or skip (borrowed-mm.h says why).  The helpers check with
 * KUNIT_EXPECT_*() and say whether they succeeded; a case that cannot go on
 * leaves through its "out" label, which unmaps and unuses.
 */
#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/uaccess.h>

#include "borrowed-mm.h"

/*
 * Map len bytes of private anonymous memory (and extra mmap flags) in
 * borrowed_mm; 0 if the mapping failed.
 */
static unsigned long walk_map_flags(struct kunit *test, unsigned long len,
				    unsigned long flags)
{
	unsigned long addr;

	addr = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags, 0);
	KUNIT_EXPECT_FALSE(test, IS_ERR_VALUE(addr));
	return IS_ERR_VALUE(addr) ? 0 : addr;
}

static unsigned long walk_map(struct kunit *test, unsigned long len)
{
	return walk_map_flags(test, len, 0);
}

/*
 * Every case's one way out of the borrowed mm (borrowed-mm.h): unmap what
 * it mapped, if it got that far, then stop using the mm.
 */
static void walk_unmap_and_unuse(unsigned long addr, unsigned long len)
{
	if (addr)
		vm_munmap(addr, len);
	kthread_unuse_mm(borrowed_mm);
}

/* Write the first byte of each of npages pages at addr; false if one failed. */
static bool walk_write(struct kunit *test, unsigned long addr, int npages)
{
	int i, err;

	for (i = 0; i < npages; i++) {
		err = put_user((char)i, (char __user *)addr + i * PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, err, 0);
		if (err)
			return false;
	}
	return true;
}

/*
 * Walk [start, end) in chunks of at most cap records; returns the count, or
 * -1 once a check failed (the walk stops there).
 */
static int walk_collect(struct kunit *test, unsigned long start,
			unsigned long end, struct cowtrace_page *out,
			unsigned int max, unsigned int cap)
{
	struct cowtrace_page *chunk;
	struct cowtrace_walk w;
	unsigned int n = 0;

	chunk = kunit_kcalloc(test, cap, sizeof(*chunk), GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, chunk);
	if (!chunk)
		return -1;
	cowtrace_walk_init(&w, borrowed_mm, start, end);
	w.pages = chunk;
	w.page_cap = cap;
	while (w.addr < w.end) {
		unsigned long before = w.addr;
		int why = cowtrace_walk_chunk(&w);
		bool done, whole;

		KUNIT_EXPECT_GE(test, why, 0);
		if (why < 0)
			return -1;
		/* done exactly when the whole range is */
		done = why == COWTRACE_WALK_DONE;
		whole = w.addr >= w.end;
		KUNIT_EXPECT_EQ(test, done, whole);
		if (done != whole)
			return -1;
		KUNIT_EXPECT_LE(test, w.nr_pages, cap);
		if (w.nr_pages > cap)
			return -1;
		KUNIT_EXPECT_LE(test, n + w.nr_pages, max);
		if (n + w.nr_pages > max)
			return -1;
		memcpy(out + n, chunk, w.nr_pages * sizeof(*chunk));
		n += w.nr_pages;
		/* every chunk makes progress */
		KUNIT_EXPECT_GT(test, w.addr, before);
		if (w.addr <= before)
			return -1;
	}
	return n;
}

/* Records of the npages pages at addr, in one big chunk; as walk_collect(). */
static int walk_pages(struct kunit *test, unsigned long addr,
		      unsigned int npages, struct cowtrace_page *out)
{
	return walk_collect(test, addr, addr + npages * PAGE_SIZE, out, npages,
			    64);
}

/* Write-protect every present PTE of borrowed_mm; false if that failed. */
static bool walk_clear_refs(struct kunit *test)
{
	unsigned long ubuf;
	bool done = false;
	char path[32];
	struct file *f;
	loff_t pos = 0;
	int err;

	/*
	 * "4": clear soft-dirty, which write-protects every present PTE.  The
	 * procfs file has no write_iter, so kernel_write() refuses it, and
	 * vfs_write() is not exported: call its ->write with a user buffer of
	 * the mm we are using.
	 */
	ubuf = walk_map(test, PAGE_SIZE);
	if (!ubuf)
		return false;
	err = put_user('4', (char __user *)ubuf);
	KUNIT_EXPECT_EQ(test, err, 0);
	if (err)
		goto out;
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", borrowed_tgid);
	f = filp_open(path, O_WRONLY, 0);
	KUNIT_EXPECT_FALSE(test, IS_ERR(f));
	if (IS_ERR(f))
		goto out;
	KUNIT_EXPECT_NOT_NULL(test, f->f_op->write);
	if (f->f_op->write) {
		KUNIT_EXPECT_EQ(test,
				f->f_op->write(f, (char __user *)ubuf, 1, &pos),
				1);
		done = true;
	}
	filp_close(f, NULL);
out:
	vm_munmap(ubuf, PAGE_SIZE);
	return done;
}

static void walk_written_anon_pages(struct kunit *test)
{
	struct cowtrace_page recs[8];
	unsigned long addr;
	int n, i;

	kthread_use_mm(borrowed_mm);
	addr = walk_map(test, 8 * PAGE_SIZE);
	if (!addr || !walk_write(test, addr, 6))
		goto out;
	n = walk_pages(test, addr, 8, recs);
	if (n < 0)
		goto out;
	KUNIT_EXPECT_EQ(test, n, 6);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, recs[i].addr, addr + i * PAGE_SIZE);
		KUNIT_EXPECT_TRUE(test, recs[i].flags & COWTRACE_PTE_PRESENT);
		KUNIT_EXPECT_TRUE(test, recs[i].flags & COWTRACE_PTE_WRITE);
		KUNIT_EXPECT_TRUE(test, recs[i].flags & COWTRACE_PG_ANON);
		KUNIT_EXPECT_TRUE(test, recs[i].flags & COWTRACE_PG_ANON_EXCL);
		KUNIT_EXPECT_EQ(test, recs[i].mapcount, 1);
	}
out:
	walk_unmap_and_unuse(addr, 8 * PAGE_SIZE);
}

static void walk_read_fault_maps_zero_page(struct kunit *test)
{
	struct cowtrace_page recs[2];
	unsigned long addr;
	char c __maybe_unused; /* the read is what counts, not the byte */
	int err, n;

	kthread_use_mm(borrowed_mm);
	addr = walk_map(test, 2 * PAGE_SIZE);
	if (!addr)
		goto out;
	err = get_user(c, (char __user *)addr);
	KUNIT_EXPECT_EQ(test, err, 0);
	if (err)
		goto out;
	n = walk_pages(test, addr, 2, recs);
	if (n < 0)
		goto out;
	KUNIT_EXPECT_EQ(test, n, 1);
	KUNIT_EXPECT_TRUE(test, recs[0].flags & COWTRACE_PG_ZERO);
	KUNIT_EXPECT_FALSE(test, recs[0].flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_TRUE(test, is_zero_pfn(recs[0].pfn));
out:
	walk_unmap_and_unuse(addr, 2 * PAGE_SIZE);
}

static void walk_write_bit_follows_write_protect(struct kunit *test)
{
	struct cowtrace_page before[4], after[4], again[4];
	unsigned long addr;
	int n;

	kthread_use_mm(borrowed_mm);
	addr = walk_map(test, 4 * PAGE_SIZE);
	if (!addr || !walk_write(test, addr, 4))
		goto out;
	n = walk_pages(test, addr, 4, before);
	KUNIT_EXPECT_EQ(test, n, 4);
	if (n != 4 || !walk_clear_refs(test))
		goto out;
	n = walk_pages(test, addr, 4, after);
	KUNIT_EXPECT_EQ(test, n, 4);
	if (n != 4)
		goto out;
	KUNIT_EXPECT_TRUE(test, before[0].flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_FALSE(test, after[0].flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_FALSE(test, after[0].flags & COWTRACE_PTE_SOFT_DIRTY);
	KUNIT_EXPECT_EQ(test, after[0].pfn, before[0].pfn);
	/* still exclusive: the next write fault reuses the page, no copy */
	KUNIT_EXPECT_TRUE(test, after[0].flags & COWTRACE_PG_ANON_EXCL);
	if (!walk_write(test, addr, 1))
		goto out;
	n = walk_pages(test, addr, 4, again);
	KUNIT_EXPECT_EQ(test, n, 4);
	if (n != 4)
		goto out;
	KUNIT_EXPECT_TRUE(test, again[0].flags & COWTRACE_PTE_WRITE);
	KUNIT_EXPECT_EQ(test, again[0].pfn, before[0].pfn);
	KUNIT_EXPECT_FALSE(test, again[1].flags & COWTRACE_PTE_WRITE);
out:
	walk_unmap_and_unuse(addr, 4 * PAGE_SIZE);
}

static void walk_unmapped_range_is_gone(struct kunit *test)
{
	struct cowtrace_page recs[4];
	struct cowtrace_vma vmas[4];
	struct cowtrace_walk w;
	unsigned long addr;
	int n, why;

	kthread_use_mm(borrowed_mm);
	addr = walk_map(test, 4 * PAGE_SIZE);
	if (!addr || !walk_write(test, addr, 4))
		goto out;
	vm_munmap(addr + PAGE_SIZE, 2 * PAGE_SIZE);
	n = walk_pages(test, addr, 4, recs);
	if (n < 0)
		goto out;
	KUNIT_EXPECT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, recs[0].addr, addr);
	KUNIT_EXPECT_EQ(test, recs[1].addr, addr + 3 * PAGE_SIZE);
	/* and the VMA was split in two around the hole */
	cowtrace_walk_init(&w, borrowed_mm, addr, addr + 4 * PAGE_SIZE);
	w.vmas = vmas;
	w.vma_cap = ARRAY_SIZE(vmas);
	why = cowtrace_walk_chunk(&w);
	KUNIT_EXPECT_EQ(test, why, COWTRACE_WALK_DONE);
	if (why != COWTRACE_WALK_DONE)
		goto out;
	KUNIT_EXPECT_EQ(test, w.nr_vmas, 2);
	KUNIT_EXPECT_EQ(test, vmas[0].end, addr + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, vmas[1].start, addr + 3 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, vmas[0].flags & COWTRACE_VMA_COW);
	KUNIT_EXPECT_TRUE(test, vmas[0].flags & COWTRACE_VMA_ANON_VMA);
	KUNIT_EXPECT_EQ(test, vmas[0].backing, COWTRACE_BACKING_ANON);
out:
	walk_unmap_and_unuse(addr, 4 * PAGE_SIZE);
}

static void walk_small_buffers_resume_exactly(struct kunit *test)
{
	struct cowtrace_page *whole, *bits;
	int n_whole, n_bits;
	unsigned long addr;

	whole = kunit_kcalloc(test, 64, sizeof(*whole), GFP_KERNEL);
	bits = kunit_kcalloc(test, 64, sizeof(*bits), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, whole);
	KUNIT_ASSERT_NOT_NULL(test, bits);
	kthread_use_mm(borrowed_mm);
	addr = walk_map(test, 40 * PAGE_SIZE);
	if (!addr || !walk_write(test, addr, 40))
		goto out;
	n_whole =
		walk_collect(test, addr, addr + 40 * PAGE_SIZE, whole, 64, 64);
	if (n_whole < 0)
		goto out;
	n_bits = walk_collect(test, addr, addr + 40 * PAGE_SIZE, bits, 64, 7);
	if (n_bits < 0)
		goto out;
	KUNIT_EXPECT_EQ(test, n_whole, 40);
	KUNIT_EXPECT_EQ(test, n_bits, n_whole);
	KUNIT_EXPECT_EQ(test, memcmp(whole, bits, n_whole * sizeof(*whole)), 0);
out:
	walk_unmap_and_unuse(addr, 40 * PAGE_SIZE);
}

static void walk_vma_record_names_and_repeats(struct kunit *test)
{
	struct cowtrace_vma vmas[2];
	char *names, *pathbuf;
	struct cowtrace_walk w;
	unsigned long addr;
	int why;

	names = kunit_kmalloc(test, PATH_MAX, GFP_KERNEL);
	pathbuf = kunit_kmalloc(test, PATH_MAX, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, names);
	KUNIT_ASSERT_NOT_NULL(test, pathbuf);
	kthread_use_mm(borrowed_mm);
	addr = walk_map(test, 4 * PAGE_SIZE);
	if (!addr)
		goto out;
	/* a walk starting inside the VMA reports it, with its real bounds */
	cowtrace_walk_init(&w, borrowed_mm, addr + PAGE_SIZE,
			   addr + 2 * PAGE_SIZE);
	w.vmas = vmas;
	w.vma_cap = 1;
	w.names = names;
	w.names_cap = PATH_MAX;
	w.pathbuf = pathbuf;
	why = cowtrace_walk_chunk(&w);
	KUNIT_EXPECT_EQ(test, why, COWTRACE_WALK_DONE);
	if (why != COWTRACE_WALK_DONE)
		goto out;
	KUNIT_EXPECT_EQ(test, w.nr_vmas, 1);
	if (w.nr_vmas != 1)
		goto out;
	KUNIT_EXPECT_LE(test, vmas[0].start, addr);
	KUNIT_EXPECT_GE(test, vmas[0].end, addr + 4 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, w.addr, addr + 2 * PAGE_SIZE);
out:
	walk_unmap_and_unuse(addr, 4 * PAGE_SIZE);
}

/*
 * A walk given a VMA buffer and no page buffer records the VMA and goes past
 * it, whatever its struct held before cowtrace_walk_init().  The ioctl's walk
 * is on the stack: with a stale page pointer left there, a VMA-only walk in
 * runs mode walked the page tables with no room for a page, stopped at the
 * first present one and returned next == start, so a caller resuming there
 * looped for ever (guest_fuzz saw it on 5.10).  The fields set here are the
 * ones ioctl_snapshot() sets; the poison stands in for the rest.
 */
static void walk_init_leaves_no_stale_buffer(struct kunit *test)
{
	struct cowtrace_vma vmas[1];
	struct cowtrace_walk w;
	unsigned long addr;
	int why;

	memset(&w, 0x5a, sizeof(w));
	kthread_use_mm(borrowed_mm);
	addr = walk_map(test, 2 * PAGE_SIZE);
	if (!addr || !walk_write(test, addr, 1))
		goto out;
	cowtrace_walk_init(&w, borrowed_mm, addr, addr + 2 * PAGE_SIZE);
	w.vmas = vmas;
	w.vma_cap = ARRAY_SIZE(vmas);
	w.runs = NULL;
	w.page_cap = 0;
	w.names = NULL;
	w.names_cap = 0;
	why = cowtrace_walk_chunk(&w);
	KUNIT_EXPECT_EQ(test, why, COWTRACE_WALK_DONE);
	KUNIT_EXPECT_EQ(test, w.nr_vmas, 1);
	KUNIT_EXPECT_EQ(test, w.nr_pages, 0);
	KUNIT_EXPECT_EQ(test, w.addr, addr + 2 * PAGE_SIZE);
out:
	walk_unmap_and_unuse(addr, 2 * PAGE_SIZE);
}

/*
 * A name that does not fit ends the chunk before its VMA, and says so: the
 * reason, not the counts, is what tells a caller its names buffer is full.
 * Asked again with no more room, the walk gives the same answer at the same
 * address: without the reason, a caller would loop there for ever.  Every
 * mm has a named VMA ([stack] at least), and one byte holds no name.
 * (The walk takes the mm's lock, not the mm: it may assert.)
 */
static void walk_names_full_is_a_reason(struct kunit *test)
{
	struct cowtrace_vma *vmas;
	char *names, *pathbuf;
	struct cowtrace_walk w;
	unsigned long at;
	int why;

	vmas = kunit_kcalloc(test, COWTRACE_CHUNK_VMAS, sizeof(*vmas),
			     GFP_KERNEL);
	names = kunit_kmalloc(test, PATH_MAX, GFP_KERNEL);
	pathbuf = kunit_kmalloc(test, PATH_MAX, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, vmas);
	KUNIT_ASSERT_NOT_NULL(test, names);
	KUNIT_ASSERT_NOT_NULL(test, pathbuf);
	cowtrace_walk_init(&w, borrowed_mm, 0, borrowed_mm->task_size);
	w.vmas = vmas;
	w.vma_cap = COWTRACE_CHUNK_VMAS;
	w.names = names;
	w.names_cap = 1;
	w.pathbuf = pathbuf;
	do {
		why = cowtrace_walk_chunk(&w);
		KUNIT_ASSERT_GE(test, why, 0);
	} while (why == COWTRACE_WALK_VMAS_FULL || why == COWTRACE_WALK_BUDGET);
	KUNIT_ASSERT_EQ(test, why, COWTRACE_WALK_NAMES_FULL);
	KUNIT_EXPECT_EQ(test, w.names_len, 0);
	KUNIT_EXPECT_LT(test, w.addr, w.end);
	at = w.addr;
	KUNIT_EXPECT_EQ(test, cowtrace_walk_chunk(&w),
			COWTRACE_WALK_NAMES_FULL);
	KUNIT_EXPECT_EQ(test, w.nr_vmas, 0);
	KUNIT_EXPECT_EQ(test, w.addr, at);
	/* with room for it, the walk goes on from there */
	w.names_cap = PATH_MAX;
	KUNIT_ASSERT_GE(test, cowtrace_walk_chunk(&w), 0);
	KUNIT_EXPECT_GT(test, w.nr_vmas, 0);
	KUNIT_EXPECT_GT(test, w.names_len, 0);
	KUNIT_EXPECT_EQ(test, vmas[0].start, at);
}

/*
 * Pages among empty PTEs: at every position in a cache line of entries and
 * at both ends of a page table, each must be found, once, at its address.
 * These are the edges any faster way of skipping empty entries (a line at a
 * time, say) gets wrong.  The walk covers two page tables, [base, base + 1024
 * pages) with base 2 MiB aligned; the positions are page indexes in it.
 */
#define SKIP_PAGES 1024
/* unmapped: see walk_finds_pages_among_empty_ptes() */
static const u16 skip_holes[] = { 300, 700 };

struct skip_case {
	const char *desc;
	u16 pos[8];
	unsigned int nr_pos;
	unsigned int every; /* or every n-th page, from 0, if non-zero */
};

static const struct skip_case skip_cases[] = {
	{ "the first entry", { 0 }, 1, 0 },
	{ "the last of the first eight", { 7 }, 1, 0 },
	{ "the first of the next eight", { 8 }, 1, 0 },
	{ "one past eight", { 9 }, 1, 0 },
	{ "three across an eight", { 6, 7, 8 }, 3, 0 },
	{ "the last entry of a table", { 511 }, 1, 0 },
	{ "the first entry of the next table", { 512 }, 1, 0 },
	{ "the last entry walked", { 1023 }, 1, 0 },
	{ "both ends of both tables", { 0, 511, 512, 1023 }, 4, 0 },
	{ "every ninth page", {}, 0, 9 },
	{ "every page", {}, 0, 1 },
};

static void skip_case_desc(const struct skip_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(skip, skip_cases, skip_case_desc);

static bool skip_is_hole(unsigned int i)
{
	unsigned int h;

	for (h = 0; h < ARRAY_SIZE(skip_holes); h++)
		if (skip_holes[h] == i)
			return true;
	return false;
}

static bool skip_case_writes(const struct skip_case *c, unsigned int i)
{
	unsigned int k;

	if (skip_is_hole(i))
		return false;
	if (c->every)
		return i % c->every == 0;
	for (k = 0; k < c->nr_pos; k++)
		if (c->pos[k] == i)
			return true;
	return false;
}

static void walk_finds_pages_among_empty_ptes(struct kunit *test)
{
	const struct skip_case *c = test->param_value;
	unsigned long map, base, len = SKIP_PAGES * PAGE_SIZE + PMD_SIZE;
	struct cowtrace_page *recs;
	int n, err, want = 0;
	unsigned int i;

	recs = kunit_kcalloc(test, SKIP_PAGES, sizeof(*recs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, recs);
	kthread_use_mm(borrowed_mm);
	map = walk_map(test, len);
	if (!map)
		goto out;
	base = ALIGN(map, PMD_SIZE);
	/*
	 * The holes split the range into VMAs none of which holds a whole
	 * 2 MiB window, so no THP maps it, whatever the THP mode.
	 */
	for (i = 0; i < ARRAY_SIZE(skip_holes); i++) {
		unsigned long hole = base + skip_holes[i] * PAGE_SIZE;

		err = vm_munmap(hole, PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, err, 0);
		if (err)
			goto out;
	}
	for (i = 0; i < SKIP_PAGES; i++)
		if (skip_case_writes(c, i) &&
		    !walk_write(test, base + i * PAGE_SIZE, 1))
			goto out;
	n = walk_collect(test, base, base + SKIP_PAGES * PAGE_SIZE, recs,
			 SKIP_PAGES, 64);
	if (n < 0)
		goto out;
	for (i = 0; i < SKIP_PAGES; i++) {
		if (!skip_case_writes(c, i))
			continue;
		KUNIT_EXPECT_LT(test, want, n);
		if (want >= n)
			goto out;
		KUNIT_EXPECT_EQ(test, recs[want].addr, base + i * PAGE_SIZE);
		KUNIT_EXPECT_TRUE(test, recs[want].flags & COWTRACE_PG_ANON);
		KUNIT_EXPECT_FALSE(test, recs[want].flags & COWTRACE_PG_THP);
		want++;
	}
	KUNIT_EXPECT_EQ(test, n, want);
out:
	walk_unmap_and_unuse(map, len);
}

/*
 * The chunk budget is COWTRACE_CHUNK_PMDS (512) page tables, empty ones
 * included.  A walk from a 1 GiB boundary spends the last of it on the last
 * PMD of the first PUD: the chunk must end there, at the second PUD, and not
 * take that PUD and the rest of the range with a budget gone past zero.
 * One page written in each GiB gives both PUDs a PMD table.
 */
static void walk_budget_ends_at_the_last_pmd_of_a_pud(struct kunit *test)
{
	const unsigned int cap = 2 * PTRS_PER_PTE + 16; /* two THPs, if THP */
	unsigned long map, base, len = 3 * PUD_SIZE;
	struct cowtrace_page *recs;
	struct cowtrace_walk w;
	int why;

	if (COWTRACE_CHUNK_PMDS != PTRS_PER_PMD)
		kunit_skip(test, "the budget is not one PUD's PMDs here");
	recs = kunit_kcalloc(test, cap, sizeof(*recs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, recs);
	kthread_use_mm(borrowed_mm);
	map = walk_map_flags(test, len, MAP_NORESERVE);
	if (!map)
		goto out;
	base = ALIGN(map, PUD_SIZE);
	if (!walk_write(test, base, 1) || !walk_write(test, base + PUD_SIZE, 1))
		goto out;
	cowtrace_walk_init(&w, borrowed_mm, base, base + 2 * PUD_SIZE);
	w.pages = recs;
	w.page_cap = cap;
	why = cowtrace_walk_chunk(&w);
	KUNIT_EXPECT_EQ(test, why, COWTRACE_WALK_BUDGET);
	KUNIT_EXPECT_EQ(test, w.addr, base + PUD_SIZE);
	KUNIT_EXPECT_EQ(test, recs[0].addr, base);
	/* the next chunk takes the second GiB */
	why = cowtrace_walk_chunk(&w);
	KUNIT_EXPECT_EQ(test, why, COWTRACE_WALK_DONE);
	KUNIT_EXPECT_GE(test, w.nr_pages, 1);
	KUNIT_EXPECT_EQ(test, recs[0].addr, base + PUD_SIZE);
out:
	walk_unmap_and_unuse(map, len);
}

static void walk_mm_info_counts(struct kunit *test)
{
	struct cowtrace_mm_info info = {};

	KUNIT_ASSERT_EQ(test, cowtrace_mm_info(borrowed_mm, current, &info), 0);
	KUNIT_EXPECT_EQ(test, info.map_count, borrowed_mm->map_count);
	KUNIT_EXPECT_EQ(test, info.task_size, borrowed_mm->task_size);
	KUNIT_EXPECT_GT(test, info.total_vm, 0);
}

static struct kunit_case walk_test_cases[] = {
	KUNIT_CASE(walk_written_anon_pages),
	KUNIT_CASE(walk_read_fault_maps_zero_page),
	KUNIT_CASE(walk_write_bit_follows_write_protect),
	KUNIT_CASE(walk_unmapped_range_is_gone),
	KUNIT_CASE(walk_small_buffers_resume_exactly),
	KUNIT_CASE(walk_vma_record_names_and_repeats),
	KUNIT_CASE(walk_init_leaves_no_stale_buffer),
	KUNIT_CASE(walk_names_full_is_a_reason),
	KUNIT_CASE_PARAM(walk_finds_pages_among_empty_ptes, skip_gen_params),
	KUNIT_CASE(walk_budget_ends_at_the_last_pmd_of_a_pud),
	KUNIT_CASE(walk_mm_info_counts),
	{}
};

static struct kunit_suite cowtrace_walk_suite = {
	.name = "cowtrace_walk",
	.suite_init = borrowed_mm_init,
	.suite_exit = borrowed_mm_exit,
	.test_cases = walk_test_cases,
};

kunit_test_suites(&cowtrace_walk_suite);
