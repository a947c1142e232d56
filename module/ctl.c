// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl endpoint, /sys/kernel/debug/cowtrace/ctl, in the style of
 * kernel/kcov.c and mm/gup_test.c: a debugfs file whose only interface is
 * ioctl.  Argument structs are size-first and read with
 * copy_struct_from_user(), as PROCMAP_QUERY does, so commands are dispatched
 * on type and number only: the size bits of the command word would otherwise
 * change whenever a struct grows.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/version.h>

#include "compat.h"
#include "cowtrace.h"

struct mm_struct *cowtrace_get_mm(pid_t nr, struct task_struct **taskp)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	if (nr <= 0)
		return ERR_PTR(-ESRCH);
	pid = find_get_pid(nr);
	if (!pid)
		return ERR_PTR(-ESRCH);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return ERR_PTR(-ESRCH);
	/* NULL for kernel threads and for tasks past exit_mm() (zombies) */
	mm = get_task_mm(task);
	if (!mm) {
		put_task_struct(task);
		return ERR_PTR(-ESRCH);
	}
	if (taskp)
		*taskp = task;
	else
		put_task_struct(task);
	return mm;
}

int cowtrace_mm_info(struct mm_struct *mm, struct task_struct *task,
		     struct cowtrace_mm_info *info)
{
	info->tgid = task_tgid_vnr(task); /* in the caller's pid namespace */
	get_task_comm(info->comm, task);
	/* our own reference from get_task_mm() is not the target's */
	info->mm_users = atomic_read(&mm->mm_users) - 1;
	info->mm_count = atomic_read(&mm->mm_count);
	info->map_count = mm->map_count;
	info->rss_anon = get_mm_counter(mm, MM_ANONPAGES);
	info->rss_file = get_mm_counter(mm, MM_FILEPAGES);
	info->rss_shmem = get_mm_counter(mm, MM_SHMEMPAGES);
	info->swap_ents = get_mm_counter(mm, MM_SWAPENTS);
	info->pgtables_bytes = mm_pgtables_bytes(mm);
	info->hiwater_rss = get_mm_hiwater_rss(mm);
	info->total_vm = mm->total_vm;
	info->task_size = mm->task_size;
	return 0;
}

/*
 * Read a size-first struct: at least @min bytes, at most a page, and any
 * bytes beyond what this module knows must be zero (copy_struct_from_user).
 */
static int read_args(void *karg, size_t ksize, size_t min, void __user *uarg,
		     u64 *usize)
{
	if (get_user(*usize, (u64 __user *)uarg))
		return -EFAULT;
	if (*usize < min)
		return -EINVAL;
	if (*usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, *usize);
}

static int write_args(void __user *uarg, const void *karg, size_t ksize,
		      u64 usize)
{
	return copy_to_user(uarg, karg, min_t(u64, ksize, usize)) ? -EFAULT : 0;
}

/*
 * Per open ctl file: the output buffer its first mmap() made.  mmap() runs
 * under the caller's mmap_lock, and a snapshot of the caller itself takes
 * that lock too, so mmap() installs the buffer with a cmpxchg and takes no
 * lock; snapshots writing into the buffer take turns on @lock.
 */
struct ctl_out {
	void *mem;
	size_t size;
};

struct ctl_file {
	struct mutex lock; /* held by a SNAPSHOT writing into out */
	struct ctl_out *out; /* set once, by the first mmap() */
};

static long ioctl_version(struct file *file, void __user *uarg)
{
	struct cowtrace_version v;
	u64 usize;
	int err;

	err = read_args(&v, sizeof(v),
			offsetofend(struct cowtrace_version, page_rec_size),
			uarg, &usize);
	if (err)
		return err;
	v.abi_version = COWTRACE_ABI_VERSION;
	v.page_size = PAGE_SIZE;
	v.vma_rec_size = sizeof(struct cowtrace_vma);
	v.page_rec_size = sizeof(struct cowtrace_page);
	v.run_rec_size = sizeof(struct cowtrace_page_run);
	v.reserved = 0;
	v.kernel_version = COWTRACE_KERNEL;
	v.features = COWTRACE_FEAT_RUNS | COWTRACE_FEAT_MMAP;
	/* without it a THP page's mapcount is its folio's average */
	if (COWTRACE_HAS_PAGE_MAPCOUNT)
		v.features |= COWTRACE_FEAT_PAGE_MAPCOUNT;
	if (IS_ENABLED(CONFIG_KRETPROBES))
		v.features |= COWTRACE_FEAT_TRACE;
	if (IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		v.features |= COWTRACE_FEAT_SOFT_DIRTY;
	if (IS_ENABLED(CONFIG_HAVE_ARCH_USERFAULTFD_WP))
		v.features |= COWTRACE_FEAT_UFFD_WP;
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		v.features |= COWTRACE_FEAT_THP;
	if (IS_ENABLED(CONFIG_KSM))
		v.features |= COWTRACE_FEAT_KSM;
	if (IS_ENABLED(CONFIG_HUGETLB_PAGE))
		v.features |= COWTRACE_FEAT_HUGETLB;
	if (COWTRACE_HAS_ANON_EXCL)
		v.features |= COWTRACE_FEAT_ANON_EXCL;
	return write_args(uarg, &v, sizeof(v), usize);
}

static long ioctl_mm_info(struct file *file, void __user *uarg)
{
	struct cowtrace_mm_info info;
	struct task_struct *task;
	struct mm_struct *mm;
	u64 usize;
	int err;

	err = read_args(&info, sizeof(info),
			offsetofend(struct cowtrace_mm_info, task_size), uarg,
			&usize);
	if (err)
		return err;
	if (info.flags)
		return -EINVAL;
	mm = cowtrace_get_mm(info.pid, &task);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	cowtrace_mm_info(mm, task, &info);
	mmput(mm);
	put_task_struct(task);
	return write_args(uarg, &info, sizeof(info), usize);
}

int cowtrace_check_snapshot_args(const struct cowtrace_snapshot *a)
{
	if (a->flags & ~COWTRACE_SNAP_ALL_FLAGS || a->reserved)
		return -EINVAL;
	if (!PAGE_ALIGNED(a->start) || !PAGE_ALIGNED(a->end) ||
	    a->start >= a->end)
		return -EINVAL;
	if (!a->vma_cap && !a->page_cap)
		return -EINVAL;
	/* a name is at most PATH_MAX, so one always fits in a fresh call */
	if (a->names_cap && (a->names_cap < PATH_MAX || !a->vma_cap))
		return -EINVAL;
	/* mapped output has no user pointer */
	if ((a->flags & COWTRACE_SNAP_MMAP) && a->pages)
		return -EINVAL;
	if ((a->vma_cap && !a->vmas) ||
	    (a->page_cap && !a->pages && !(a->flags & COWTRACE_SNAP_MMAP)) ||
	    (a->names_cap && !a->names))
		return -EFAULT;
	return 0;
}

static size_t page_rec_size(const struct cowtrace_snapshot *a)
{
	return a->flags & COWTRACE_SNAP_RUNS ?
		       sizeof(struct cowtrace_page_run) :
		       sizeof(struct cowtrace_page);
}

struct snapshot_bufs {
	void *pages; /* struct cowtrace_page or, with SNAP_RUNS, _page_run */
	struct cowtrace_vma *vmas;
	char *names;
	char *pathbuf;
};

static void free_bufs(struct snapshot_bufs *b)
{
	kvfree(b->pages);
	kfree(b->vmas);
	kvfree(b->names);
	kfree(b->pathbuf);
}

static int alloc_bufs(struct snapshot_bufs *b,
		      const struct cowtrace_snapshot *a)
{
	memset(b, 0, sizeof(*b));
	if (a->page_cap && !(a->flags & COWTRACE_SNAP_MMAP)) {
		b->pages = kvmalloc_array(min_t(u32, a->page_cap,
						COWTRACE_CHUNK_PAGES),
					  page_rec_size(a), GFP_KERNEL);
		if (!b->pages)
			goto nomem;
	}
	if (a->vma_cap) {
		b->vmas = kmalloc_array(min_t(u32, a->vma_cap,
					      COWTRACE_CHUNK_VMAS),
					sizeof(*b->vmas), GFP_KERNEL);
		b->pathbuf = kmalloc(PATH_MAX, GFP_KERNEL);
		if (!b->vmas || !b->pathbuf)
			goto nomem;
	}
	if (a->names_cap) {
		b->names = kvmalloc(COWTRACE_CHUNK_NAMES, GFP_KERNEL);
		if (!b->names)
			goto nomem;
	}
	return 0;
nomem:
	free_bufs(b);
	return -ENOMEM;
}

/*
 * Copy one chunk out; names offsets become offsets into the user's buffer.
 * @pages NULL: the page records are in the mapped buffer already.
 */
static int copy_chunk(struct cowtrace_snapshot *a, struct cowtrace_walk *w,
		      const void *pages)
{
	void __user *upages = u64_to_user_ptr(a->pages);
	void __user *uvmas = u64_to_user_ptr(a->vmas);
	void __user *unames = u64_to_user_ptr(a->names);
	size_t rec_size = page_rec_size(a);
	unsigned int i;

	for (i = 0; i < w->nr_vmas; i++)
		if (w->vmas[i].name_len)
			w->vmas[i].name_off += a->names_len;
	if ((pages && copy_to_user(upages + (size_t)a->page_count * rec_size,
				   pages, (size_t)w->nr_pages * rec_size)) ||
	    copy_to_user(uvmas + (size_t)a->vma_count * sizeof(*w->vmas),
			 w->vmas, (size_t)w->nr_vmas * sizeof(*w->vmas)) ||
	    copy_to_user(unames + a->names_len, w->names, w->names_len))
		return -EFAULT;
	a->page_count += w->nr_pages;
	a->vma_count += w->nr_vmas;
	a->names_len += w->names_len;
	return 0;
}

/*
 * Room the caller's buffers had left when a chunk began, in records (pages,
 * VMAs) and bytes (names).
 */
struct snapshot_room {
	u32 pages, vmas, names;
};

/*
 * Is the call over after a chunk that ended for @why?  When the range is
 * done, or when the buffer the walk could not add to was all the room the
 * caller had left: the result is partial then, and the caller resumes at
 * next, as for a full page or VMA buffer (docs/abi.md).  A chunk buffer
 * smaller than that room is a bounce buffer, drained: walk on.
 */
static bool snapshot_over(int why, const struct cowtrace_walk *w,
			  const struct snapshot_room *room)
{
	switch (why) {
	case COWTRACE_WALK_DONE:
		return true;
	case COWTRACE_WALK_PAGES_FULL:
		return w->page_cap == room->pages;
	case COWTRACE_WALK_VMAS_FULL:
		return w->vma_cap == room->vmas;
	case COWTRACE_WALK_NAMES_FULL:
		return w->names_cap == room->names;
	default:
		return false;
	}
}

static long ioctl_snapshot(struct file *file, void __user *uarg)
{
	struct ctl_file *cf = file->private_data;
	struct ctl_out *out = NULL;
	struct snapshot_room room;
	struct cowtrace_snapshot a;
	struct snapshot_bufs b;
	struct cowtrace_walk w;
	struct mm_struct *mm;
	size_t rec_size;
	u32 page_cap; /* a.page_cap, or what the mapped buffer holds */
	u64 usize;
	int err, why;

	err = read_args(&a, sizeof(a),
			offsetofend(struct cowtrace_snapshot, next), uarg,
			&usize);
	if (err)
		return err;
	err = cowtrace_check_snapshot_args(&a);
	if (err)
		return err;
	a.vma_count = 0;
	a.page_count = 0;
	a.names_len = 0;
	rec_size = page_rec_size(&a);
	page_cap = a.page_cap;

	if (a.flags & COWTRACE_SNAP_MMAP) {
		/* pairs with mmap()'s cmpxchg_release: out->size is set */
		out = smp_load_acquire(&cf->out);
		if (!out)
			return -EINVAL; /* nothing mapped to write into */
		page_cap = min_t(u64, page_cap, out->size / rec_size);
		err = mutex_lock_killable(&cf->lock);
		if (err)
			return err;
	}
	mm = cowtrace_get_mm(a.pid, NULL);
	if (IS_ERR(mm)) {
		err = PTR_ERR(mm);
		goto out_unlock;
	}
	err = alloc_bufs(&b, &a);
	if (err)
		goto out_mm;

	cowtrace_walk_init(&w, mm, a.start, min_t(u64, a.end, mm->task_size));
	w.vmas = b.vmas;
	w.names = b.names;
	w.pathbuf = b.pathbuf;
	do {
		/*
		 * Mapped output: each chunk goes straight where it belongs.
		 * No page records asked for: no page buffer, so the walker
		 * does not walk page tables at all.
		 */
		void *pages = !page_cap ? NULL :
			      out	? out->mem + a.page_count * rec_size :
					  b.pages;

		room.pages = page_cap - a.page_count;
		room.vmas = a.vma_cap - a.vma_count;
		room.names = a.names_cap - a.names_len;
		if (a.flags & COWTRACE_SNAP_RUNS)
			w.runs = pages;
		else
			w.pages = pages;
		w.page_cap = min_t(u32, room.pages, COWTRACE_CHUNK_PAGES);
		w.vma_cap = min_t(u32, room.vmas, COWTRACE_CHUNK_VMAS);
		w.names_cap = min_t(u32, room.names, COWTRACE_CHUNK_NAMES);
		why = cowtrace_walk_chunk(&w);
		if (why < 0) {
			err = why;
			goto out_bufs;
		}
		err = copy_chunk(&a, &w, out ? NULL : b.pages);
		if (err)
			goto out_bufs;
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			goto out_bufs;
		}
	} while (!snapshot_over(why, &w, &room));
	/* complete means next == end as the caller gave it, not clamped */
	a.next = w.addr >= w.end ? a.end : w.addr;
	err = write_args(uarg, &a, sizeof(a), usize);
out_bufs:
	free_bufs(&b);
out_mm:
	mmput(mm);
out_unlock:
	if (out)
		mutex_unlock(&cf->lock);
	return err;
}

static long ioctl_trace_start(struct file *file, void __user *uarg)
{
	struct cowtrace_trace_start a;
	u64 usize;
	int err;

	err = read_args(&a, sizeof(a),
			offsetofend(struct cowtrace_trace_start, reserved),
			uarg, &usize);
	if (err)
		return err;
	if (a.reserved)
		return -EINVAL;
	memset(a.missing, 0, sizeof(a.missing));
	err = cowtrace_trace_start(a.pid, a.flags, file, a.missing,
				   sizeof(a.missing));
	a.event_rec_size = sizeof(struct cowtrace_event);
	a.ring_events = cowtrace_ring_capacity();
	/* on ENOENT the caller learns which probe point is missing */
	if (!err || err == -ENOENT) {
		int werr = write_args(uarg, &a, sizeof(a), usize);

		if (werr)
			return werr;
	}
	return err;
}

/* Events per bounce-buffer round: 6 KiB of kmalloc. */
#define READ_CHUNK_EVENTS 64

static long ioctl_trace_read(struct file *file, void __user *uarg)
{
	struct cowtrace_trace_status st;
	struct cowtrace_trace_read a;
	struct cowtrace_ring_stats rs;
	struct cowtrace_event *buf;
	struct cowtrace_event __user *uevents;
	unsigned int n;
	u64 usize;
	int err;

	err = read_args(&a, sizeof(a),
			offsetofend(struct cowtrace_trace_read, reserved), uarg,
			&usize);
	if (err)
		return err;
	if (a.flags & ~COWTRACE_READ_ALL_FLAGS || a.reserved || !a.cap)
		return -EINVAL;
	if (!a.events)
		return -EFAULT;
	uevents = u64_to_user_ptr(a.events);
	buf = kmalloc_array(READ_CHUNK_EVENTS, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	err = cowtrace_ring_wait(a.flags & COWTRACE_READ_NONBLOCK);
	if (err)
		goto out;
	a.count = 0;
	while (a.count < a.cap) {
		n = cowtrace_ring_pop(buf, min_t(u32, a.cap - a.count,
						 READ_CHUNK_EVENTS));
		if (!n)
			break;
		/* popped events are gone from the ring: say so if they fault */
		if (copy_to_user(uevents + a.count, buf, n * sizeof(*buf))) {
			cowtrace_ring_add_lost(n);
			err = -EFAULT;
			goto out;
		}
		a.count += n;
	}
	cowtrace_trace_status(&st);
	cowtrace_ring_stats(&rs);
	a.lost = rs.lost + st.missed;
	a.active = rs.active;
	memcpy(a.kind_counts, rs.kind_counts, sizeof(a.kind_counts));
	err = write_args(uarg, &a, sizeof(a), usize);
out:
	kfree(buf);
	return err;
}

static long ioctl_trace_stop(struct file *file, void __user *uarg)
{
	struct cowtrace_trace_stop a;
	u64 usize;
	int err;

	err = read_args(&a, sizeof(a),
			offsetofend(struct cowtrace_trace_stop, flags), uarg,
			&usize);
	if (err)
		return err;
	if (a.flags)
		return -EINVAL;
	return cowtrace_trace_stop(file, true);
}

typedef long (*ctl_handler_t)(struct file *file, void __user *uarg);

static long cowtrace_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	ctl_handler_t handler;

	if (_IOC_TYPE(cmd) != COWTRACE_IOC_MAGIC ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return -ENOTTY;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(COWTRACE_IOC_VERSION):
		handler = ioctl_version;
		break;
	case _IOC_NR(COWTRACE_IOC_MM_INFO):
		handler = ioctl_mm_info;
		break;
	case _IOC_NR(COWTRACE_IOC_SNAPSHOT):
		handler = ioctl_snapshot;
		break;
	case _IOC_NR(COWTRACE_IOC_TRACE_START):
		handler = ioctl_trace_start;
		break;
	case _IOC_NR(COWTRACE_IOC_TRACE_READ):
		handler = ioctl_trace_read;
		break;
	case _IOC_NR(COWTRACE_IOC_TRACE_STOP):
		handler = ioctl_trace_stop;
		break;
	default:
		return -ENOTTY;
	}
	/* debugfs is root-only, but a root that dropped capabilities is not */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return handler(file, (void __user *)arg);
}

static int cowtrace_ctl_open(struct inode *inode, struct file *file)
{
	struct ctl_file *cf = kzalloc(sizeof(*cf), GFP_KERNEL);

	if (!cf)
		return -ENOMEM;
	mutex_init(&cf->lock);
	file->private_data = cf;
	return 0;
}

/*
 * The output buffer (uapi: COWTRACE_MMAP_MAX).  Runs with the caller's
 * mmap_lock held, so it takes no lock of ours (see struct ctl_file).  The
 * mapping holds the file, so the buffer outlives it.  Only the module
 * writes the buffer: a writable mapping is refused, and without
 * VM_MAYWRITE no mprotect() can make one later.
 */
static int cowtrace_ctl_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ctl_file *cf = file->private_data;
	unsigned long size = vma->vm_end - vma->vm_start;
	struct ctl_out *out, *fresh;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	if (vma->vm_pgoff || size > COWTRACE_MMAP_MAX)
		return -EINVAL;
	cowtrace_vm_flags_clear(vma, VM_MAYWRITE);
	/* pairs with the cmpxchg_release below, in another mmap() */
	out = smp_load_acquire(&cf->out);
	if (!out) {
		fresh = kmalloc(sizeof(*fresh), GFP_KERNEL);
		if (!fresh)
			return -ENOMEM;
		fresh->size = size;
		fresh->mem = vmalloc_user(size);
		if (!fresh->mem) {
			kfree(fresh);
			return -ENOMEM;
		}
		/* two first mmap()s at once: one buffer wins, for both */
		out = cmpxchg_release(&cf->out, NULL, fresh);
		if (out) {
			vfree(fresh->mem);
			kfree(fresh);
		} else {
			out = fresh;
		}
	}
	if (size != out->size)
		return -EINVAL;
	return remap_vmalloc_range(vma, out->mem, 0);
}

/* A session started through this file ends when the file does. */
static int cowtrace_ctl_release(struct inode *inode, struct file *file)
{
	struct ctl_file *cf = file->private_data;

	cowtrace_trace_stop(file, false);
	if (cf->out) {
		vfree(cf->out->mem);
		kfree(cf->out);
	}
	kfree(cf);
	return 0;
}

/*
 * Registered with debugfs_create_file_unsafe(): debugfs's proxy has no
 * mmap.  Unload cannot race these: an open file pins the module (.owner).
 */
const struct file_operations cowtrace_ctl_fops = {
	.owner = THIS_MODULE,
	.open = cowtrace_ctl_open,
	.release = cowtrace_ctl_release,
	.mmap = cowtrace_ctl_mmap,
	.unlocked_ioctl = cowtrace_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

#ifdef COWTRACE_KUNIT
#include "../kunit/ctl-kunit.h"
#endif
