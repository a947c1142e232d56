// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs text interface of the tracer, for cat and tail -f:
 *
 *   trace    write "PID" or "PID children" to start a session, "stop" to end
 *            it; reading prints the session's state and counters
 *   events   one line per event; a read blocks until there is one, poll()
 *            works, and EOF comes once the session has stopped and the ring
 *            is drained.  Readers consume: two readers split the stream.
 *
 * A session started here belongs to no file: it runs until "stop" or rmmod.
 */
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "cowtrace.h"

static const char *const kind_names[COWTRACE_EV_NR_KINDS] =
	COWTRACE_EV_NAMES_INIT;

static ssize_t trace_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	char buf[48], *arg, *word;
	bool children = false;
	char missing[64];
	int nr, err;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	arg = strim(buf);
	if (!strcmp(arg, "stop")) {
		err = cowtrace_trace_stop(NULL, true);
		return err ? err : count;
	}
	word = strsep(&arg, " \t");
	if (kstrtoint(word, 10, &nr))
		return -EINVAL;
	if (arg) {
		if (strcmp(strim(arg), "children"))
			return -EINVAL;
		children = true;
	}
	err = cowtrace_trace_start(nr, children ? COWTRACE_TRACE_CHILDREN : 0,
				   NULL, missing, sizeof(missing));
	return err ? err : count;
}

static int trace_show(struct seq_file *m, void *v)
{
	struct cowtrace_trace_status st;
	struct cowtrace_ring_stats rs;
	int kind;

	cowtrace_trace_status(&st);
	cowtrace_ring_stats(&rs);
	seq_printf(m, "state %s\n",
		   st.tracing ? "tracing" :
		   st.pid     ? "stopped" :
				"idle");
	seq_printf(m, "pid %d\n", st.pid);
	seq_printf(m, "children %d\n", st.children);
	seq_printf(m, "ring %u\n", cowtrace_ring_capacity());
	seq_printf(m, "events %llu\n", rs.produced);
	seq_printf(m, "queued %llu\n", rs.queued);
	seq_printf(m, "lost %llu\n", rs.lost + st.missed);
	for (kind = 1; kind < COWTRACE_EV_NR_KINDS; kind++)
		seq_printf(m, "%s %llu\n", kind_names[kind],
			   rs.kind_counts[kind]);
	return 0;
}

static int trace_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return single_open(file, trace_show, NULL);
}

static const struct file_operations trace_fops = {
	.owner = THIS_MODULE,
	.open = trace_open,
	.read = seq_read,
	.write = trace_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * One open 'events' file: the line being handed out, and where it is.  Reads
 * of one open file can overlap: f_pos_lock does not serialise them for every
 * caller (io_uring's workers call ->read without it).  So, as seq_read_iter()
 * does with m->lock, a read holds @lock for all it does with the line;
 * without it, two reads could each pop an event into @line at once and leave
 * off past len.
 */
struct events_reader {
	struct mutex lock; /* held by a read for all of the below */
	u64 last_seq; /* seq of the last event formatted */
	size_t len, off; /* line[off..len) is still to be read */
	char line[256];
};

static size_t format_event(char *buf, size_t size, u64 lost_before,
			   const struct cowtrace_event *ev)
{
	size_t n = 0;

	if (lost_before)
		n += scnprintf(buf, size, "lost %llu events\n", lost_before);
	n += scnprintf(buf + n, size - n, "%llu %llu.%09llu %u/%u cpu%u %s",
		       ev->seq, ev->time_ns / NSEC_PER_SEC,
		       ev->time_ns % NSEC_PER_SEC, ev->pid, ev->tid, ev->cpu,
		       kind_names[ev->kind]);
	switch (ev->kind) {
	case COWTRACE_EV_FORK:
		n += scnprintf(buf + n, size - n,
			       " child=%u vmas=%u ptes=%llu wrprotected=%llu%s",
			       ev->child_pid, ev->fork_vmas, ev->fork_ptes,
			       ev->fork_wrprotected,
			       ev->flags & COWTRACE_EVF_VFORK ? " vfork" : "");
		break;
	case COWTRACE_EV_EXIT:
		break;
	default:
		n += scnprintf(buf + n, size - n,
			       " addr=0x%llx pfn=0x%llx->0x%llx%s%s%s%s",
			       ev->address, ev->old_pfn, ev->new_pfn,
			       ev->flags & COWTRACE_EVF_WRITE ? " write" : "",
			       ev->flags & COWTRACE_EVF_PMD ? " pmd" : "",
			       ev->flags & COWTRACE_EVF_FILE ? " file" : "",
			       ev->flags & COWTRACE_EVF_UNSHARE ? " unshare" :
								  "");
	}
	n += scnprintf(buf + n, size - n, "\n");
	return n;
}

/*
 * Hand out what is ready, under the reader's lock: the rest of the line, then
 * as many events as are queued and fit.  Never sleeps for an event: bytes
 * read, 0 if none is queued, or -EFAULT.
 */
static ssize_t events_take(struct events_reader *r, struct iov_iter *to)
{
	struct cowtrace_event ev;
	size_t done = 0, chunk;

	lockdep_assert_held(&r->lock);
	while (iov_iter_count(to)) {
		if (r->off == r->len) {
			if (!cowtrace_ring_pop(&ev, 1))
				break;
			/* a fresh session restarts seq at 1 */
			if (ev.seq <= r->last_seq)
				r->last_seq = 0;
			r->len = format_event(r->line, sizeof(r->line),
					      ev.seq - r->last_seq - 1, &ev);
			r->off = 0;
			r->last_seq = ev.seq;
		}
		chunk = min(iov_iter_count(to), r->len - r->off);
		chunk = copy_to_iter(r->line + r->off, chunk, to);
		r->off += chunk;
		done += chunk;
		if (!chunk)
			return done ? done : -EFAULT;
	}
	return done;
}

/*
 * Blocks for the first line only, and without the reader's lock, so that a
 * read waiting for events never holds up another read of the same file.  EOF
 * once the session has stopped and the ring is drained.
 *
 * A non-blocking read (O_NONBLOCK, or IOCB_NOWAIT: io_uring's first try, as
 * the file is FMODE_NOWAIT) sleeps for nothing, the reader's lock included,
 * and says -EAGAIN exactly when poll says not readable.  io_uring relies on
 * that: it retries a read when poll says readable.  Before this file said
 * FMODE_NOWAIT, 6.1's io_uring armed poll for a read it would never issue
 * non-blocking, and re-ran that request in task work without end.
 */
static ssize_t events_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct events_reader *r = iocb->ki_filp->private_data;
	bool nonblock = (iocb->ki_flags & IOCB_NOWAIT) ||
			(iocb->ki_filp->f_flags & O_NONBLOCK);
	ssize_t ret;
	int err;

	if (!iov_iter_count(to))
		return 0;
	for (;;) {
		if (nonblock) {
			if (!mutex_trylock(&r->lock))
				return -EAGAIN;
		} else if (mutex_lock_interruptible(&r->lock)) {
			return -ERESTARTSYS;
		}
		ret = events_take(r, to);
		mutex_unlock(&r->lock);
		if (ret || cowtrace_ring_stopped())
			return ret;
		err = cowtrace_ring_wait(nonblock);
		if (err)
			return err;
	}
}

static __poll_t events_poll(struct file *file, poll_table *wait)
{
	return cowtrace_ring_poll(file, wait);
}

static int events_open(struct inode *inode, struct file *file)
{
	struct events_reader *r;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	mutex_init(&r->lock);
	file->private_data = r;
	file->f_mode |= FMODE_NOWAIT;
	return nonseekable_open(inode, file);
}

static int events_release(struct inode *inode, struct file *file)
{
	struct events_reader *r = file->private_data;

	mutex_destroy(&r->lock);
	kfree(r);
	return 0;
}

static const struct file_operations events_fops = {
	.owner = THIS_MODULE,
	.open = events_open,
	.read_iter = events_read_iter,
	.poll = events_poll,
	.release = events_release,
};

void cowtrace_events_init(struct dentry *dir)
{
	debugfs_create_file("trace", 0600, dir, NULL, &trace_fops);
	/*
	 * Unproxied: debugfs's full proxy forwards ->read, not ->read_iter,
	 * which io_uring needs to read without blocking.  Safe: .owner pins the
	 * module, and with it this file's state, while the file is open.
	 */
	debugfs_create_file_unsafe("events", 0400, dir, NULL, &events_fops);
}
