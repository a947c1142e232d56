// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs text views, for a person with cat and grep:
 *
 *   target   write a PID (caller's pid namespace) to choose the process;
 *            reading prints it.  An open view keeps the process it opened.
 *   vmas     one line per VMA, like /proc/PID/maps plus the COW facts
 *   pages    one line per populated 4 KiB page
 *   summary  per-mm counters and page totals, "key value" per line
 *
 * vmas and pages are seq_files that refill a chunk buffer through the same
 * walker as the ioctl, so mmap_lock is held only while a chunk is filled and
 * never while seq_read copies to user space; huge address spaces stream.
 */
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/mm.h> /* kvzalloc(), kvfree() on 5.10 */
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "cowtrace.h"

/* The header lines name the columns; docs/abi.md explains each one. */
#define VMAS_HEADER "# START-END PERMS PGOFF DEV INODE VM_FLAGS FLAGS NAME\n"
#define PAGES_HEADER \
	"# ADDR PFN LEVEL KIND PTE MAPCOUNT FOLIO_MAPCOUNT REFCOUNT ORDER FLAGS\n"

static DEFINE_MUTEX(target_lock);
static struct pid *target_pid; /* the PID written to 'target', or NULL */

static ssize_t target_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;
	int nr, err;

	/* not a decimal int (ERANGE included): EINVAL, as docs/abi.md says */
	err = kstrtoint_from_user(ubuf, count, 10, &nr);
	if (err)
		return err == -EFAULT ? err : -EINVAL;
	/* refuse now what the views could not show later */
	mm = cowtrace_get_mm(nr, &task);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	pid = get_task_pid(task, PIDTYPE_PID);
	mmput(mm);
	put_task_struct(task);

	mutex_lock(&target_lock);
	put_pid(target_pid);
	target_pid = pid;
	mutex_unlock(&target_lock);
	return count;
}

static int target_show(struct seq_file *m, void *v)
{
	mutex_lock(&target_lock);
	if (target_pid)
		seq_printf(m, "%d\n", pid_vnr(target_pid));
	else
		seq_puts(m, "none\n");
	mutex_unlock(&target_lock);
	return 0;
}

static int target_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return single_open(file, target_show, NULL);
}

static const struct file_operations target_fops = {
	.owner = THIS_MODULE,
	.open = target_open,
	.read = seq_read,
	.write = target_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/* The mm behind 'target', with mm_count held (mm_users only while reading). */
static struct mm_struct *grab_target_mm(struct task_struct **taskp)
{
	struct mm_struct *mm = ERR_PTR(-ESRCH);
	struct task_struct *task;

	mutex_lock(&target_lock);
	task = target_pid ? get_pid_task(target_pid, PIDTYPE_PID) : NULL;
	mutex_unlock(&target_lock);
	if (!task)
		return mm;
	mm = get_task_mm(task);
	if (!mm) {
		put_task_struct(task);
		return ERR_PTR(-ESRCH);
	}
	mmgrab(mm);
	mmput(mm);
	if (taskp)
		*taskp = task;
	else
		put_task_struct(task);
	return mm;
}

/* Iterator shared by 'vmas' and 'pages': records of one chunk at a time. */
struct view_iter {
	struct mm_struct *mm;
	bool want_pages;
	bool have_users; /* mmget_not_zero() succeeded in start() */
	bool done; /* the walk said COWTRACE_WALK_DONE */
	struct cowtrace_walk w;
	loff_t base; /* seq position of the chunk's first record */
	unsigned int nr; /* records in the chunk */
	struct cowtrace_page pages[COWTRACE_CHUNK_PAGES];
	struct cowtrace_vma vmas[COWTRACE_CHUNK_VMAS];
	char names[COWTRACE_CHUNK_NAMES];
	char pathbuf[PATH_MAX];
};

static void view_rewind(struct view_iter *it)
{
	cowtrace_walk_init(&it->w, it->mm, 0, it->mm->task_size);
	it->w.pages = it->want_pages ? it->pages : NULL;
	it->w.page_cap = COWTRACE_CHUNK_PAGES;
	it->w.vmas = it->want_pages ? NULL : it->vmas;
	it->w.vma_cap = COWTRACE_CHUNK_VMAS;
	it->w.names = it->names;
	it->w.names_cap = COWTRACE_CHUNK_NAMES;
	it->w.pathbuf = it->pathbuf;
	it->base = 1; /* position 0 is the header line */
	it->nr = 0;
	it->done = false;
}

/*
 * Make record @pos available; false at the end or on a fatal signal.  The
 * chunk buffers are ours, and emptied before each chunk, so a full one only
 * means walk on: the walk is over when it says it is done.
 */
static bool view_seek(struct view_iter *it, loff_t pos)
{
	int why;

	if (pos < it->base)
		view_rewind(it);
	while (pos >= it->base + it->nr) {
		if (it->done)
			return false;
		it->base += it->nr;
		it->nr = 0;
		why = cowtrace_walk_chunk(&it->w);
		if (why < 0)
			return false;
		it->done = why == COWTRACE_WALK_DONE;
		it->nr = it->want_pages ? it->w.nr_pages : it->w.nr_vmas;
	}
	return true;
}

static void *view_record(struct view_iter *it, loff_t pos)
{
	if (it->want_pages)
		return &it->pages[pos - it->base];
	return &it->vmas[pos - it->base];
}

static void *view_start(struct seq_file *m, loff_t *pos)
{
	struct view_iter *it = m->private;

	it->have_users = mmget_not_zero(it->mm);
	if (!it->have_users)
		return NULL;
	if (*pos == 0)
		return SEQ_START_TOKEN;
	return view_seek(it, *pos) ? view_record(it, *pos) : NULL;
}

static void *view_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct view_iter *it = m->private;

	++*pos;
	return view_seek(it, *pos) ? view_record(it, *pos) : NULL;
}

static void view_stop(struct seq_file *m, void *v)
{
	struct view_iter *it = m->private;

	if (it->have_users)
		mmput(it->mm);
	it->have_users = false;
}

/* The names of the UAPI header's tables (COWTRACE_*_FLAG_NAMES_INIT). */
struct flag_name {
	u32 flag;
	const char *name;
};

static const struct flag_name vma_flag_names[] = COWTRACE_VMA_FLAG_NAMES_INIT;
static const struct flag_name page_flag_names[] = COWTRACE_PAGE_FLAG_NAMES_INIT;

static const struct {
	u32 flag;
	char letter;
} pte_flag_letters[] = COWTRACE_PTE_FLAG_LETTERS_INIT;

/* The names of the flags set in @flags but not in @skip, or "-". */
static void show_flag_names(struct seq_file *m, const struct flag_name *names,
			    unsigned int nr, u32 flags, u32 skip)
{
	bool first = true;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (!(flags & names[i].flag) || (skip & names[i].flag))
			continue;
		seq_printf(m, "%s%s", first ? "" : ",", names[i].name);
		first = false;
	}
	if (first)
		seq_putc(m, '-');
}

/* The r/w/x/s permissions column says these. */
#define VMA_PERM_FLAGS                                                \
	(COWTRACE_VMA_READ | COWTRACE_VMA_WRITE | COWTRACE_VMA_EXEC | \
	 COWTRACE_VMA_SHARED)

static int vmas_show(struct seq_file *m, void *v)
{
	struct view_iter *it = m->private;
	const struct cowtrace_vma *r = v;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, VMAS_HEADER);
		return 0;
	}
	seq_printf(m, "%012llx-%012llx %c%c%c%c %08llx %02x:%02x %llu %#llx ",
		   r->start, r->end, r->flags & COWTRACE_VMA_READ ? 'r' : '-',
		   r->flags & COWTRACE_VMA_WRITE ? 'w' : '-',
		   r->flags & COWTRACE_VMA_EXEC ? 'x' : '-',
		   r->flags & COWTRACE_VMA_SHARED ? 's' : 'p', r->pgoff,
		   MAJOR(new_decode_dev(r->dev)), MINOR(new_decode_dev(r->dev)),
		   r->ino, r->vm_flags);
	show_flag_names(m, vma_flag_names, ARRAY_SIZE(vma_flag_names), r->flags,
			VMA_PERM_FLAGS);
	if (r->name_len)
		seq_printf(m, " %s", it->names + r->name_off);
	seq_putc(m, '\n');
	return 0;
}

static const char *page_kind(u32 f)
{
	if (f & COWTRACE_PTE_PRESENT)
		return "present";
	if (f & COWTRACE_PTE_SWAP)
		return "swap";
	if (f & COWTRACE_PTE_MIGRATION)
		return "migration";
	if (f & COWTRACE_PTE_DEVICE)
		return "device";
	return "marker";
}

/* The KIND column says these. */
#define PAGE_KIND_FLAGS                                                     \
	(COWTRACE_PTE_SWAP | COWTRACE_PTE_MIGRATION | COWTRACE_PTE_DEVICE | \
	 COWTRACE_PTE_MARKER)

static int pages_show(struct seq_file *m, void *v)
{
	static const char *const levels[] = { "pte", "pmd", "pud", "?" };
	const struct cowtrace_page *r = v;
	unsigned int i;
	u32 f;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, PAGES_HEADER);
		return 0;
	}
	f = r->flags;
	seq_printf(m, "%012llx %#llx %s %s ", r->addr, r->pfn,
		   levels[COWTRACE_PAGE_LEVEL(f)], page_kind(f));
	for (i = 0; i < ARRAY_SIZE(pte_flag_letters); i++)
		seq_putc(m, f & pte_flag_letters[i].flag ?
				    pte_flag_letters[i].letter :
				    '-');
	seq_putc(m, ' ');
	if (f & COWTRACE_PTE_SWAP)
		seq_printf(m, "- - swap_type=%u %u ", r->swap_type,
			   COWTRACE_PAGE_ORDER(f));
	else
		seq_printf(m, "%u %u %u %u ", r->mapcount, r->folio_mapcount,
			   r->refcount, COWTRACE_PAGE_ORDER(f));
	show_flag_names(m, page_flag_names, ARRAY_SIZE(page_flag_names), f,
			PAGE_KIND_FLAGS);
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations vmas_sops = {
	.start = view_start,
	.next = view_next,
	.stop = view_stop,
	.show = vmas_show,
};

static const struct seq_operations pages_sops = {
	.start = view_start,
	.next = view_next,
	.stop = view_stop,
	.show = pages_show,
};

static int view_open(struct file *file, const struct seq_operations *sops,
		     bool want_pages)
{
	struct view_iter *it;
	struct mm_struct *mm;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	mm = grab_target_mm(NULL);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	/* ~56 KiB of chunk buffers: too large to ask kmalloc for */
	it = kvzalloc(sizeof(*it), GFP_KERNEL);
	err = it ? seq_open(file, sops) : -ENOMEM;
	if (err) {
		kvfree(it);
		mmdrop(mm);
		return err;
	}
	it->mm = mm;
	it->want_pages = want_pages;
	view_rewind(it);
	((struct seq_file *)file->private_data)->private = it;
	return 0;
}

static int vmas_open(struct inode *inode, struct file *file)
{
	return view_open(file, &vmas_sops, false);
}

static int pages_open(struct inode *inode, struct file *file)
{
	return view_open(file, &pages_sops, true);
}

static int view_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	struct view_iter *it = m->private;

	mmdrop(it->mm);
	kvfree(it);
	return seq_release(inode, file);
}

static const struct file_operations vmas_fops = {
	.owner = THIS_MODULE,
	.open = vmas_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = view_release,
};

static const struct file_operations pages_fops = {
	.owner = THIS_MODULE,
	.open = pages_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = view_release,
};

/* Totals over every page, for 'summary'. */
struct page_totals {
	u64 vmas, cow_vmas, pages, present, writable, anon, anon_excl;
	u64 shared, zero, thp, ksm, swap;
};

static void count_page(struct page_totals *t, const struct cowtrace_page *r)
{
	u32 f = r->flags;

	t->pages++;
	t->present += !!(f & COWTRACE_PTE_PRESENT);
	t->writable += (f & COWTRACE_PTE_PRESENT) && (f & COWTRACE_PTE_WRITE);
	t->anon += !!(f & COWTRACE_PG_ANON);
	t->anon_excl += (f & COWTRACE_PG_PAGE) && (f & COWTRACE_PG_ANON_EXCL);
	t->shared += (f & COWTRACE_PG_PAGE) && r->mapcount > 1;
	t->zero += !!(f & COWTRACE_PG_ZERO);
	t->thp += !!(f & COWTRACE_PG_THP);
	t->ksm += !!(f & COWTRACE_PG_KSM);
	t->swap += !!(f & COWTRACE_PTE_SWAP);
}

/*
 * Walk all of it->mm, chunk by chunk, adding every VMA and page to @t.
 * Returns 0, the walk's error, or -EINTR: a killed reader stops after the
 * chunk it is in, not after the whole mm.
 */
static int summary_count(struct view_iter *it, struct page_totals *t)
{
	unsigned int i;
	int why;

	view_rewind(it);
	it->w.pages = it->pages;
	it->w.vmas = it->vmas;
	it->w.names = NULL;
	do {
		why = cowtrace_walk_chunk(&it->w);
		if (why < 0)
			return why;
		for (i = 0; i < it->w.nr_vmas; i++) {
			t->vmas++;
			t->cow_vmas += !!(it->vmas[i].flags & COWTRACE_VMA_COW);
		}
		for (i = 0; i < it->w.nr_pages; i++)
			count_page(t, &it->pages[i]);
		if (why != COWTRACE_WALK_DONE && fatal_signal_pending(current))
			return -EINTR;
	} while (why != COWTRACE_WALK_DONE);
	return 0;
}

static int summary_show(struct seq_file *m, void *v)
{
	struct cowtrace_mm_info info = {};
	struct page_totals t = {};
	struct task_struct *task;
	struct view_iter *it;
	struct mm_struct *mm;
	int err = 0;

	mm = grab_target_mm(&task);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	it = kvzalloc(sizeof(*it), GFP_KERNEL);
	if (!it || !mmget_not_zero(mm)) {
		err = it ? -ESRCH : -ENOMEM;
		goto out;
	}
	cowtrace_mm_info(mm, task, &info);
	info.mm_count--; /* grab_target_mm()'s mmgrab() */
	it->mm = mm;
	err = summary_count(it, &t);
	mmput(mm);
	if (err)
		goto out;

	seq_printf(m, "pid %d\ntgid %u\ncomm %s\n", pid_vnr(task_pid(task)),
		   info.tgid, info.comm);
	seq_printf(m, "mm_users %u\nmm_count %u\nmap_count %u\n", info.mm_users,
		   info.mm_count, info.map_count);
	seq_printf(m, "rss_anon %llu\nrss_file %llu\n", info.rss_anon,
		   info.rss_file);
	seq_printf(m, "rss_shmem %llu\nswap_ents %llu\n", info.rss_shmem,
		   info.swap_ents);
	seq_printf(m, "pgtables_bytes %llu\nhiwater_rss %llu\ntotal_vm %llu\n",
		   info.pgtables_bytes, info.hiwater_rss, info.total_vm);
	seq_printf(m, "vmas %llu\ncow_vmas %llu\n", t.vmas, t.cow_vmas);
	seq_printf(m, "pages %llu\npresent %llu\nwritable %llu\nanon %llu\n",
		   t.pages, t.present, t.writable, t.anon);
	/* no line where the kernel has no such fact (before 5.19) */
	if (COWTRACE_HAS_ANON_EXCL)
		seq_printf(m, "anon_exclusive %llu\n", t.anon_excl);
	seq_printf(m, "shared %llu\nzero %llu\n", t.shared, t.zero);
	seq_printf(m, "thp %llu\nksm %llu\nswap %llu\n", t.thp, t.ksm, t.swap);
out:
	kvfree(it);
	mmdrop(mm);
	put_task_struct(task);
	return err;
}

static int summary_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return single_open(file, summary_show, NULL);
}

static const struct file_operations summary_fops = {
	.owner = THIS_MODULE,
	.open = summary_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

int cowtrace_text_init(struct dentry *dir)
{
	debugfs_create_file("target", 0600, dir, NULL, &target_fops);
	debugfs_create_file("vmas", 0400, dir, NULL, &vmas_fops);
	debugfs_create_file("pages", 0400, dir, NULL, &pages_fops);
	debugfs_create_file("summary", 0400, dir, NULL, &summary_fops);
	return 0;
}

void cowtrace_text_exit(void)
{
	put_pid(target_pid);
	target_pid = NULL;
}

#ifdef COWTRACE_KUNIT
#include "../kunit/text-kunit.h"
#endif
