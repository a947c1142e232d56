/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces between the module's files and the KUnit suites.
 *
 * walk.c turns page tables into UAPI records; ctl.c (ioctls) and text.c
 * (debugfs views) are its only users, and both drive it the same way: fill a
 * kernel buffer one chunk at a time, drop every lock, then hand the chunk on.
 */
#ifndef _COWTRACE_INTERNAL_H
#define _COWTRACE_INTERNAL_H

#include <linux/pgtable.h>
#include <linux/types.h>
#include <uapi/linux/cowtrace.h>

struct dentry;
struct file;
struct poll_table_struct;
struct mm_struct;
struct pid;
struct task_struct;
struct vm_area_struct;

/*
 * Records filled per chunk.  mmap_lock is held for at most one chunk, and
 * never across copy_to_user; 1024 page records are 32 KiB of bounce buffer.
 */
#define COWTRACE_CHUNK_PAGES 1024
#define COWTRACE_CHUNK_VMAS 64
#define COWTRACE_CHUNK_NAMES (16 * 1024)

/*
 * One walk over [addr, end) of @mm.  The caller sets the in fields and the
 * buffers, calls cowtrace_walk_chunk() until it returns COWTRACE_WALK_DONE,
 * and drains the buffers (resetting the counts) in between.
 */
struct cowtrace_walk {
	/* in */
	struct mm_struct *mm;
	unsigned long end;
	struct cowtrace_vma *vmas; /* NULL: no VMA records */
	struct cowtrace_page *pages; /* NULL: no page records */
	struct cowtrace_page_run *runs; /* instead of pages: runs of pages */
	char *names; /* NULL: no VMA names */
	char *pathbuf; /* PATH_MAX scratch, needed with names */
	unsigned int vma_cap, page_cap, names_cap;
	/* in/out: where the next chunk starts */
	unsigned long addr;
	/* out: what this chunk produced */
	unsigned int nr_vmas, nr_pages, names_len; /* nr_pages: runs, if runs */
	/* private */
	unsigned long last_vma_start; /* VMA already reported by this walk */
	/*
	 * What the folio says as a whole, read once for all its pages (512
	 * for a 2 MiB THP); valid only while its page-table lock is held.
	 */
	struct {
		struct folio *folio;
		u32 flags; /* COWTRACE_PG_*, but for the per-page ones */
		u32 refcount;
		u32 mapcount;
		int page_mapcount_base; /* see cowtrace_folio_mapcount_base() */
		/* a small folio's words the facts came from */
		unsigned long raw_flags, raw_mapping;
	} folio_facts;
	/* pfn >> PFN_SUBSECTION_SHIFT of the last PFN pfn_valid() passed */
	unsigned long valid_subsection;
};

/*
 * Why a chunk ended, so that every caller stops for the same reasons.  On a
 * FULL reason the chunk's buffer of that kind could not take the next record
 * (for NAMES_FULL: the next VMA's name), and w->addr is where that record
 * belongs.  Only a caller knows whether that buffer was all the room it had
 * left (the call is over: resume at w->addr) or a bounce buffer it drains
 * and refills (walk on).
 */
enum cowtrace_walk_stop {
	COWTRACE_WALK_DONE, /* w->addr == w->end: nothing left to walk */
	COWTRACE_WALK_BUDGET, /* COWTRACE_CHUNK_PMDS page tables or VMAs */
	COWTRACE_WALK_PAGES_FULL,
	COWTRACE_WALK_VMAS_FULL,
	COWTRACE_WALK_NAMES_FULL,
};

void cowtrace_walk_init(struct cowtrace_walk *w, struct mm_struct *mm,
			unsigned long start, unsigned long end);
/* A negative errno, or why the chunk ended (enum cowtrace_walk_stop). */
int cowtrace_walk_chunk(struct cowtrace_walk *w);

/*
 * The upper page-table levels as one descent read them, shared by walk.c
 * and trace.c (cowtrace_pud_lookup() in walk.c says how it reads them).
 */
struct cowtrace_upper {
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
};

pud_t *cowtrace_pud_lookup(struct mm_struct *mm, unsigned long addr,
			   unsigned long end, struct cowtrace_upper *u,
			   unsigned long *next);

/* Record builders, separate from the walk so KUnit can drive them directly. */
u32 cowtrace_vma_flags(unsigned long vm_flags, bool has_anon_vma);

/* Target lookup: pid in the caller's namespace to a referenced mm. */
struct mm_struct *cowtrace_get_mm(pid_t nr, struct task_struct **taskp);
int cowtrace_mm_info(struct mm_struct *mm, struct task_struct *task,
		     struct cowtrace_mm_info *info);

/* debugfs views (text.c) */
int cowtrace_text_init(struct dentry *dir);
void cowtrace_text_exit(void);

/* The event ring (ring.c): probe handlers push, readers pop. */
struct cowtrace_ring_stats {
	u64 lost; /* dropped because the ring was full */
	u64 produced; /* the last seq handed out */
	u64 queued; /* waiting to be read */
	bool active; /* a session is producing */
	u64 kind_counts[COWTRACE_EV_NR_KINDS];
};

int cowtrace_ring_reset(unsigned int cap);
unsigned int cowtrace_ring_capacity(void);
void cowtrace_ring_set_active(bool active);
void cowtrace_ring_push(struct cowtrace_event *ev);
void cowtrace_ring_add_lost(u64 nr);
unsigned int cowtrace_ring_pop(struct cowtrace_event *buf, unsigned int nr);
int cowtrace_ring_wait(bool nonblock);
bool cowtrace_ring_stopped(void);
__poll_t cowtrace_ring_poll(struct file *file, struct poll_table_struct *wait);
void cowtrace_ring_stats(struct cowtrace_ring_stats *st);
void cowtrace_ring_free(void);

/* The trace session (trace.c). */
struct cowtrace_trace_status {
	bool tracing;
	bool children;
	pid_t pid; /* the traced process, in the session's namespace */
	u64 missed; /* probe hits the kretprobes could not take */
};

int cowtrace_trace_start(pid_t nr, u64 flags, const void *owner, char *missing,
			 size_t missing_len);
/* Stop the session if @owner started it, or whoever did if @any. */
int cowtrace_trace_stop(const void *owner, bool any);
void cowtrace_trace_status(struct cowtrace_trace_status *st);
void cowtrace_trace_exit(void);

/* Text debugfs files of the tracer (events.c). */
void cowtrace_events_init(struct dentry *dir);

/* ioctl endpoint (ctl.c) */
extern const struct file_operations cowtrace_ctl_fops;
int cowtrace_check_snapshot_args(const struct cowtrace_snapshot *args);

#endif /* _COWTRACE_INTERNAL_H */
