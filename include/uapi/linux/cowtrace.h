/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cowtrace: snapshots of a process's mappings and page tables, for watching
 * copy-on-write happen.  This is the one ABI header: the module, the tool and
 * the tests all include it, so every constant exists exactly once.
 *
 * All ioctls are issued on /sys/kernel/debug/cowtrace/ctl and require
 * CAP_SYS_ADMIN.  Every argument struct starts with a __u64 size that the
 * caller sets to sizeof(the struct it was compiled with); the kernel reads it
 * with copy_struct_from_user(), so old binaries keep working when structs grow
 * and new binaries get -E2BIG from an old module only if they rely on a field
 * it does not know (a nonzero tail).
 *
 * Errors (every ioctl):
 *   EINVAL  unknown flag, nonzero reserved field, size too small, bad range
 *   ENOTTY  unknown command
 *   EFAULT  a pointer the kernel cannot read or write
 *   ESRCH   no such pid, the process has exited or has no mm (kernel thread)
 *   EPERM   the caller lacks CAP_SYS_ADMIN
 *   E2BIG   the struct is larger than the kernel knows and the tail is nonzero
 *   EINTR   a fatal signal arrived while waiting for the target's mmap_lock
 *   ENOMEM  the module could not allocate its bounce buffers
 *
 * Tracing adds:
 *   EBUSY   TRACE_START while a trace session is already running
 *   ENOENT  TRACE_START: a probe point is missing on this kernel (named in
 *           cowtrace_trace_start.missing, which is written out even then)
 *   EOPNOTSUPP  TRACE_START: the kernel was built without CONFIG_KRETPROBES
 *   EAGAIN  TRACE_READ with COWTRACE_READ_NONBLOCK and no event waiting
 *
 * mmap() of the ctl file:
 *   EINVAL  a nonzero offset, more than COWTRACE_MMAP_MAX, or another size
 *           than the file's buffer already has
 *   EPERM   the caller lacks CAP_SYS_ADMIN, or asks for PROT_WRITE (the
 *           mapping is read-only for good: mprotect() to write is EACCES)
 *   ENOMEM  the buffer could not be allocated
 * SNAPSHOT with COWTRACE_SNAP_MMAP and no buffer mapped yet: EINVAL.
 *
 * See docs/abi.md for the meaning of every field on every supported kernel.
 */
#ifndef _UAPI_LINUX_COWTRACE_H
#define _UAPI_LINUX_COWTRACE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on any incompatible change; compatible growth only appends fields. */
#define COWTRACE_ABI_VERSION 1

/* ---------------------------------------------------------------------- */
/* Version query                                                           */

struct cowtrace_version {
	__u64 size;		/* in: sizeof(struct cowtrace_version) */
	__u32 abi_version;	/* out: COWTRACE_ABI_VERSION of the module */
	__u32 page_size;	/* out: PAGE_SIZE of the running kernel */
	__u32 vma_rec_size;	/* out: sizeof(struct cowtrace_vma) */
	__u32 page_rec_size;	/* out: sizeof(struct cowtrace_page) */
	__u32 kernel_version;	/* out: KERNEL_VERSION(major, minor, 0) built for */
	__u32 features;		/* out: COWTRACE_FEAT_* */
	__u32 run_rec_size;	/* out: sizeof(struct cowtrace_page_run) */
	__u32 reserved;		/* out: 0 */
};

/* Which optional PTE and page facts the running kernel can report. */
#define COWTRACE_FEAT_SOFT_DIRTY	(1U << 0)	/* CONFIG_MEM_SOFT_DIRTY */
#define COWTRACE_FEAT_UFFD_WP		(1U << 1)	/* uffd-wp PTE bit */
#define COWTRACE_FEAT_THP		(1U << 2)	/* CONFIG_TRANSPARENT_HUGEPAGE */
#define COWTRACE_FEAT_KSM		(1U << 3)	/* CONFIG_KSM */
#define COWTRACE_FEAT_HUGETLB		(1U << 4)	/* CONFIG_HUGETLB_PAGE */
/*
 * PAGE_MAPCOUNT: the kernel counts each page's mappings, so a page's mapcount
 * is its own.  Without it (CONFIG_NO_PAGE_MAPCOUNT, 6.15+) the mapcount of a
 * page of a THP is its folio's average per-page mapcount, as
 * /proc/kpagecount reports it there (docs/abi.md).
 */
#define COWTRACE_FEAT_PAGE_MAPCOUNT	(1U << 5)	/* per-page mapcount is exact */
#define COWTRACE_FEAT_TRACE		(1U << 6)	/* event tracing (kprobes) */
#define COWTRACE_FEAT_RUNS		(1U << 7)	/* COWTRACE_SNAP_RUNS */
#define COWTRACE_FEAT_MMAP		(1U << 8)	/* COWTRACE_SNAP_MMAP */
#define COWTRACE_FEAT_ANON_EXCL		(1U << 9)	/* PageAnonExclusive (5.19+) */

/* ---------------------------------------------------------------------- */
/* Per-mm facts                                                            */

#define COWTRACE_COMM_LEN 16

struct cowtrace_mm_info {
	__u64 size;		/* in: sizeof(struct cowtrace_mm_info) */
	__u32 pid;		/* in: target pid, in the caller's pid namespace */
	__u32 flags;		/* in: must be 0 */
	__u32 tgid;		/* out: thread group id, caller's namespace */
	__u32 map_count;	/* out: number of VMAs */
	__u32 mm_users;		/* out: tasks/references using the address space */
	__u32 mm_count;		/* out: references to struct mm_struct */
	char comm[COWTRACE_COMM_LEN];	/* out: task->comm, NUL terminated */
	__u64 rss_anon;		/* out: resident anonymous pages (MM_ANONPAGES) */
	__u64 rss_file;		/* out: resident file pages (MM_FILEPAGES) */
	__u64 rss_shmem;	/* out: resident shmem pages (MM_SHMEMPAGES) */
	__u64 swap_ents;	/* out: swap entries (MM_SWAPENTS) */
	__u64 pgtables_bytes;	/* out: bytes of page tables */
	__u64 hiwater_rss;	/* out: RSS high-water mark, pages */
	__u64 total_vm;		/* out: mapped pages */
	__u64 task_size;	/* out: end of the user address space */
};

/* ---------------------------------------------------------------------- */
/* Snapshot: VMA records and page records for [start, end)                 */

/*
 * One record per VMA that intersects the range.  start/end are the VMA's own
 * bounds, not clipped to the range.  The first VMA record of every call is
 * the VMA containing (or following) start, so a call resumed from 'next'
 * repeats the VMA the previous call stopped in: deduplicate by start.
 */
struct cowtrace_vma {
	__u64 start;		/* out: vm_start */
	__u64 end;		/* out: vm_end (exclusive) */
	__u64 pgoff;		/* out: vm_pgoff, in pages */
	__u64 vm_flags;		/* out: raw vm_flags; bit values are per kernel */
	__u64 ino;		/* out: inode number of the backing file, or 0 */
	__u32 dev;		/* out: device of the file, as st_dev encodes it */
	__u32 flags;		/* out: COWTRACE_VMA_*, stable across kernels */
	__u32 backing;		/* out: COWTRACE_BACKING_* */
	__u32 name_off;		/* out: offset of the name in the names buffer */
	__u32 name_len;		/* out: name length without its NUL, 0 = none */
	__u32 reserved;		/* out: 0 */
};

/* Decoded vm_flags, plus two derived facts (COW, ANON_VMA). */
#define COWTRACE_VMA_READ	(1U << 0)
#define COWTRACE_VMA_WRITE	(1U << 1)
#define COWTRACE_VMA_EXEC	(1U << 2)
#define COWTRACE_VMA_SHARED	(1U << 3)
#define COWTRACE_VMA_MAYREAD	(1U << 4)
#define COWTRACE_VMA_MAYWRITE	(1U << 5)
#define COWTRACE_VMA_MAYEXEC	(1U << 6)
#define COWTRACE_VMA_MAYSHARE	(1U << 7)
#define COWTRACE_VMA_DONTCOPY	(1U << 8)	/* MADV_DONTFORK */
#define COWTRACE_VMA_WIPEONFORK	(1U << 9)	/* MADV_WIPEONFORK */
#define COWTRACE_VMA_HUGEPAGE	(1U << 10)	/* MADV_HUGEPAGE */
#define COWTRACE_VMA_NOHUGEPAGE	(1U << 11)	/* MADV_NOHUGEPAGE */
#define COWTRACE_VMA_MERGEABLE	(1U << 12)	/* MADV_MERGEABLE (KSM) */
#define COWTRACE_VMA_LOCKED	(1U << 13)	/* mlock */
#define COWTRACE_VMA_PFNMAP	(1U << 14)
#define COWTRACE_VMA_IO		(1U << 15)
#define COWTRACE_VMA_HUGETLB	(1U << 16)
#define COWTRACE_VMA_MIXEDMAP	(1U << 17)
#define COWTRACE_VMA_GROWSDOWN	(1U << 18)
#define COWTRACE_VMA_SOFTDIRTY	(1U << 19)
#define COWTRACE_VMA_UFFD	(1U << 20)	/* any userfaultfd mode */
/* (vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE: fork shares, write copies */
#define COWTRACE_VMA_COW	(1U << 30)
/* the VMA has an anon_vma: it holds (or held) anonymous pages */
#define COWTRACE_VMA_ANON_VMA	(1U << 31)

/*
 * The flags' names, one table for all that print them (the module's debugfs
 * views, the tool): initialisers of an array of { flag, name } pairs, in bit
 * order, for a struct whose first two members are a __u32 and a const
 * char *.  A printer may leave out names another column already shows (the
 * debugfs views print r/w/x/s as permissions), but never names a flag its
 * own way.
 */
#define COWTRACE_VMA_FLAG_NAMES_INIT {				\
	{ COWTRACE_VMA_READ, "read" },				\
	{ COWTRACE_VMA_WRITE, "write" },			\
	{ COWTRACE_VMA_EXEC, "exec" },				\
	{ COWTRACE_VMA_SHARED, "shared" },			\
	{ COWTRACE_VMA_MAYREAD, "mayread" },			\
	{ COWTRACE_VMA_MAYWRITE, "maywrite" },			\
	{ COWTRACE_VMA_MAYEXEC, "mayexec" },			\
	{ COWTRACE_VMA_MAYSHARE, "mayshare" },			\
	{ COWTRACE_VMA_DONTCOPY, "dontcopy" },			\
	{ COWTRACE_VMA_WIPEONFORK, "wipeonfork" },		\
	{ COWTRACE_VMA_HUGEPAGE, "hugepage" },			\
	{ COWTRACE_VMA_NOHUGEPAGE, "nohugepage" },		\
	{ COWTRACE_VMA_MERGEABLE, "mergeable" },		\
	{ COWTRACE_VMA_LOCKED, "locked" },			\
	{ COWTRACE_VMA_PFNMAP, "pfnmap" },			\
	{ COWTRACE_VMA_IO, "io" },				\
	{ COWTRACE_VMA_HUGETLB, "hugetlb" },			\
	{ COWTRACE_VMA_MIXEDMAP, "mixedmap" },			\
	{ COWTRACE_VMA_GROWSDOWN, "growsdown" },		\
	{ COWTRACE_VMA_SOFTDIRTY, "softdirty" },		\
	{ COWTRACE_VMA_UFFD, "uffd" },				\
	{ COWTRACE_VMA_COW, "cow" },				\
	{ COWTRACE_VMA_ANON_VMA, "anon_vma" },			\
}

/* What backs a VMA, named the way /proc/PID/maps names it. */
#define COWTRACE_BACKING_ANON		0	/* no name */
#define COWTRACE_BACKING_FILE		1	/* name = path */
#define COWTRACE_BACKING_HEAP		2	/* [heap] */
#define COWTRACE_BACKING_STACK		3	/* [stack] */
#define COWTRACE_BACKING_SPECIAL	4	/* [vdso], [vvar], ...: vm_ops->name */
#define COWTRACE_BACKING_ANON_NAMED	5	/* [anon:NAME], PR_SET_VMA */

/*
 * One record per populated 4 KiB page: present PTEs, every 4 KiB page of a
 * PMD- or PUD-mapped THP or hugetlb page, and non-present swap, migration,
 * device and marker entries.  32 bytes; see docs/abi.md for the layout.
 */
struct cowtrace_page {
	__u64 addr;		/* out: virtual address of the 4 KiB page */
	__u64 pfn;		/* out: PFN; swap offset for swap entries */
	__u32 flags;		/* out: COWTRACE_PTE_*, COWTRACE_PG_*, level, order */
	union {
		__u32 refcount;	/* out: page refcount (the folio's) */
		__u32 swap_type; /* out: swap entries: the swap device */
	};
	__u32 mapcount;		/* out: mappings of this 4 KiB page */
	__u32 folio_mapcount;	/* out: mappings of all pages of its folio */
};

/* What the page-table entry says (bits 0-11). */
#define COWTRACE_PTE_PRESENT	(1U << 0)
#define COWTRACE_PTE_WRITE	(1U << 1)	/* pte_write(); migration: writable entry */
#define COWTRACE_PTE_DIRTY	(1U << 2)	/* pte_dirty(), includes x86 SavedDirty */
#define COWTRACE_PTE_YOUNG	(1U << 3)
#define COWTRACE_PTE_SOFT_DIRTY	(1U << 4)
#define COWTRACE_PTE_UFFD_WP	(1U << 5)
#define COWTRACE_PTE_SPECIAL	(1U << 6)	/* no struct page to speak of */
#define COWTRACE_PTE_PROTNONE	(1U << 7)	/* NUMA-balancing hint */
#define COWTRACE_PTE_SWAP	(1U << 8)	/* swap entry: pfn = offset */
#define COWTRACE_PTE_MIGRATION	(1U << 9)	/* migration entry: pfn = page */
#define COWTRACE_PTE_DEVICE	(1U << 10)	/* device-private/exclusive entry */
#define COWTRACE_PTE_MARKER	(1U << 11)	/* PTE marker or other non-present */

/* Mapping level (bits 12-13). */
#define COWTRACE_LEVEL_SHIFT	12
#define COWTRACE_LEVEL_MASK	(3U << COWTRACE_LEVEL_SHIFT)
#define COWTRACE_LEVEL_PTE	0
#define COWTRACE_LEVEL_PMD	1
#define COWTRACE_LEVEL_PUD	2
#define COWTRACE_PAGE_LEVEL(flags) \
	(((flags) & COWTRACE_LEVEL_MASK) >> COWTRACE_LEVEL_SHIFT)

/*
 * What struct page says (bits 14-26).  PG_PAGE: the others and the counts
 * are valid.  The zero pages have no PG_PAGE but PG_ZERO, and the huge zero
 * page PG_THP and its order too (docs/abi.md).
 */
#define COWTRACE_PG_PAGE	(1U << 14)	/* struct page examined */
#define COWTRACE_PG_ANON	(1U << 15)
#define COWTRACE_PG_KSM		(1U << 16)
#define COWTRACE_PG_ANON_EXCL	(1U << 17)	/* PageAnonExclusive */
#define COWTRACE_PG_ZERO	(1U << 18)	/* shared zero page or huge zero page */
#define COWTRACE_PG_THP		(1U << 19)	/* large folio, not hugetlb */
#define COWTRACE_PG_HUGETLB	(1U << 20)
#define COWTRACE_PG_HEAD	(1U << 21)
#define COWTRACE_PG_TAIL	(1U << 22)
#define COWTRACE_PG_DMA_PINNED	(1U << 23)	/* folio_maybe_dma_pinned */
#define COWTRACE_PG_SWAPCACHE	(1U << 24)
#define COWTRACE_PG_LRU		(1U << 25)
#define COWTRACE_PG_MLOCKED	(1U << 26)

/*
 * The page flags' names, as COWTRACE_VMA_FLAG_NAMES_INIT gives the VMA
 * flags': the PTE bits that print as one letter each (a "-" when clear, in
 * this order: "wdysuSn"), then the named ones.  PTE_PRESENT and PG_PAGE have
 * no name: what a record is and whether its counts are valid print as
 * columns of their own.
 */
#define COWTRACE_PTE_FLAG_LETTERS_INIT {			\
	{ COWTRACE_PTE_WRITE, 'w' },				\
	{ COWTRACE_PTE_DIRTY, 'd' },				\
	{ COWTRACE_PTE_YOUNG, 'y' },				\
	{ COWTRACE_PTE_SOFT_DIRTY, 's' },			\
	{ COWTRACE_PTE_UFFD_WP, 'u' },				\
	{ COWTRACE_PTE_SPECIAL, 'S' },				\
	{ COWTRACE_PTE_PROTNONE, 'n' },				\
}

#define COWTRACE_PAGE_FLAG_NAMES_INIT {				\
	{ COWTRACE_PTE_SWAP, "swap" },				\
	{ COWTRACE_PTE_MIGRATION, "migration" },		\
	{ COWTRACE_PTE_DEVICE, "device" },			\
	{ COWTRACE_PTE_MARKER, "marker" },			\
	{ COWTRACE_PG_ANON, "anon" },				\
	{ COWTRACE_PG_KSM, "ksm" },				\
	{ COWTRACE_PG_ANON_EXCL, "excl" },			\
	{ COWTRACE_PG_ZERO, "zero" },				\
	{ COWTRACE_PG_THP, "thp" },				\
	{ COWTRACE_PG_HUGETLB, "hugetlb" },			\
	{ COWTRACE_PG_HEAD, "head" },				\
	{ COWTRACE_PG_TAIL, "tail" },				\
	{ COWTRACE_PG_DMA_PINNED, "pinned" },			\
	{ COWTRACE_PG_SWAPCACHE, "swapcache" },			\
	{ COWTRACE_PG_LRU, "lru" },				\
	{ COWTRACE_PG_MLOCKED, "mlocked" },			\
}

/* Folio order (bits 27-31): 0 for small pages, 9 for a 2 MiB THP. */
#define COWTRACE_ORDER_SHIFT	27
#define COWTRACE_ORDER_MASK	(31U << COWTRACE_ORDER_SHIFT)
#define COWTRACE_PAGE_ORDER(flags) \
	(((flags) & COWTRACE_ORDER_MASK) >> COWTRACE_ORDER_SHIFT)

/*
 * With COWTRACE_SNAP_RUNS, page records come as runs of like pages: page i
 * (0 <= i < nr_pages) of a run is its first record with addr advanced by i
 * pages and pfn by i * pfn_step; every other field is the same.  Freshly
 * faulted memory and THPs are mostly long runs, so a dense snapshot is a
 * few records instead of one per page; a page unlike its neighbours is a
 * run of one.  40 bytes.
 */
struct cowtrace_page_run {
	struct cowtrace_page first;	/* out: the run's first page */
	__u32 nr_pages;		/* out: pages in the run, >= 1 */
	__u32 pfn_step;		/* out: 1: PFNs ascend with addr; 0: one PFN
				 * (the zero page, a marker) for every page
				 */
};

/*
 * mmap() of the ctl file maps an output buffer of that many bytes (at most
 * COWTRACE_MMAP_MAX, offset 0): the first mmap() of an open file makes it,
 * later ones must ask for the same size and map the same buffer.  With
 * COWTRACE_SNAP_MMAP, SNAPSHOT writes the page records (or runs) there,
 * from its start, instead of copying them to 'pages' (which must be 0): no
 * copy_to_user at all.  Calls on one file using its buffer take turns.
 */
#define COWTRACE_MMAP_MAX	(64U << 20)

/* Snapshot request flags. */
#define COWTRACE_SNAP_RUNS	(1ULL << 0)	/* pages is struct cowtrace_page_run[] */
#define COWTRACE_SNAP_MMAP	(1ULL << 1)	/* page records go to the mmap()ed buffer */
#define COWTRACE_SNAP_ALL_FLAGS	(COWTRACE_SNAP_RUNS | COWTRACE_SNAP_MMAP)

struct cowtrace_snapshot {
	__u64 size;		/* in: sizeof(struct cowtrace_snapshot) */
	__u64 flags;		/* in: COWTRACE_SNAP_*, unknown bits -> EINVAL */
	__u32 pid;		/* in: target pid, in the caller's pid namespace */
	__u32 reserved;		/* in: must be 0 */
	__u64 start;		/* in: first address, page aligned */
	__u64 end;		/* in: end (exclusive), page aligned, > start,
				 * clamped to the target's task_size
				 */
	__u64 vmas;		/* in: user pointer to struct cowtrace_vma[] */
	__u64 pages;		/* in: user pointer to struct cowtrace_page[],
				 * or cowtrace_page_run[] with SNAP_RUNS;
				 * 0 with SNAP_MMAP
				 */
	__u64 names;		/* in: user pointer to a buffer for VMA names */
	__u32 vma_cap;		/* in: records vmas holds; 0 = no VMA records */
	__u32 page_cap;		/* in: records (runs) pages holds; 0 = none;
				 * SNAP_MMAP: at most what the buffer holds
				 */
	__u32 names_cap;	/* in: bytes names holds; 0 = no names */
	__u32 vma_count;	/* out: VMA records written */
	__u32 page_count;	/* out: page records (runs) written */
	__u32 names_len;	/* out: bytes of names written */
	__u64 next;		/* out: resume address; == end when complete */
};

/* ---------------------------------------------------------------------- */
/* Event tracing: what fork and each fault did to a page-table entry        */

/*
 * Event kinds.  A fault event compares the entry at the faulting address
 * before and after handle_mm_fault(), so each kind states what the page
 * tables show, not which kernel function ran.
 */
#define COWTRACE_EV_FORK	1	/* fork()/vfork() of a traced process */
#define COWTRACE_EV_EXIT	2	/* a traced thread called do_exit() */
#define COWTRACE_EV_WP_COPY	3	/* write fault copied the page: old -> new PFN */
#define COWTRACE_EV_WP_REUSE	4	/* write fault made the same private page writable */
#define COWTRACE_EV_WP_SHARED	5	/* write fault on a MAP_SHARED page: same PFN */
#define COWTRACE_EV_WP_ZERO	6	/* write fault replaced the zero page: nothing copied */
#define COWTRACE_EV_WP_OTHER	7	/* write fault on a read-only entry left it read-only */
#define COWTRACE_EV_ANON_ZERO	8	/* first touch (read) mapped the shared zero page */
#define COWTRACE_EV_ANON_NEW	9	/* first touch mapped a new anonymous page */
#define COWTRACE_EV_NR_KINDS	10	/* kinds are 1..NR_KINDS-1 */

/* The kinds' names, as the 'events' file and the tool print them. */
#define COWTRACE_EV_NAMES_INIT {		\
	[COWTRACE_EV_FORK] = "fork",		\
	[COWTRACE_EV_EXIT] = "exit",		\
	[COWTRACE_EV_WP_COPY] = "wp-copy",	\
	[COWTRACE_EV_WP_REUSE] = "wp-reuse",	\
	[COWTRACE_EV_WP_SHARED] = "wp-shared",	\
	[COWTRACE_EV_WP_ZERO] = "wp-zero",	\
	[COWTRACE_EV_WP_OTHER] = "wp-other",	\
	[COWTRACE_EV_ANON_ZERO] = "anon-zero",	\
	[COWTRACE_EV_ANON_NEW] = "anon-new",	\
}

/* Event flags. */
#define COWTRACE_EVF_WRITE	(1U << 0)	/* the fault was a write */
#define COWTRACE_EVF_PMD	(1U << 1)	/* the entry after is a PMD (2 MiB) */
#define COWTRACE_EVF_FILE	(1U << 2)	/* WP_COPY from a private file mapping */
#define COWTRACE_EVF_UNSHARE	(1U << 3)	/* WP_COPY by an unshare fault (GUP pin) */
#define COWTRACE_EVF_VFORK	(1U << 4)	/* FORK: CLONE_VM, no page tables copied */

/*
 * One event, 96 bytes.  pid and tid are in the pid namespace of whoever
 * started the session.  seq counts every event the session produced, stored
 * or lost, from 1: a gap in seq is exactly the events lost in between.
 */
struct cowtrace_event {
	__u64 seq;
	__u64 time_ns;		/* CLOCK_MONOTONIC (docs/abi.md: how) */
	__u32 pid;		/* thread group of the task that faulted/forked */
	__u32 tid;
	__u32 cpu;
	__u16 kind;		/* COWTRACE_EV_* */
	__u16 flags;		/* COWTRACE_EVF_* */
	__u64 address;		/* faults: the page (PMD: the 4 KiB page) faulted */
	__u64 old_pfn;		/* faults: PFN mapped before, 0 if none */
	__u64 new_pfn;		/* faults: PFN mapped after, 0 if none */
	__u32 child_pid;	/* FORK: the child */
	__u32 fork_vmas;	/* FORK: VMAs whose page tables were copied */
	__u64 fork_ptes;	/* FORK: present 4 KiB pages mapped in the child */
	__u64 fork_wrprotected;	/* FORK: parent pages made read-only by the fork */
	__u64 vma_start;	/* faults: the VMA faulted in, as it was then */
	__u64 vma_end;
};

/* Trace the pid's thread group, and with this flag its later descendants. */
#define COWTRACE_TRACE_CHILDREN		(1ULL << 0)
#define COWTRACE_TRACE_ALL_FLAGS	COWTRACE_TRACE_CHILDREN

/*
 * Start the one trace session.  It ends on TRACE_STOP, when the file it was
 * started on is closed, or on rmmod.  Events are kept in a ring of
 * ring_events records; when it is full new events are counted as lost.
 */
struct cowtrace_trace_start {
	__u64 size;		/* in: sizeof(struct cowtrace_trace_start) */
	__u64 flags;		/* in: COWTRACE_TRACE_* */
	__u32 pid;		/* in: process to trace, caller's namespace */
	__u32 event_rec_size;	/* out: sizeof(struct cowtrace_event) */
	__u32 ring_events;	/* out: capacity of the ring */
	__u32 reserved;		/* in: must be 0 */
	char missing[64];	/* out: on ENOENT, the missing probe point */
};

#define COWTRACE_READ_NONBLOCK		(1ULL << 0)
#define COWTRACE_READ_ALL_FLAGS		COWTRACE_READ_NONBLOCK

/*
 * Take events out of the ring.  Blocks until at least one is there, unless
 * NONBLOCK; returns count == 0 once the session has stopped and the ring is
 * empty.  Readers of the debugfs 'events' file take from the same ring.
 */
struct cowtrace_trace_read {
	__u64 size;		/* in: sizeof(struct cowtrace_trace_read) */
	__u64 flags;		/* in: COWTRACE_READ_* */
	__u64 events;		/* in: user pointer to struct cowtrace_event[] */
	__u32 cap;		/* in: records events holds, > 0 */
	__u32 count;		/* out: records written */
	__u64 lost;		/* out: events lost so far (ring full, probe missed) */
	__u32 active;		/* out: 1 while the session is tracing */
	__u32 reserved;		/* in: must be 0 */
	/* out: events of each kind produced so far, lost ones included */
	__u64 kind_counts[COWTRACE_EV_NR_KINDS];
};

struct cowtrace_trace_stop {
	__u64 size;		/* in: sizeof(struct cowtrace_trace_stop) */
	__u64 flags;		/* in: must be 0 */
};

#define COWTRACE_IOC_MAGIC	0xC0
#define COWTRACE_IOC_VERSION	_IOWR(COWTRACE_IOC_MAGIC, 0x00, struct cowtrace_version)
#define COWTRACE_IOC_MM_INFO	_IOWR(COWTRACE_IOC_MAGIC, 0x01, struct cowtrace_mm_info)
#define COWTRACE_IOC_SNAPSHOT	_IOWR(COWTRACE_IOC_MAGIC, 0x02, struct cowtrace_snapshot)
#define COWTRACE_IOC_TRACE_START _IOWR(COWTRACE_IOC_MAGIC, 0x03, struct cowtrace_trace_start)
#define COWTRACE_IOC_TRACE_READ	_IOWR(COWTRACE_IOC_MAGIC, 0x04, struct cowtrace_trace_read)
#define COWTRACE_IOC_TRACE_STOP	_IOWR(COWTRACE_IOC_MAGIC, 0x05, struct cowtrace_trace_stop)

#endif /* _UAPI_LINUX_COWTRACE_H */
