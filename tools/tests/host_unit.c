// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the tool: no kernel module needed.  The file format,
 * every diff and compare class on synthetic records, the JSON writer, and
 * the command line's argument errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../classify.h"
#include "../output.h"
#include "../reserve.h"
#include "../snapfile.h"
#include "harness.h"

#define PAGE 4096ull

static struct cowtrace_page rec(uint64_t addr, uint64_t pfn, uint32_t flags,
				uint32_t mapcount)
{
	struct cowtrace_page r = { .addr = addr, .pfn = pfn, .flags = flags,
				   .mapcount = mapcount, .folio_mapcount = mapcount,
				   .refcount = mapcount + 1 };
	return r;
}

#define ANON_PAGE (COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE | COWTRACE_PG_ANON)
/* a record at address 0: only the facts a case is about */
#define R(p, f, map)                                                   \
	{                                                              \
		.pfn = (p), .flags = (f), .refcount = (map) + 1,       \
		.mapcount = (map), .folio_mapcount = (map)             \
	}
#define W COWTRACE_PTE_WRITE
#define X COWTRACE_PG_ANON_EXCL

/* A snapshot with gaps, PFN jumps both ways, THP, swap and big counts. */
static void synthetic(struct ct_snapshot *s, size_t n)
{
	static char names[] = "/usr/lib/libc.so.6\0[heap]";

	memset(s, 0, sizeof(*s));
	s->pid = 4242;
	s->source = CT_SOURCE_MODULE;
	s->page_size = PAGE;
	s->time_ns = 1234567890123456789ull;
	s->end = 1ull << 47;
	strcpy(s->kernel, "6.1.0-56-amd64");
	strcpy(s->mm.comm, "synthetic");
	s->mm.rss_anon = 77;
	s->mm.task_size = (1ull << 47) - PAGE;
	s->nr_vmas = 2;
	s->vmas = calloc(2, sizeof(*s->vmas));
	s->vmas[0] = (struct cowtrace_vma){ .start = 0x400000, .end = 0x400000 + n * 4 * PAGE,
					    .flags = COWTRACE_VMA_COW | COWTRACE_VMA_READ,
					    .backing = COWTRACE_BACKING_FILE,
					    .name_off = 0, .name_len = 18, .ino = 99, .dev = 0x801 };
	s->vmas[1] = (struct cowtrace_vma){ .start = 0x7f0000000000, .end = 0x7f0000400000,
					    .backing = COWTRACE_BACKING_HEAP,
					    .name_off = 19, .name_len = 6 };
	s->names_len = sizeof(names);
	s->names = malloc(sizeof(names));
	memcpy(s->names, names, sizeof(names));
	s->nr_pages = n;
	s->pages = calloc(n, sizeof(*s->pages));
	for (size_t i = 0, addr = 0x400000; i < n; i++) {
		struct cowtrace_page *r = &s->pages[i];

		/* runs of pages with gaps */
		r->addr = addr;
		addr += PAGE * (i % 3 == 2 ? 7 : 1);
		r->pfn = i % 7 == 3 ? 0x100 + i : 0x80000 - i * 5;
		r->flags = ANON_PAGE | (i % 2 ? W | X : 0) | ((i % 5) << COWTRACE_ORDER_SHIFT);
		if (i % 11 == 0) {
			r->flags = COWTRACE_PTE_SWAP | COWTRACE_PG_ANON_EXCL;
			r->swap_type = 1;
		} else {
			r->refcount = 1 + i % 4;
		}
		r->mapcount = i % 13 == 0 ? 70000 : 1 + i % 3;
		r->folio_mapcount = r->mapcount * 2;
	}
}

static FILE *roundtrip(const struct ct_snapshot *s, size_t *bytes)
{
	struct ct_error err;
	FILE *f = tmpfile();

	ASSERT_TRUE(f);
	ASSERT_EQ(ct_file_write(f, s, &err), 0);
	*bytes = ftell(f);
	rewind(f);
	return f;
}

/* Every page record of @got is the one of @want, field for field. */
static void expect_same_pages(const struct ct_snapshot *want,
			      const struct ct_snapshot *got, const char *where)
{
	ASSERT_EQ(got->nr_pages, want->nr_pages);
	for (size_t i = 0; i < want->nr_pages; i++)
		if (memcmp(&want->pages[i], &got->pages[i], sizeof(want->pages[i])))
			FAIL("page %zu differs %s", i, where);
}

TEST(file_roundtrip_is_exact)
{
	struct ct_snapshot a, b;
	struct ct_error err;
	size_t bytes;
	FILE *f;

	synthetic(&a, 5000);
	f = roundtrip(&a, &bytes);
	ASSERT_EQ(ct_file_read(f, &b, &err), 0);
	fclose(f);
	EXPECT_EQ(b.pid, a.pid);
	EXPECT_EQ(b.time_ns, a.time_ns);
	EXPECT_EQ(strcmp(b.kernel, a.kernel), 0);
	EXPECT_EQ(strcmp(b.mm.comm, a.mm.comm), 0);
	EXPECT_EQ(b.mm.rss_anon, 77);
	EXPECT_EQ(b.mm.task_size, a.mm.task_size);
	ASSERT_EQ(b.nr_vmas, a.nr_vmas);
	EXPECT_EQ(memcmp(b.vmas, a.vmas, a.nr_vmas * sizeof(*a.vmas)), 0);
	EXPECT_EQ(strcmp(ct_vma_name(&b, &b.vmas[1]), "[heap]"), 0);
	expect_same_pages(&a, &b, "after the round trip");
	ct_snapshot_free(&a);
	ct_snapshot_free(&b);
}

/* Pages in runs, broken now by a PFN jump, now by a gap, now by a count. */
TEST(file_roundtrip_of_runs_is_exact)
{
	struct ct_snapshot a = { 0 }, b;
	struct ct_error err;
	size_t bytes, n = 20000;
	uint64_t addr = 0x7f0000000000, pfn = 0x1000;
	FILE *f;

	a.page_size = PAGE;
	a.start = addr;
	a.end = addr + 4 * n * PAGE;
	a.nr_pages = n;
	a.pages = calloc(n, sizeof(*a.pages));
	ASSERT_TRUE(a.pages);
	for (size_t i = 0; i < n; i++) {
		pfn += i % 37 == 0 ? 1000 : 1;
		addr += i % 101 == 0 ? 3 * PAGE : PAGE;
		a.pages[i] = rec(addr, pfn, ANON_PAGE | (i / 500 % 2 ? W : 0),
				 1 + i / 250 % 3);
	}
	f = roundtrip(&a, &bytes);
	ASSERT_EQ(ct_file_read(f, &b, &err), 0);
	fclose(f);
	printf("# %zu pages in runs: %zu bytes\n", n, bytes);
	expect_same_pages(&a, &b, "after the round trip");
	/* the runs (about one per 37 pages) are what it stores */
	EXPECT_LE(bytes, n / 37 * 16 + 1024);
	ct_snapshot_free(&a);
	ct_snapshot_free(&b);
}

/* Files from before runs (version 1) still read, to the same pages. */
TEST(file_reads_version_1)
{
	struct ct_snapshot a, b;
	struct ct_error err;

	synthetic(&a, 300);
	/* written by cowtrace's version-1 writer from this same synthetic() */
	ASSERT_EQ(ct_file_load("tests/fixtures/synthetic-300-v1.snap", &b, &err), 0);
	EXPECT_EQ(b.pid, a.pid);
	EXPECT_EQ(strcmp(b.kernel, a.kernel), 0);
	ASSERT_EQ(b.nr_vmas, a.nr_vmas);
	EXPECT_EQ(memcmp(b.vmas, a.vmas, a.nr_vmas * sizeof(*a.vmas)), 0);
	expect_same_pages(&a, &b, "in the version 1 file");
	ct_snapshot_free(&a);
	ct_snapshot_free(&b);
}

TEST(file_is_compact)
{
	struct ct_snapshot s = { 0 };
	size_t bytes, n = 100000;
	FILE *f;

	/* a typical anonymous region: contiguous, same flags */
	s.page_size = PAGE;
	s.pages = calloc(n, sizeof(*s.pages));
	s.nr_pages = n;
	for (size_t i = 0; i < n; i++)
		s.pages[i] = rec(0x7f0000000000 + i * PAGE, 0x10000 + i, ANON_PAGE | W | X, 1);
	f = roundtrip(&s, &bytes);
	fclose(f);
	printf("# %zu pages in %zu bytes: %.2f bytes/page\n", n, bytes, (double)bytes / n);
	EXPECT_LE(bytes, n * 16);
	ct_snapshot_free(&s);
}

TEST(file_rejects_corruption)
{
	struct ct_snapshot s, t;
	struct ct_error err;
	unsigned char *buf;
	size_t bytes;
	FILE *f;

	synthetic(&s, 300);
	f = roundtrip(&s, &bytes);
	buf = malloc(bytes);
	ASSERT_EQ(fread(buf, 1, bytes, f), bytes);
	fclose(f);
	/* a flipped bit anywhere, a truncation, a wrong magic, a new version */
	for (size_t off = 0; off < bytes; off += bytes / 17 + 1) {
		buf[off] ^= 0x10;
		f = fmemopen(buf, bytes, "r");
		EXPECT_EQ(ct_file_read(f, &t, &err), -1);
		fclose(f);
		buf[off] ^= 0x10;
	}
	f = fmemopen(buf, bytes - 9, "r");
	EXPECT_EQ(ct_file_read(f, &t, &err), -1);
	EXPECT_TRUE(strstr(err.msg, "truncated") || strstr(err.msg, "corrupt"));
	fclose(f);
	buf[8] = 9;
	f = fmemopen(buf, bytes, "r");
	EXPECT_EQ(ct_file_read(f, &t, &err), -1);
	EXPECT_TRUE(strstr(err.msg, "version 9") != NULL);
	fclose(f);
	buf[0] = 'X';
	f = fmemopen(buf, bytes, "r");
	EXPECT_EQ(ct_file_read(f, &t, &err), -1);
	EXPECT_TRUE(strstr(err.msg, "not a cowtrace snapshot") != NULL);
	fclose(f);
	free(buf);
	ct_snapshot_free(&s);
}

/* Every diff class, on the smallest record pair that shows it. */
static const struct change_case {
	const char *what;
	int has_a, has_b;
	struct cowtrace_page a, b;
	enum ct_change want;
} change_cases[] = {
	{ "unchanged", 1, 1, R(5, ANON_PAGE | W | X, 1), R(5, ANON_PAGE | W | X, 1), CT_UNCHANGED },
	{ "dirty/young churn is unchanged", 1, 1, R(5, ANON_PAGE | W, 1), R(5, ANON_PAGE | W | COWTRACE_PTE_DIRTY | COWTRACE_PTE_YOUNG, 1), CT_UNCHANGED },
	{ "cow-copied", 1, 1, R(5, ANON_PAGE, 2), R(9, ANON_PAGE | W | X, 1), CT_COW_COPIED },
	{ "reused", 1, 1, R(5, ANON_PAGE, 1), R(5, ANON_PAGE | W | X, 1), CT_REUSED },
	{ "write-protected", 1, 1, R(5, ANON_PAGE | W | X, 1), R(5, ANON_PAGE, 2), CT_WRITE_PROTECTED },
	{ "faulted", 0, 1, { 0 }, R(5, ANON_PAGE | W | X, 1), CT_FAULTED },
	{ "unmapped", 1, 0, R(5, ANON_PAGE | W | X, 1), { 0 }, CT_UNMAPPED },
	{ "swapped-out", 1, 1, R(5, ANON_PAGE | W | X, 1), R(77, COWTRACE_PTE_SWAP, 0), CT_SWAPPED_OUT },
	{ "swapped-in", 1, 1, R(77, COWTRACE_PTE_SWAP, 0), R(5, ANON_PAGE | W | X, 1), CT_SWAPPED_IN },
	{ "ksm-merged", 1, 1, R(5, ANON_PAGE | W | X, 1), R(8, ANON_PAGE | COWTRACE_PG_KSM, 8), CT_KSM_MERGED },
	{ "ksm-merged keeping its pfn", 1, 1, R(8, ANON_PAGE | W | X, 1), R(8, ANON_PAGE | COWTRACE_PG_KSM, 8), CT_KSM_MERGED },
	{ "ksm-broken", 1, 1, R(8, ANON_PAGE | COWTRACE_PG_KSM, 8), R(9, ANON_PAGE | W | X, 1), CT_KSM_BROKEN },
	{ "zero-replaced", 1, 1, R(1, COWTRACE_PTE_PRESENT | COWTRACE_PG_ZERO, 0), R(9, ANON_PAGE | W | X, 1), CT_ZERO_REPLACED },
	{ "thp-collapsed", 1, 1, R(5, ANON_PAGE | W | X, 1), R(0x200, ANON_PAGE | W | X | COWTRACE_PG_THP | (COWTRACE_LEVEL_PMD << COWTRACE_LEVEL_SHIFT), 1), CT_THP_COLLAPSED },
	{ "thp-split", 1, 1, R(0x200, ANON_PAGE | COWTRACE_PG_THP | (COWTRACE_LEVEL_PMD << COWTRACE_LEVEL_SHIFT), 2), R(0x200, ANON_PAGE | COWTRACE_PG_THP, 2), CT_THP_SPLIT },
	{ "migrated", 1, 1, R(5, ANON_PAGE | W | X, 1), R(6, ANON_PAGE | W | X, 1), CT_MIGRATED },
	{ "shared-more", 1, 1, R(5, ANON_PAGE, 2), R(5, ANON_PAGE, 3), CT_SHARED_MORE },
	{ "shared-less", 1, 1, R(5, ANON_PAGE, 2), R(5, ANON_PAGE, 1), CT_SHARED_LESS },
	{ "other: soft-dirty cleared", 1, 1, R(5, ANON_PAGE | W | COWTRACE_PTE_SOFT_DIRTY, 1), R(5, ANON_PAGE | W, 1), CT_OTHER },
};

TEST(diff_classifies_every_class)
{
	int seen[CT_NR_CHANGES] = { 0 };

	for (size_t i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
		const struct change_case *c = &change_cases[i];
		enum ct_change got = ct_classify_change(c->has_a ? &c->a : NULL,
							c->has_b ? &c->b : NULL);

		if (got != c->want)
			ct_fail(__FILE__, __LINE__, "%s: classified %s, want %s", c->what,
				ct_change_names[got], ct_change_names[c->want]);
		seen[c->want] = 1;
	}
	for (int k = 0; k < CT_NR_CHANGES; k++)
		if (!seen[k])
			ct_fail(__FILE__, __LINE__, "no case covers class %s", ct_change_names[k]);
}

TEST(compare_classifies_every_relation)
{
	struct cowtrace_page p = rec(0, 5, ANON_PAGE, 2), same = rec(0, 5, ANON_PAGE, 2),
			     other = rec(0, 6, ANON_PAGE | W | X, 1);
	struct cowtrace_page sw = rec(0, 77, COWTRACE_PTE_SWAP, 0), sw2 = sw;

	EXPECT_EQ(ct_classify_relation(&p, &same), CT_SHARED);
	EXPECT_EQ(ct_classify_relation(&p, &other), CT_DIVERGED);
	EXPECT_EQ(ct_classify_relation(&p, NULL), CT_PARENT_ONLY);
	EXPECT_EQ(ct_classify_relation(NULL, &p), CT_CHILD_ONLY);
	EXPECT_EQ(ct_classify_relation(&sw, &sw2), CT_SHARED);
	sw2.swap_type = 2;
	EXPECT_EQ(ct_classify_relation(&sw, &sw2), CT_DIVERGED);
	EXPECT_EQ(ct_classify_relation(&sw, &p), CT_DIVERGED);
}

/* Every map colour, on the smallest (self, other, origin) that shows it. */
#define PMD_THP (COWTRACE_PG_THP | (COWTRACE_LEVEL_PMD << COWTRACE_LEVEL_SHIFT))
static const struct cell_case {
	const char *what;
	int has_self, has_other, has_origin;
	struct cowtrace_page self, other, origin;
	enum ct_cell want;
} cell_cases[] = {
	{ "shared after fork", 1, 1, 0, R(5, ANON_PAGE, 2), R(5, ANON_PAGE, 2), { 0 }, CT_CELL_SHARED },
	{ "MAP_SHARED page", 1, 1, 0, R(5, COWTRACE_PTE_PRESENT | W | COWTRACE_PG_PAGE, 2), R(5, COWTRACE_PTE_PRESENT | W | COWTRACE_PG_PAGE, 2), { 0 }, CT_CELL_SHARED_MAPPING },
	{ "diverged, origin unknown", 1, 1, 0, R(9, ANON_PAGE | W | X, 1), R(5, ANON_PAGE | W | X, 1), { 0 }, CT_CELL_COPIED },
	{ "diverged, new pfn: the copy", 1, 1, 1, R(9, ANON_PAGE | W | X, 1), R(5, ANON_PAGE | W | X, 1), R(5, ANON_PAGE, 2), CT_CELL_COPIED },
	{ "diverged, origin's pfn: reused", 1, 1, 1, R(5, ANON_PAGE | W | X, 1), R(9, ANON_PAGE | W | X, 1), R(5, ANON_PAGE, 2), CT_CELL_OWN },
	{ "only this side", 1, 0, 0, R(5, ANON_PAGE | W | X, 1), { 0 }, { 0 }, CT_CELL_OWN },
	{ "zero page, even shared", 1, 1, 0, R(1, COWTRACE_PTE_PRESENT | COWTRACE_PG_ZERO, 0), R(1, COWTRACE_PTE_PRESENT | COWTRACE_PG_ZERO, 0), { 0 }, CT_CELL_ZERO },
	{ "ksm", 1, 1, 0, R(8, ANON_PAGE | COWTRACE_PG_KSM, 8), R(8, ANON_PAGE | COWTRACE_PG_KSM, 8), { 0 }, CT_CELL_KSM },
	{ "PMD-mapped THP shared", 1, 1, 0, R(0x200, ANON_PAGE | PMD_THP, 2), R(0x200, ANON_PAGE | PMD_THP, 2), { 0 }, CT_CELL_THP },
	{ "PTE-mapped THP page", 1, 0, 0, R(0x201, ANON_PAGE | COWTRACE_PG_THP, 1), { 0 }, { 0 }, CT_CELL_THP },
	{ "swapped out", 1, 1, 0, R(77, COWTRACE_PTE_SWAP, 0), R(77, COWTRACE_PTE_SWAP, 0), { 0 }, CT_CELL_SWAP },
	{ "absent where the other has a page", 0, 1, 0, { 0 }, R(5, ANON_PAGE | W | X, 1), { 0 }, CT_CELL_ABSENT },
};

TEST(map_colours_every_cell_state)
{
	int seen[CT_NR_CELLS] = { 0 };

	for (size_t i = 0; i < sizeof(cell_cases) / sizeof(cell_cases[0]); i++) {
		const struct cell_case *c = &cell_cases[i];
		enum ct_cell got = ct_classify_cell(c->has_self ? &c->self : NULL,
						    c->has_other ? &c->other : NULL,
						    c->has_origin ? &c->origin : NULL);

		if (got != c->want)
			ct_fail(__FILE__, __LINE__, "%s: drawn %s, want %s", c->what,
				ct_cell_names[got], ct_cell_names[c->want]);
		seen[c->want] = 1;
	}
	for (int k = 0; k < CT_NR_CELLS; k++)
		if (!seen[k])
			ct_fail(__FILE__, __LINE__, "no case covers cell state %s", ct_cell_names[k]);
}

/*
 * run's stories: what the page records say the kernel did at the focus page,
 * and whether the step's trace events (constructed here) agree.  Records and
 * events are at address 0, of process 100.
 */
#define FILE_PAGE (COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE)
#define ZERO (COWTRACE_PTE_PRESENT | COWTRACE_PG_ZERO)
#define EV(k, f, o, n) { .pid = 100, .kind = (k), .flags = (f), .old_pfn = (o), .new_pfn = (n) }
#define EVW(k, o, n) EV(k, COWTRACE_EVF_WRITE, o, n)
#define ANON_VMA { .end = PAGE, .flags = COWTRACE_VMA_COW, .backing = COWTRACE_BACKING_ANON }
#define FILE_VMA { .end = PAGE, .flags = COWTRACE_VMA_COW, .backing = COWTRACE_BACKING_FILE }
#define SHARED_VMA { .end = PAGE, .flags = COWTRACE_VMA_SHARED, .backing = COWTRACE_BACKING_FILE }
#define NOW COWTRACE_EV_WP_COPY
static const struct story_case {
	const char *what;
	int has_a, has_b;
	struct cowtrace_page a, b;
	struct cowtrace_vma vma;
	uint32_t unavailable;
	enum ct_story want;
	int nr_ev;
	struct cowtrace_event ev[2];
	int agree;
} story_cases[] = {
	/* anonymous memory, first touch */
	{ "anon first touch: anon-new", 0, 1, { 0 }, R(9, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_ANON_NEW, 1, { EVW(COWTRACE_EV_ANON_NEW, 0, 9) }, 1 },
	{ "anon first touch, but the trace saw a copy", 0, 1, { 0 }, R(9, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_ANON_NEW, 1, { EV(NOW, COWTRACE_EVF_WRITE | COWTRACE_EVF_FILE, 0, 9) }, 0 },
	{ "anon first touch, but no event", 0, 1, { 0 }, R(9, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_ANON_NEW, 0, { { 0 } }, 0 },
	{ "anon first touch, read then write in one step", 0, 1, { 0 }, R(9, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_ANON_NEW, 2, { EV(COWTRACE_EV_ANON_ZERO, 0, 0, 1), EVW(COWTRACE_EV_WP_ZERO, 1, 9) }, 1 },
	{ "anon first touch, the new PFN differs", 0, 1, { 0 }, R(9, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_ANON_NEW, 1, { EVW(COWTRACE_EV_ANON_NEW, 0, 10) }, 0 },
	{ "anon read: the zero page", 0, 1, { 0 }, R(1, ZERO, 0), ANON_VMA, 0,
	  CT_STORY_ZERO_MAPPED, 1, { EV(COWTRACE_EV_ANON_ZERO, 0, 0, 1) }, 1 },
	/* a private file mapping: the initialised data of shared_variable */
	{ "file private, first write to a present page-cache page: a copy", 1, 1,
	  R(0x2f08, FILE_PAGE, 1), R(0x3001, ANON_PAGE | W | X, 1), FILE_VMA, 0,
	  CT_STORY_FILE_COPIED, 1, { EV(NOW, COWTRACE_EVF_WRITE | COWTRACE_EVF_FILE, 0x2f08, 0x3001) }, 1 },
	{ "file private, present page-cache page, procfs (no write bit)", 1, 1,
	  R(0x2f08, FILE_PAGE, 1), R(0x3001, ANON_PAGE | X, 1), FILE_VMA, CT_UNAVAIL_WRITE,
	  CT_STORY_FILE_COPIED, 0, { { 0 } }, 0 },
	{ "file private copy, but the trace saw a first touch", 1, 1,
	  R(0x2f08, FILE_PAGE, 1), R(0x3001, ANON_PAGE | W | X, 1), FILE_VMA, 0,
	  CT_STORY_FILE_COPIED, 1, { EVW(COWTRACE_EV_ANON_NEW, 0, 0x3001) }, 0 },
	{ "file private copy, but the trace saw no page before", 1, 1,
	  R(0x2f08, FILE_PAGE, 1), R(0x3001, ANON_PAGE | W | X, 1), FILE_VMA, 0,
	  CT_STORY_FILE_COPIED, 1, { EV(NOW, COWTRACE_EVF_WRITE | COWTRACE_EVF_FILE, 0, 0x3001) }, 0 },
	{ "file private, write to a not-present page: read and copied at once", 0, 1,
	  { 0 }, R(0x3001, ANON_PAGE | W | X, 1), FILE_VMA, 0,
	  CT_STORY_FILE_COPIED, 1, { EV(NOW, COWTRACE_EVF_WRITE | COWTRACE_EVF_FILE, 0, 0x3001) }, 1 },
	{ "file private, not-present write, but the trace saw a first touch", 0, 1,
	  { 0 }, R(0x3001, ANON_PAGE | W | X, 1), FILE_VMA, 0,
	  CT_STORY_FILE_COPIED, 1, { EVW(COWTRACE_EV_ANON_NEW, 0, 0x3001) }, 0 },
	{ "file private, not-present write, but no event", 0, 1,
	  { 0 }, R(0x3001, ANON_PAGE | W | X, 1), FILE_VMA, 0,
	  CT_STORY_FILE_COPIED, 0, { { 0 } }, 0 },
	{ "file private read: the page cache's page, no event", 0, 1,
	  { 0 }, R(0x2f08, FILE_PAGE, 2), FILE_VMA, 0, CT_STORY_PAGE_MAPPED, 0, { { 0 } }, 1 },
	{ "a shared mapping's first write: the file's page, no event", 0, 1,
	  { 0 }, R(0x2f08, FILE_PAGE | W, 2), SHARED_VMA, 0, CT_STORY_PAGE_MAPPED, 0, { { 0 } }, 1 },
	{ "a shared mapping's read-only page written: the same page", 1, 1,
	  R(0x2f08, FILE_PAGE, 2), R(0x2f08, FILE_PAGE | W, 2), SHARED_VMA, 0,
	  CT_STORY_SHARED_WRITE, 1, { EVW(COWTRACE_EV_WP_SHARED, 0x2f08, 0x2f08) }, 1 },
	/* after fork: copy and reuse */
	{ "copy of a shared anon page", 1, 1, R(5, ANON_PAGE, 2), R(9, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_COW_COPIED, 1, { EVW(NOW, 5, 9) }, 1 },
	{ "copy of an anon page in a file mapping (the child's shared_variable)", 1, 1,
	  R(5, ANON_PAGE, 2), R(9, ANON_PAGE | W | X, 1), FILE_VMA, 0,
	  CT_STORY_COW_COPIED, 1, { EVW(NOW, 5, 9) }, 1 },
	{ "copy, procfs (no write bit): exclusive now", 1, 1, R(5, ANON_PAGE, 2), R(9, ANON_PAGE | X, 1),
	  ANON_VMA, CT_UNAVAIL_WRITE, CT_STORY_COW_COPIED, 0, { { 0 } }, 0 },
	{ "copy, but the trace says from the page cache", 1, 1, R(5, ANON_PAGE, 2), R(9, ANON_PAGE | W | X, 1),
	  ANON_VMA, 0, CT_STORY_COW_COPIED, 1, { EV(NOW, COWTRACE_EVF_WRITE | COWTRACE_EVF_FILE, 5, 9) }, 0 },
	{ "copy, but the trace ends at another PFN", 1, 1, R(5, ANON_PAGE, 2), R(9, ANON_PAGE | W | X, 1),
	  ANON_VMA, 0, CT_STORY_COW_COPIED, 1, { EVW(NOW, 5, 10) }, 0 },
	{ "copy, but the trace saw a reuse", 1, 1, R(5, ANON_PAGE, 2), R(9, ANON_PAGE | W | X, 1),
	  ANON_VMA, 0, CT_STORY_COW_COPIED, 1, { EVW(COWTRACE_EV_WP_REUSE, 5, 5) }, 0 },
	{ "copy, but no event", 1, 1, R(5, ANON_PAGE, 2), R(9, ANON_PAGE | W | X, 1),
	  ANON_VMA, 0, CT_STORY_COW_COPIED, 0, { { 0 } }, 0 },
	{ "reuse by the last sharer", 1, 1, R(5, ANON_PAGE, 1), R(5, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_REUSED, 1, { EVW(COWTRACE_EV_WP_REUSE, 5, 5) }, 1 },
	{ "reuse, procfs (no write bit): exclusive again", 1, 1, R(5, ANON_PAGE, 1), R(5, ANON_PAGE | X, 1),
	  ANON_VMA, CT_UNAVAIL_WRITE, CT_STORY_REUSED, 0, { { 0 } }, 0 },
	{ "reuse, but the trace saw a copy", 1, 1, R(5, ANON_PAGE, 1), R(5, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_REUSED, 1, { EVW(NOW, 5, 9) }, 0 },
	{ "ksm merge broken: a copy", 1, 1, R(8, ANON_PAGE | COWTRACE_PG_KSM, 8), R(9, ANON_PAGE | W | X, 1),
	  ANON_VMA, 0, CT_STORY_KSM_BROKEN, 1, { EVW(NOW, 8, 9) }, 1 },
	{ "zero page replaced: nothing copied", 1, 1, R(1, ZERO, 0), R(9, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_ZERO_REPLACED, 1, { EVW(COWTRACE_EV_WP_ZERO, 1, 9) }, 1 },
	{ "zero page replaced, but the trace saw a copy", 1, 1, R(1, ZERO, 0), R(9, ANON_PAGE | W | X, 1),
	  ANON_VMA, 0, CT_STORY_ZERO_REPLACED, 1, { EVW(NOW, 1, 9) }, 0 },
	/* nothing happened, or something untold */
	{ "nothing mapped", 0, 0, { 0 }, { 0 }, ANON_VMA, 0, CT_STORY_NOTHING, 0, { { 0 } }, 1 },
	{ "unchanged; the other process's copy at that address is not ours", 1, 1,
	  R(5, ANON_PAGE, 1), R(5, ANON_PAGE, 1), ANON_VMA, 0, CT_STORY_UNCHANGED, 1,
	  { { .pid = 101, .kind = NOW, .flags = COWTRACE_EVF_WRITE, .old_pfn = 5, .new_pfn = 9 } }, 1 },
	{ "unchanged; a copy at another address is not this one's", 1, 1,
	  R(5, ANON_PAGE, 1), R(5, ANON_PAGE, 1), ANON_VMA, 0, CT_STORY_UNCHANGED, 1,
	  { { .pid = 100, .address = PAGE, .kind = NOW, .old_pfn = 5, .new_pfn = 9 } }, 1 },
	{ "unchanged, but the trace saw a copy", 1, 1, R(5, ANON_PAGE, 1), R(5, ANON_PAGE, 1), ANON_VMA, 0,
	  CT_STORY_UNCHANGED, 1, { EVW(NOW, 5, 9) }, 0 },
	{ "migrated: other, no event", 1, 1, R(5, ANON_PAGE | W | X, 1), R(6, ANON_PAGE | W | X, 1), ANON_VMA, 0,
	  CT_STORY_OTHER, 0, { { 0 } }, 1 },
};

TEST(run_stories_and_their_events)
{
	int seen[CT_NR_STORIES] = { 0 };

	for (size_t i = 0; i < sizeof(story_cases) / sizeof(story_cases[0]); i++) {
		const struct story_case *c = &story_cases[i];
		struct ct_story_view v;
		char why[256] = "";
		int agree;

		ct_story_of_pages(c->has_a ? &c->a : NULL, c->has_b ? &c->b : NULL, &c->vma,
				  c->unavailable, &v);
		if (v.story != c->want)
			ct_fail(__FILE__, __LINE__, "%s: told %s, want %s", c->what,
				ct_story_names[v.story], ct_story_names[c->want]);
		seen[c->want] = 1;
		/* procfs cases have no events to check against */
		if (c->unavailable)
			continue;
		agree = !ct_story_check(&v, c->ev, c->nr_ev, 100, 0, why, sizeof(why));
		if (agree != c->agree)
			ct_fail(__FILE__, __LINE__, "%s: the events %s (%s)", c->what,
				agree ? "agree, want a disagreement" : "disagree", why);
		if (!agree && !*why)
			ct_fail(__FILE__, __LINE__, "%s: a disagreement without a reason", c->what);
	}
	for (int k = 0; k < CT_NR_STORIES; k++)
		if (!seen[k])
			ct_fail(__FILE__, __LINE__, "no case covers story %s", ct_story_names[k]);
	EXPECT_TRUE(ct_story_copies(CT_STORY_FILE_COPIED) && ct_story_copies(CT_STORY_COW_COPIED) &&
		    ct_story_copies(CT_STORY_KSM_BROKEN));
	EXPECT_FALSE(ct_story_copies(CT_STORY_ANON_NEW) || ct_story_copies(CT_STORY_ZERO_REPLACED) ||
		     ct_story_copies(CT_STORY_REUSED));
}

struct pair_count {
	size_t both, only_a, only_b;
};

static void count_pair(const struct cowtrace_page *a, const struct cowtrace_page *b,
		       void *arg)
{
	struct pair_count *c = arg;

	if (a && b)
		c->both++;
	else if (a)
		c->only_a++;
	else
		c->only_b++;
}

TEST(pairing_visits_the_union_in_order)
{
	struct cowtrace_page pa[] = { rec(1 * PAGE, 1, ANON_PAGE, 1), rec(2 * PAGE, 2, ANON_PAGE, 1),
				      rec(5 * PAGE, 5, ANON_PAGE, 1) };
	struct cowtrace_page pb[] = { rec(2 * PAGE, 2, ANON_PAGE, 1), rec(3 * PAGE, 3, ANON_PAGE, 1),
				      rec(9 * PAGE, 9, ANON_PAGE, 1) };
	struct ct_snapshot a = { .pages = pa, .nr_pages = 3 }, b = { .pages = pb, .nr_pages = 3 };
	struct pair_count c = { 0 };

	EXPECT_EQ(ct_pair_pages(&a, &b, count_pair, &c), 5);
	EXPECT_EQ(c.both, 1);
	EXPECT_EQ(c.only_a, 2);
	EXPECT_EQ(c.only_b, 2);
}

TEST(reserve_grows_by_doubling_and_refuses_overflow)
{
	size_t cap = 0;
	int *buf = NULL;

	ASSERT_EQ(ct_reserve((void **)&buf, &cap, 1, sizeof(*buf)), 0);
	EXPECT_EQ(cap, 16);
	ASSERT_EQ(ct_reserve((void **)&buf, &cap, 17, sizeof(*buf)), 0);
	EXPECT_EQ(cap, 32);
	buf[31] = 7;
	/* more than SIZE_MAX bytes, and a count whose doubling wraps: no change */
	EXPECT_EQ(ct_reserve((void **)&buf, &cap, SIZE_MAX / 2, sizeof(*buf)), -ENOMEM);
	EXPECT_EQ(ct_reserve((void **)&buf, &cap, SIZE_MAX, 1), -ENOMEM);
	EXPECT_EQ(cap, 32);
	EXPECT_EQ(buf[31], 7);
	free(buf);
}

static int python_json_ok(const char *text)
{
	FILE *p = popen("python3 -c 'import json,sys; json.load(sys.stdin)' 2>&1", "w");

	if (!p)
		return -1;
	fputs(text, p);
	return pclose(p);
}

TEST(json_writer_output_is_valid_json)
{
	char *text = NULL;
	size_t len = 0;
	struct json j;
	FILE *f;

	if (system("python3 -c 1 2>/dev/null") != 0)
		SKIP("python3 not available to validate JSON");
	f = open_memstream(&text, &len);
	json_init(&j, f);
	json_object(&j);
	json_kstr(&j, "quote\"back\\slash", "new\nline\ttab\x01 ctl \xc3\xa9");
	json_key(&j, "list");
	json_array(&j);
	json_uint(&j, 18446744073709551615ull);
	json_int(&j, -5);
	json_double(&j, 12.5);
	json_bool(&j, 0);
	json_null(&j);
	json_object(&j);
	json_end_object(&j);
	json_array(&j);
	json_end_array(&j);
	json_end_array(&j);
	json_kbool_or_null(&j, "w", 1, 1);
	json_end_object(&j);
	fclose(f);
	EXPECT_EQ(python_json_ok(text), 0);
	free(text);
}

/* A shell command's exit code, and its output (stderr too) in out. */
static int run_shell(const char *cmd, char *out, size_t outlen)
{
	FILE *p;
	size_t n;
	int status;

	p = popen(cmd, "r");
	ASSERT_TRUE(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = 0;
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The tool itself, from the outside: exit codes and messages. */
static int run_tool(const char *args, char *out, size_t outlen)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "./cowtrace %s 2>&1", args);
	return run_shell(cmd, out, outlen);
}

TEST(cli_argument_errors)
{
	static const struct {
		const char *args;
		int code;
		const char *says;
	} cases[] = {
		{ "", 1, "usage" },
		{ "bogus", 1, "unknown command" },
		{ "--help", 0, "compare" },
		{ "snap", 1, "expected one PID" },
		{ "snap notapid", 1, "is not a PID" },
		{ "snap 1 --range 5000-1000", 1, "bad range" },
		{ "snap 1 --source nowhere", 1, "bad source" },
		{ "show", 1, "expected one FILE or PID" },
		{ "show /nonexistent/snap", 2, "cannot read /nonexistent/snap" },
		{ "show 1 --only nonsense", 1, "bad --only" },
		{ "diff onlyone", 1, "expected two" },
		{ "compare 1", 1, "expected two" },
		{ "watch 1 x", 1, "expected two live PIDs" },
		{ "watch 1 2 --interval 0", 1, "bad interval" },
		{ "run", 1, "expected one SCENARIO" },
		{ "run nosuch", 1, "no scenario 'nosuch'" },
		{ "run --list", 0, "shared_variable" },
		{ "run --markdown", 1, "--markdown goes with --claims" },
		{ "run --claims 9-9", 1, "no claim '9-9'" },
		{ "run --claims --json --markdown", 1, "not both" },
		{ "run --claims --list 004-15", 0, "refcount 1 means" },
		{ "run --claims 004-15 --html /nonexistent/r.html", 2, "cannot write the report /nonexistent/r.html" },
		{ "run last_sharer --html /nonexistent/r.html", 2, "cannot write the report /nonexistent/r.html" },
		{ "compare 1 1 --html /nonexistent/r.html", 2, "cannot write the report /nonexistent/r.html" },
		{ "snap 999999999", 2, "no such process" },
		{ "snap --nonsense", 1, "Try 'cowtrace snap --help'" },
	};
	char out[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int code = run_tool(cases[i].args, out, sizeof(out));

		if (code != cases[i].code || !strstr(out, cases[i].says))
			ct_fail(__FILE__, __LINE__,
				"cowtrace %s: exit %d (want %d), output '%s' (want '%s')",
				cases[i].args, code, cases[i].code, out, cases[i].says);
	}
}

/*
 * The map of a process with more one-page VMAs than the cell budget: no
 * mode can merge across VMAs, so it must settle at one cell per VMA, not
 * search for a block size forever.
 */
TEST_TIMEOUT(html_map_of_ten_thousand_small_vmas, 60)
{
	enum { NR = 10000 };
	struct ct_snapshot s = { .pid = 77, .source = CT_SOURCE_MODULE, .page_size = PAGE,
				 .end = 1ull << 47 };
	char path[] = "/tmp/cowtrace-unit-XXXXXX", html[64], cmd[256];
	struct ct_error err;
	int fd = mkstemp(path);

	ASSERT_GE(fd, 0);
	close(fd);
	s.nr_vmas = s.nr_pages = NR;
	s.vmas = calloc(NR, sizeof(*s.vmas));
	s.pages = calloc(NR, sizeof(*s.pages));
	ASSERT_TRUE(s.vmas && s.pages);
	for (int i = 0; i < NR; i++) {
		uint64_t a = 0x10000000ull + 2ull * i * PAGE;

		s.vmas[i] = (struct cowtrace_vma){ .start = a, .end = a + PAGE,
						   .flags = COWTRACE_VMA_COW | COWTRACE_VMA_READ };
		s.pages[i] = (struct cowtrace_page)R(0x1000 + i, ANON_PAGE, 2);
		s.pages[i].addr = a;
	}
	ASSERT_EQ(ct_file_save(path, &s, &err), 0);
	snprintf(html, sizeof(html), "%s.html", path);
	snprintf(cmd, sizeof(cmd), "./cowtrace compare %s %s --html %s >/dev/null", path, path, html);
	EXPECT_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "test $(grep -o 'data-s=\"p\" class=\"c-shared\"' %s | wc -l) -eq %d",
		 html, NR);
	EXPECT_EQ(system(cmd), 0);
	unlink(html);
	unlink(path);
	ct_snapshot_free(&s);
}

TEST(cli_snapshot_file_through_show_and_diff)
{
	struct ct_snapshot s;
	struct ct_error err;
	char out[1 << 16], path[] = "/tmp/cowtrace-unit-XXXXXX", cmd[256];
	int fd = mkstemp(path);

	ASSERT_GE(fd, 0);
	close(fd);
	synthetic(&s, 50);
	ASSERT_EQ(ct_file_save(path, &s, &err), 0);
	snprintf(cmd, sizeof(cmd), "show %s --no-pages", path);
	EXPECT_EQ(run_tool(cmd, out, sizeof(out)), 0);
	EXPECT_TRUE(strstr(out, "pid 4242 (synthetic)") && strstr(out, "/usr/lib/libc.so.6"));
	snprintf(cmd, sizeof(cmd), "diff %s %s", path, path);
	EXPECT_EQ(run_tool(cmd, out, sizeof(out)), 0);
	EXPECT_TRUE(strstr(out, "unchanged             50 pages") != NULL);
	if (system("python3 -c 1 2>/dev/null") == 0) {
		snprintf(cmd, sizeof(cmd),
			 "./cowtrace show %s --json | python3 -c 'import json,sys; d=json.load(sys.stdin); "
			 "assert len(d[\"pages\"]) == 50 and d[\"pages\"][1][\"write\"] is True'", path);
		EXPECT_EQ(system(cmd), 0);
		snprintf(cmd, sizeof(cmd),
			 "./cowtrace compare %s %s --json | python3 -c 'import json,sys; d=json.load(sys.stdin); "
			 "assert d[\"totals\"][\"shared_pages\"] == 50'", path, path);
		EXPECT_EQ(system(cmd), 0);
	}
	unlink(path);
	ct_snapshot_free(&s);
}

/*
 * A snapshot from a kernel that counts no pages of a THP: the THP page's
 * mapcount is its folio's average, which JSON gives as mapcount_average
 * (mapcount null) and tables mark with '~'; a small page keeps its own.
 */
TEST(cli_marks_a_thp_average_mapcount)
{
	struct ct_snapshot s;
	struct ct_error err;
	char out[1 << 16], path[] = "/tmp/cowtrace-unit-XXXXXX", args[64], cmd[512];
	int fd = mkstemp(path);

	ASSERT_GE(fd, 0);
	close(fd);
	synthetic(&s, 2);
	s.unavailable = CT_UNAVAIL_PAGE_MAPCOUNT;
	s.pages[0] = rec(0x400000, 0x1000, ANON_PAGE, 1);
	s.pages[1] = rec(0x401000, 0x2001, ANON_PAGE | COWTRACE_PG_THP |
			 COWTRACE_PG_TAIL | 9 << COWTRACE_ORDER_SHIFT, 2);
	ASSERT_EQ(ct_file_save(path, &s, &err), 0);
	snprintf(args, sizeof(args), "show %s", path);
	EXPECT_EQ(run_tool(args, out, sizeof(out)), 0);
	EXPECT_TRUE(strstr(out, "CONFIG_NO_PAGE_MAPCOUNT") && strstr(out, " ~2 "));
	EXPECT_FALSE(strstr(out, "procfs source"));
	if (system("python3 -c 1 2>/dev/null") == 0) {
		snprintf(cmd, sizeof(cmd),
			 "./cowtrace show %s --json | python3 -c 'import json,sys; d=json.load(sys.stdin); "
			 "small, thp = d[\"pages\"]; "
			 "assert d[\"unavailable\"] == [\"page_mapcount\"]; "
			 "assert small[\"mapcount\"] == 1 and \"mapcount_average\" not in small; "
			 "assert thp[\"mapcount\"] is None and thp[\"mapcount_average\"] == 2'",
			 path);
		EXPECT_EQ(system(cmd), 0);
	}
	unlink(path);
	ct_snapshot_free(&s);
}

/*
 * A test child: it runs @setup(@arg) (which _exit()s on failure), says it is
 * ready on a pipe, and waits to be killed.  Returns its pid once it is ready.
 */
static pid_t ready_child(void (*setup)(const void *arg), const void *arg)
{
	int p[2];
	pid_t pid;
	char c;

	ASSERT_EQ(pipe(p), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		setup(arg);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ASSERT_EQ(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

/*
 * A child that names itself and waits: a live process for the procfs source
 * (the host has no module), killed and reaped by the caller.
 */
static void name_self(const void *name)
{
	prctl(PR_SET_NAME, name);
}

static pid_t named_child(const char *name)
{
	return ready_child(name_self, name);
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Without the module, the name comes from /proc/PID/comm: not "?", not "". */
TEST(procfs_snapshot_names_the_process)
{
	pid_t pid = named_child("ct-unit-comm");
	struct ct_snapshot s;
	struct ct_error err;
	char args[64], out[4096], want[64];
	int ret;

	ret = ct_snapshot_procfs(pid, 0, 1ull << 56, &s, &err);
	if (ret && (err.code == EACCES || err.code == EPERM)) {
		reap(pid);
		SKIP("the procfs source needs root: %s", err.msg);
	}
	EXPECT_EQ(ret, 0);
	if (!ret) {
		if (strcmp(s.mm.comm, "ct-unit-comm"))
			ct_fail(__FILE__, __LINE__, "comm is '%s', want 'ct-unit-comm'", s.mm.comm);
		EXPECT_EQ(s.mm.pid, pid);
		ct_snapshot_free(&s);
	}
	/* and through the tool: snap's header, compare's title line */
	snprintf(args, sizeof(args), "snap %d --source procfs", (int)pid);
	EXPECT_EQ(run_tool(args, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "pid %d (ct-unit-comm)", (int)pid);
	if (!strstr(out, want))
		ct_fail(__FILE__, __LINE__, "snap says '%.200s', want '%s'", out, want);
	snprintf(args, sizeof(args), "compare %d %d", (int)pid, (int)pid);
	EXPECT_EQ(run_tool(args, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "parent %d (ct-unit-comm) and child %d (ct-unit-comm)",
		 (int)pid, (int)pid);
	if (!strstr(out, want))
		ct_fail(__FILE__, __LINE__, "compare says '%.200s', want '%s'", out, want);
	reap(pid);
}

/*
 * cowtrace run on this machine's own source (procfs, where the module is
 * not loaded): each focus sentence tells the story the records show.  The
 * first write to shared_variable, initialised data of a private file
 * mapping, copies the page cache's page: never "nothing was copied".
 */
TEST(run_sentences_tell_copies_from_the_page_cache)
{
	static const char check[] =
		"import json, subprocess, sys\n"
		"def run(name):\n"
		"    return json.loads(subprocess.run(['./cowtrace', 'run', name, '--json'], check=True,\n"
		"                                     capture_output=True, text=True).stdout)['steps']\n"
		"want = {'shared_variable': ['file-copied', None, 'cow-copied', None],\n"
		"        'last_sharer': ['anon-new', None, 'cow-copied', 'reused'],\n"
		"        'zero_page': ['zero-mapped', None, 'zero-replaced'],\n"
		"        'fork_exec': [None, None, 'reused']}\n"
		"try:\n"
		"    for name, stories in want.items():\n"
		"        steps = run(name)\n"
		"        if name == 'shared_variable':\n"
		"            x = steps[0]['explanation']\n"
		"            assert 'nothing was copied' not in x and 'page cache' in x and\\\n"
		"                'anonymous page' in x, x\n"
		"        got = [s.get('story') for s in steps]\n"
		"        assert got == stories, f'{name}: stories {got}, want {stories}'\n"
		"        for s in steps:\n"
		"            x = s['explanation']\n"
		"            copied = s.get('story') in ('file-copied', 'cow-copied', 'ksm-broken')\n"
		"            assert not copied or ('copied it' in x and 'nothing was copied' not in x), x\n"
		"            assert copied or 'kernel copied' not in x, x\n"
		"            assert s.get('events_agree', True), s\n"
		"except AssertionError as e:\n"
		"    print(f'# {e}')\n"
		"    sys.exit(1)\n";
	FILE *p;

	if (system("python3 -c 1 2>/dev/null") != 0)
		SKIP("python3 not available to read the JSON");
	if (access("/proc/kpageflags", R_OK))
		SKIP("the procfs source needs root");
	p = popen("python3 -", "w");
	ASSERT_TRUE(p);
	fputs(check, p);
	EXPECT_EQ(pclose(p), 0);
}

/*
 * cowtrace maps libc and the vDSO too, so their pages' mapcounts count it:
 * show says so for a live target, and not for cowtrace itself; run says so
 * of the program text its puppets share with it.
 */
TEST(show_names_the_pages_cowtrace_maps_too)
{
	pid_t pid = named_child("ct-unit-share");
	char args[64], out[1 << 16];
	const char *note;

	if (access("/proc/kpageflags", R_OK)) {
		reap(pid);
		SKIP("the procfs source needs root");
	}
	snprintf(args, sizeof(args), "show %d --no-pages", (int)pid);
	EXPECT_EQ(run_tool(args, out, sizeof(out)), 0);
	note = strstr(out, "file pages are mapped by this cowtrace too");
	if (!note || !strstr(note, "libc") || !strstr(note, "one more than without cowtrace"))
		ct_fail(__FILE__, __LINE__, "show of a live process: no note on libc in '%.400s'", out);
	snprintf(args, sizeof(args), "snap %d", (int)pid);
	EXPECT_EQ(run_tool(args, out, sizeof(out)), 0);
	EXPECT_TRUE(strstr(out, "mapped by this cowtrace too") != NULL);
	reap(pid);
	/* itself (the shell's pid, which exec makes cowtrace's): no note */
	EXPECT_EQ(run_shell("sh -c 'exec ./cowtrace show $$ --no-pages' 2>&1", out, sizeof(out)), 0);
	EXPECT_TRUE(strstr(out, "(cowtrace)") != NULL);
	EXPECT_TRUE(strstr(out, "mapped by this cowtrace too") == NULL);
	/*
	 * The child puppet runs code parent and child map: mapcount 2, or 3
	 * when the orchestrating cowtrace maps that page of its binary too,
	 * which the sentence must then say.
	 */
	EXPECT_EQ(run_tool("run readonly_code", out, sizeof(out)), 0);
	note = strstr(out, "child executed");
	ASSERT_TRUE(note && strstr(note, "mapcount "));
	note = strstr(note, "mapcount ") + strlen("mapcount ");
	if (!((note[0] == '3' && strstr(note, "one of them is this cowtrace's own mapping")) ||
	      (note[0] == '2' && !strstr(note, "this cowtrace's own mapping"))))
		ct_fail(__FILE__, __LINE__, "run readonly_code: '%.300s'", note);
}

/*
 * A child with what Rss must not count (the huge zero page, where THP is
 * allowed, and 16 zero pages) beside what it must (8 written pages, its
 * binary and libraries).
 */
static void map_zero_and_huge_pages(const void *unused __attribute__((unused)))
{
	size_t huge = 2u << 20;
	char *h = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *z = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *w = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char *a;

	if (h == MAP_FAILED || z == MAP_FAILED || w == MAP_FAILED)
		_exit(1);
	a = (volatile char *)(((uintptr_t)h + huge - 1) & ~(uintptr_t)(huge - 1));
	madvise((void *)a, huge, MADV_HUGEPAGE);
	(void)a[0];
	madvise((void *)z, 16 * PAGE, MADV_NOHUGEPAGE);
	for (int i = 0; i < 16; i++)
		(void)z[i * PAGE];
	for (int i = 0; i < 8; i++)
		w[i * PAGE] = 1;
}

static pid_t zero_page_child(void)
{
	return ready_child(map_zero_and_huge_pages, NULL);
}

/* Rss of every VMA of pid, in kB, by start address, as smaps prints it. */
static size_t smaps_rss(pid_t pid, uint64_t *start, uint64_t *kb, size_t cap)
{
	char path[64], line[512];
	size_t n = 0;
	int keep = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	ASSERT_TRUE(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, v;

		/* [vsyscall] lies beyond the user range a snapshot covers */
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2)
			keep = lo < 1ull << 56 && n < cap;
		if (keep && sscanf(line, "%llx-%llx ", &lo, &hi) == 2)
			start[n++] = lo;
		else if (keep && sscanf(line, "Rss: %llu kB", &v) == 1)
			kb[n - 1] = v;
	}
	fclose(f);
	return n;
}

/* show's RSS column is smaps' Rss: no zero page, no huge zero page. */
TEST(show_rss_is_what_smaps_counts)
{
	enum { CAP = 512 };
	uint64_t start[CAP], kb[CAP] = { 0 };
	pid_t pid = zero_page_child();
	struct ct_snapshot s;
	struct ct_error err;
	char args[64], *out = malloc(1 << 20), want[16];
	size_t n, zero = 0, huge_zero = 0;

	ASSERT_TRUE(out);
	if (ct_snapshot_procfs(pid, 0, 1ull << 56, &s, &err)) {
		reap(pid);
		SKIP("the procfs source needs root: %s", err.msg);
	}
	n = smaps_rss(pid, start, kb, CAP);
	EXPECT_EQ(n, s.nr_vmas);
	for (size_t i = 0; i < s.nr_vmas && i < n; i++) {
		const struct cowtrace_vma *v = &s.vmas[i];
		uint64_t resident = 0;

		for (size_t k = ct_first_page(&s, v->start); k < s.nr_pages && s.pages[k].addr < v->end; k++) {
			resident += ct_page_is_resident(&s.pages[k]);
			zero += !!(s.pages[k].flags & COWTRACE_PG_ZERO);
			huge_zero += (s.pages[k].flags & (COWTRACE_PG_ZERO | COWTRACE_PG_THP)) ==
				     (COWTRACE_PG_ZERO | COWTRACE_PG_THP);
		}
		EXPECT_EQ(start[i], v->start);
		if (resident * PAGE / 1024 != kb[i])
			ct_fail(__FILE__, __LINE__, "VMA %" PRIx64 " %s: %" PRIu64 " kB resident, smaps says %" PRIu64 " kB",
				(uint64_t)v->start, ct_vma_name(&s, v), (uint64_t)(resident * PAGE / 1024), kb[i]);
	}
	EXPECT_GE(zero, 16);
	if (!huge_zero)
		printf("# no huge zero page here (THP or its zero page is off): zero pages only\n");
	/* and the column, as printed */
	snprintf(args, sizeof(args), "show %d --no-pages", (int)pid);
	EXPECT_EQ(run_tool(args, out, 1 << 20), 0);
	for (size_t i = 0; i < n; i++) {
		char prefix[32], *line;
		unsigned long long lo, hi, pages;
		char sz[16], szu[8], perms[8], rss[16], rssu[8];

		snprintf(prefix, sizeof(prefix), "\n%012" PRIx64 " ", start[i]);
		line = strstr(out, prefix);
		if (!line) {
			ct_fail(__FILE__, __LINE__, "show has no VMA at %" PRIx64, start[i]);
			continue;
		}
		ASSERT_EQ(sscanf(line + 1, "%llx %llx %15s %7s %7s %llu %15s %7s", &lo, &hi, sz, szu,
				 perms, &pages, rss, rssu), 8);
		snprintf(prefix, sizeof(prefix), "%s %s", rss, rssu);
		ct_human_bytes(kb[i] * 1024, want, sizeof(want));
		if (strcmp(prefix, want))
			ct_fail(__FILE__, __LINE__, "VMA %" PRIx64 ": RSS column '%s', smaps Rss %" PRIu64 " kB ('%s')",
				start[i], prefix, kb[i], want);
	}
	ct_snapshot_free(&s);
	free(out);
	reap(pid);
}
