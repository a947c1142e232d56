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
};

/* Which optional PTE and page facts the running kernel can report. */
#define COWTRACE_FEAT_SOFT_DIRTY	(1U << 0)	/* CONFIG_MEM_SOFT_DIRTY */
#define COWTRACE_FEAT_UFFD_WP		(1U << 1)	/* uffd-wp PTE bit */
#define COWTRACE_FEAT_THP		(1U << 2)	/* CONFIG_TRANSPARENT_HUGEPAGE */
#define COWTRACE_FEAT_KSM		(1U << 3)	/* CONFIG_KSM */
#define COWTRACE_FEAT_HUGETLB		(1U << 4)	/* CONFIG_HUGETLB_PAGE */
#define COWTRACE_FEAT_PAGE_MAPCOUNT	(1U << 5)	/* per-page mapcount is exact */

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

/* What struct page says (bits 14-26).  PG_PAGE: the others are valid. */
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

/* Folio order (bits 27-31): 0 for small pages, 9 for a 2 MiB THP. */
#define COWTRACE_ORDER_SHIFT	27
#define COWTRACE_ORDER_MASK	(31U << COWTRACE_ORDER_SHIFT)
#define COWTRACE_PAGE_ORDER(flags) \
	(((flags) & COWTRACE_ORDER_MASK) >> COWTRACE_ORDER_SHIFT)

/* Snapshot request flags. */
#define COWTRACE_SNAP_ALL_FLAGS	0ULL	/* none defined yet */

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
	__u64 pages;		/* in: user pointer to struct cowtrace_page[] */
	__u64 names;		/* in: user pointer to a buffer for VMA names */
	__u32 vma_cap;		/* in: records vmas holds; 0 = no VMA records */
	__u32 page_cap;		/* in: records pages holds; 0 = no page records */
	__u32 names_cap;	/* in: bytes names holds; 0 = no names */
	__u32 vma_count;	/* out: VMA records written */
	__u32 page_count;	/* out: page records written */
	__u32 names_len;	/* out: bytes of names written */
	__u64 next;		/* out: resume address; == end when complete */
};

#define COWTRACE_IOC_MAGIC	0xC0
#define COWTRACE_IOC_VERSION	_IOWR(COWTRACE_IOC_MAGIC, 0x00, struct cowtrace_version)
#define COWTRACE_IOC_MM_INFO	_IOWR(COWTRACE_IOC_MAGIC, 0x01, struct cowtrace_mm_info)
#define COWTRACE_IOC_SNAPSHOT	_IOWR(COWTRACE_IOC_MAGIC, 0x02, struct cowtrace_snapshot)

#endif /* _UAPI_LINUX_COWTRACE_H */
