/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot of one process: its VMAs and populated pages, held as the UAPI
 * records of include/uapi/linux/cowtrace.h whatever the source, so every
 * command (and the tests' cross-checks) handles one representation.
 */
#ifndef COWTRACE_SNAPSHOT_H
#define COWTRACE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/cowtrace.h>

enum ct_source {
	CT_SOURCE_MODULE = 1,	/* the cowtrace module's ioctl */
	CT_SOURCE_PROCFS = 2,	/* /proc/PID/pagemap, kpagecount, kpageflags */
};

/*
 * Facts a source could not give; the records hold 0 there, not a guess.
 * PAGE_MAPCOUNT is the one exception: the kernel keeps no per-page mapcount
 * for large folios (CONFIG_NO_PAGE_MAPCOUNT), so a THP page's record holds
 * its folio's average per-page mapcount, which both sources report there
 * (ct_mapcount_is_average()).
 */
#define CT_UNAVAIL_WRITE	(1U << 0)	/* PTE write bit */
#define CT_UNAVAIL_DIRTY	(1U << 1)
#define CT_UNAVAIL_YOUNG	(1U << 2)
#define CT_UNAVAIL_REFCOUNT	(1U << 3)
#define CT_UNAVAIL_FOLIO_MAPCOUNT (1U << 4)
#define CT_UNAVAIL_PTE_MISC	(1U << 5)	/* special, protnone, level */
#define CT_UNAVAIL_PAGE_MISC	(1U << 6)	/* order, pinned, head/tail */
#define CT_UNAVAIL_KSM		(1U << 7)	/* kpageflags' KSM bit is unreliable */
#define CT_UNAVAIL_ANON_EXCL	(1U << 8)	/* no PageAnonExclusive before 5.19 */
#define CT_UNAVAIL_PAGE_MAPCOUNT (1U << 9)	/* THP pages: the folio's average */

struct ct_snapshot {
	uint32_t pid;
	uint32_t source;		/* enum ct_source */
	uint32_t unavailable;		/* CT_UNAVAIL_* */
	uint32_t page_size;
	uint64_t time_ns;		/* CLOCK_REALTIME when taken */
	uint64_t start, end;		/* the range asked for */
	char kernel[65];		/* uname -r of the machine it was taken on */
	struct cowtrace_mm_info mm;	/* pid and comm always; counters: module only */
	struct cowtrace_vma *vmas;
	size_t nr_vmas;
	char *names;			/* VMA names, indexed by name_off */
	size_t names_len;
	struct cowtrace_page *pages;	/* sorted by addr */
	size_t nr_pages;
};

/* An error message for the user: what went wrong and what to do. */
struct ct_error {
	int code;		/* errno */
	char msg[512];
};

#define CT_CTL_PATH "/sys/kernel/debug/cowtrace/ctl"

/* Why a loaded module cannot be reached (debugfs unmounted, not root), or NULL. */
const char *ct_module_unreachable(void);
int ct_module_available(void);
/* The module's ioctl endpoint, or -1 with a message saying what to do. */
int ct_open_ctl(struct ct_error *err);
int ct_snapshot_module(pid_t pid, uint64_t start, uint64_t end,
		       struct ct_snapshot *s, struct ct_error *err);
int ct_snapshot_procfs(pid_t pid, uint64_t start, uint64_t end,
		       struct ct_snapshot *s, struct ct_error *err);
/* The module if it is loaded, else procfs. */
int ct_snapshot_take(pid_t pid, uint64_t start, uint64_t end,
		     struct ct_snapshot *s, struct ct_error *err);
void ct_snapshot_free(struct ct_snapshot *s);
/*
 * Uninitialised memory that free() frees, backed by huge pages when it is
 * large: bytes, or an array of n page records (for s->pages).
 */
void *ct_alloc_big(size_t bytes);
struct cowtrace_page *ct_alloc_pages(size_t n);
/*
 * pages[0] holds the first page of a run of @n; fill in the rest, each the
 * page before it one page on, with its PFN @pfn_step on (the module's and
 * the snapshot file's runs alike).
 */
void ct_expand_run(struct cowtrace_page *pages, uint64_t n, uint64_t pfn_step,
		   uint64_t page_size);
/* A deep copy; -1 (dst empty) when memory runs out. */
int ct_snapshot_copy(struct ct_snapshot *dst, const struct ct_snapshot *src);

const char *ct_vma_name(const struct ct_snapshot *s,
			const struct cowtrace_vma *v);
/* The VMA holding addr, or NULL (binary search). */
const struct cowtrace_vma *ct_find_vma(const struct ct_snapshot *s,
				       uint64_t addr);
/* Index of the first page record at or after addr (binary search). */
size_t ct_first_page(const struct ct_snapshot *s, uint64_t addr);
/* The page record at addr, or NULL. */
const struct cowtrace_page *ct_find_page(const struct ct_snapshot *s,
					 uint64_t addr);

/*
 * The PFNs of the file pages (binary, libraries, vDSO: page-cache and special
 * mapping pages, not anonymous ones) that this very process maps, sorted.
 * Where a snapshot of another process has one of them, this process's own
 * mapping is one of the page's mapcount and of its refcount.
 */
struct ct_pfn_set {
	uint64_t *pfn;
	size_t n;
};

int ct_self_file_pfns(struct ct_pfn_set *set, struct ct_error *err);
int ct_pfn_set_has(const struct ct_pfn_set *set, uint64_t pfn);
void ct_pfn_set_free(struct ct_pfn_set *set);
/*
 * Whether the record's mapcount is its folio's average rather than its own:
 * a THP page where the snapshot's kernel counts no pages of large folios.
 * Small pages and hugetlb pages (mapped only whole) are exact everywhere.
 */
int ct_mapcount_is_average(const struct ct_snapshot *s,
			   const struct cowtrace_page *r);

/* A page record that could be one of them: present, a struct page, not anon. */
int ct_page_is_file_page(const struct cowtrace_page *r);

/*
 * Whether /proc/PID/smaps counts the page in Rss: a present page with a
 * struct page (not the zero page, the huge zero page or a PFN map), or a
 * migration or device entry; not swap entries, not hugetlb pages.
 */
int ct_page_is_resident(const struct cowtrace_page *r);

void ct_set_error(struct ct_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
