// SPDX-License-Identifier: GPL-2.0
/*
 * The trace session: kprobes on fork, fault and exit, and what they saw.
 *
 * Fault outcomes are not inferred from which helper ran (do_wp_page's helpers
 * are inlined differently on every build).  Instead a kretprobe on the
 * exported, never-inlined handle_mm_fault() reads the page-table entry at
 * the faulting address before and after, and the event states what changed:
 * a write fault that leaves a new PFN writable copied the page; one that
 * leaves the same PFN writable reused it.  That is the definition of COW, so
 * it holds on every kernel.  Fork is seen the same way: copy_page_range()
 * runs once per VMA with both mms write-locked, and counting writable entries
 * of the parent before and after it is exactly what fork write-protected.
 *
 * Both reads are lockless, as GUP-fast reads page tables: interrupts off, so
 * no table can be freed under us (x86 frees them after an IPI or an RCU grace
 * period), and every entry read once.  That makes them safe even after
 * handle_mm_fault() has dropped mmap_lock (VM_FAULT_RETRY/COMPLETED).
 *
 * Session state machine (session_lock):
 *   IDLE --start--> TRACING --stop/close/rmmod--> STOPPED --start--> TRACING
 * Events stay readable in STOPPED until the next start.  Probes are
 * registered only while TRACING, so untraced processes pay nothing at all
 * outside a session, and one task_traced() check per fault during one.
 */
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>

#include "compat.h"
#include "cowtrace.h"

/*
 * The ring's capacity, read at each TRACE_START: 1 to 2^24 events (a ring
 * of 2^24 is 1.5 GiB of vmalloc), rounded up to a power of two.  Anything
 * else is refused with EINVAL, at insmod and at a write to the parameter:
 * above 2^31 the rounding would wrap to a ring of 0.
 */
#define RING_EVENTS_DEFAULT 65536
#define RING_EVENTS_MAX BIT(24)
static unsigned int ring_events = RING_EVENTS_DEFAULT;

/* Out of range or not a number, ERANGE included: EINVAL, as documented. */
static int ring_events_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, RING_EVENTS_MAX) ? -EINVAL : 0;
}

static const struct kernel_param_ops ring_events_ops = {
	.set = ring_events_set,
	.get = param_get_uint,
};

module_param_cb(ring_events, &ring_events_ops, &ring_events, 0644);
MODULE_PARM_DESC(ring_events,
		 "event ring capacity of a trace session, 1 to 16777216");

/*
 * The fault probe point.  A parameter so that the tests can name a function
 * no kernel has and see tracing refuse, naming it, rather than run blind.
 * Set at load time only (0444): root could otherwise move the kretprobe to
 * any function at all between two sessions.
 */
static char fault_symbol[KSYM_NAME_LEN] = "handle_mm_fault";
module_param_string(fault_symbol, fault_symbol, sizeof(fault_symbol), 0444);
MODULE_PARM_DESC(fault_symbol, "fault probe point (tests only; load time)");

/* Traced faults sleeping in handle_mm_fault() at once; beyond: counted lost */
#define FAULT_MAXACTIVE 512
/* Traced forks in flight at once */
#define FORK_SLOTS 32
/* Give up on an ancestry longer than this (a fork bomb, not a workload) */
#define MAX_ANCESTRY 128

static DEFINE_MUTEX(session_lock);
/* Written only with the probes unregistered, so handlers see them stable. */
static struct {
	struct pid *root; /* the traced thread group */
	struct pid_namespace *ns; /* pids in events are in this one */
	bool children;
	bool tracing;
	const void *owner; /* what started it: a file, or NULL */
	/* CLOCK_MONOTONIC and local_clock() read together at start */
	u64 mono_base, local_base;
} session;

/* ---------------------------------------------------------------------- */
/* Who is traced                                                           */

static bool task_traced(struct task_struct *task)
{
	struct task_struct *t = task;
	bool traced = false;
	int depth;

	rcu_read_lock();
	for (depth = 0; depth < MAX_ANCESTRY && t->pid; depth++) {
		if (task_tgid(t) == session.root) {
			traced = true;
			break;
		}
		if (!session.children)
			break;
		t = rcu_dereference(t->real_parent);
	}
	rcu_read_unlock();
	return traced;
}

/*
 * Every field is stored here, none left to a memset: a handler runs on every
 * traced fault, and under QEMU's TCG clearing 96 bytes with rep stos costs as
 * much as the stores.  A new field must be set here too (the size check says
 * so), or the ring would carry stack garbage to user space.
 */
static void event_init(struct cowtrace_event *ev, u16 kind)
{
	struct task_struct *task = current;

	BUILD_BUG_ON(sizeof(*ev) != 96);
	ev->seq = 0; /* the ring numbers it */
	/*
	 * CLOCK_MONOTONIC, but not read per event: where the clocksource is
	 * slow to read (the HPET of a VM without a stable TSC), ktime_get_ns()
	 * costs more than the rest of the probe.  local_clock(), which ftrace
	 * and perf stamp events with, is cheap everywhere; its advance since
	 * the session started is added to CLOCK_MONOTONIC as it was then.
	 */
	ev->time_ns = session.mono_base + (local_clock() - session.local_base);
	/* the initial namespace's numbers need no RCU walk through struct pid */
	if (session.ns == &init_pid_ns) {
		ev->pid = task->tgid;
		ev->tid = task->pid;
	} else {
		ev->pid = task_tgid_nr_ns(task, session.ns);
		ev->tid = task_pid_nr_ns(task, session.ns);
	}
	ev->cpu = raw_smp_processor_id();
	ev->kind = kind;
	ev->flags = 0;
	ev->address = 0;
	ev->old_pfn = 0;
	ev->new_pfn = 0;
	ev->child_pid = 0;
	ev->fork_vmas = 0;
	ev->fork_ptes = 0;
	ev->fork_wrprotected = 0;
	ev->vma_start = 0;
	ev->vma_end = 0;
}

/* ---------------------------------------------------------------------- */
/* Lockless page-table reads                                               */

/* The entry mapping one address, as the fault saw it. */
struct leaf {
	bool present;
	bool write;
	bool zero; /* the shared zero page, or the huge zero page */
	bool anon; /* an anonymous page */
	bool pmd; /* mapped by a PMD */
	bool ignore; /* NUMA hint or other entry we do not judge */
	unsigned long pfn; /* of the 4 KiB page at the address */
};

/*
 * The PMD entry for @addr, or NULL; interrupts are off.  The descent is the
 * walker's (cowtrace_pud_lookup()), which also says where the entry it
 * stopped at ends: *next, at most @end, is where a walk of [addr, end) goes
 * on, past a whole empty PGD, P4D or PUD entry at once.
 */
static pmd_t *lookup_pmd(struct mm_struct *mm, unsigned long addr,
			 unsigned long end, struct cowtrace_upper *u,
			 unsigned long *next)
{
	pud_t *pudp = cowtrace_pud_lookup(mm, addr, end, u, next);

	/* PUD leaves are hugetlb or DAX: not COW the way we judge it */
	if (!pudp || pud_none(u->pud) || !pud_present(u->pud) ||
	    pud_leaf(u->pud) || pud_bad(u->pud))
		return NULL;
	*next = pmd_addr_end(addr, end);
	return pmd_offset_lockless(pudp, u->pud, addr);
}

static bool pfn_is_anon(unsigned long pfn)
{
	return pfn_valid(pfn) && PageAnon(pfn_to_page(pfn));
}

static void read_leaf(struct mm_struct *mm, unsigned long addr, bool anon_vma,
		      struct leaf *l)
{
	unsigned long irqflags, next;
	struct cowtrace_upper u;
	pmd_t *pmdp, pmdval;
	pte_t pte;

	memset(l, 0, sizeof(*l));
	local_irq_save(irqflags);
	pmdp = lookup_pmd(mm, addr, addr + PAGE_SIZE, &u, &next);
	if (!pmdp)
		goto out;
	pmdval = cowtrace_pmdp_get(pmdp);
	if (pmd_none(pmdval) || !pmd_present(pmdval))
		goto out;
	if (pmd_leaf(pmdval)) {
		if (pmd_protnone(pmdval)) {
			l->ignore = true;
			goto out;
		}
		l->present = true;
		l->pmd = true;
		l->write = pmd_write(pmdval);
		l->pfn = pmd_pfn(pmdval) + ((addr & ~PMD_MASK) >> PAGE_SHIFT);
		l->anon = pfn_is_anon(pmd_pfn(pmdval));
		/* huge_zero_pfn is not exported; see walk.c */
		l->zero = anon_vma && !l->anon;
		goto out;
	}
	if (pmd_bad(pmdval))
		goto out;
	pte = ptep_get(pte_offset_kernel(&pmdval, addr));
	if (pte_none(pte))
		goto out;
	if (!pte_present(pte) || pte_protnone(pte)) {
		l->ignore = true; /* swap, migration, NUMA hint */
		goto out;
	}
	l->present = true;
	l->write = pte_write(pte);
	l->pfn = pte_pfn(pte);
	l->zero = is_zero_pfn(l->pfn);
	/*
	 * An anonymous VMA maps nothing but anonymous pages and the zero
	 * page, or raw PFNs (special, no struct page): no need to look.
	 */
	if (anon_vma)
		l->anon = !l->zero && !pte_special(pte);
	else
		l->anon = !l->zero && pfn_is_anon(l->pfn);
out:
	local_irq_restore(irqflags);
}

struct range_count {
	u64 present; /* 4 KiB pages mapped */
	u64 writable; /* of those, mapped writable */
	u64 steps; /* descents made: the cost, which KUnit bounds */
};

/*
 * Count [start, end) of @mm; both mms are write-locked by fork.  Interrupts
 * go off per page table, not for the whole VMA, so a big VMA costs latency
 * in slices of 512 entries.  It runs in kretprobe handlers, three times per
 * VMA of a fork, where nothing may sleep: it steps through the entries of
 * each PMD table that exists, and past each empty PGD, P4D or PUD entry in
 * one step (lookup_pmd()), so a multi-TiB MAP_NORESERVE reservation costs
 * what its few tables do, not a step per 2 MiB of it.
 */
static void count_range(struct mm_struct *mm, unsigned long start,
			unsigned long end, struct range_count *c)
{
	unsigned long addr, next, irqflags;

	memset(c, 0, sizeof(*c));
	for (addr = start; addr < end; addr = next) {
		struct cowtrace_upper u;
		unsigned long nr;
		pmd_t *pmdp, pmdval;
		pte_t *ptep;

		c->steps++;
		local_irq_save(irqflags);
		pmdp = lookup_pmd(mm, addr, end, &u, &next);
		if (!pmdp)
			goto next_table;
		pmdval = cowtrace_pmdp_get(pmdp);
		if (pmd_none(pmdval) || !pmd_present(pmdval))
			goto next_table;
		if (pmd_leaf(pmdval)) {
			nr = (next - addr) >> PAGE_SHIFT;
			c->present += nr;
			if (pmd_write(pmdval))
				c->writable += nr;
			goto next_table;
		}
		if (pmd_bad(pmdval))
			goto next_table;
		ptep = pte_offset_kernel(&pmdval, addr);
		for (; addr < next; addr += PAGE_SIZE, ptep++) {
			pte_t pte = ptep_get(ptep);

			if (!pte_present(pte))
				continue;
			c->present++;
			if (pte_write(pte))
				c->writable++;
		}
next_table:
		local_irq_restore(irqflags);
	}
}

/* ---------------------------------------------------------------------- */
/* Faults                                                                  */

struct fault_data {
	struct mm_struct *mm;
	unsigned long address;
	unsigned long vma_start, vma_end;
	unsigned int fault_flags;
	bool shared; /* VM_SHARED mapping */
	bool anon_vma; /* anonymous VMA (no vm_ops) */
	bool file_private; /* private file mapping: write faults copy */
	struct leaf before;
};

/* What an entry's change means; 0 when it is not an event. */
static u16 classify_fault(const struct fault_data *d, const struct leaf *a,
			  u16 *evflags)
{
	const struct leaf *b = &d->before;
	bool write = d->fault_flags & FAULT_FLAG_WRITE;

	if (b->ignore || a->ignore)
		return 0;
	if (write)
		*evflags |= COWTRACE_EVF_WRITE;
	if (a->pmd)
		*evflags |= COWTRACE_EVF_PMD;
	if (!b->present) {
		if (!a->present)
			return 0;
		if (d->anon_vma)
			return a->zero ? COWTRACE_EV_ANON_ZERO :
					 COWTRACE_EV_ANON_NEW;
		if (d->file_private && write && a->anon) {
			*evflags |= COWTRACE_EVF_FILE;
			return COWTRACE_EV_WP_COPY;
		}
		return 0; /* a file page mapped in: not COW */
	}
	if (b->write)
		return 0; /* spurious, or the accessed/dirty bit */
	if (!write) {
		/* FAULT_FLAG_UNSHARE: a read-only GUP pin breaks COW */
		if (a->present && a->pfn != b->pfn && a->anon) {
			*evflags |= COWTRACE_EVF_UNSHARE;
			return COWTRACE_EV_WP_COPY;
		}
		return 0;
	}
	if (!a->present || !a->write)
		return COWTRACE_EV_WP_OTHER;
	if (a->pfn == b->pfn)
		return d->shared ? COWTRACE_EV_WP_SHARED : COWTRACE_EV_WP_REUSE;
	if (b->zero)
		return COWTRACE_EV_WP_ZERO;
	if (!d->anon_vma && !b->anon)
		*evflags |= COWTRACE_EVF_FILE;
	return COWTRACE_EV_WP_COPY;
}

/* handle_mm_fault(vma, address, flags, regs) */
static int fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (void *)regs_get_kernel_argument(regs, 0);
	struct fault_data *d = (void *)ri->data;

	/* remote faults (GUP from another process) are not the target's own */
	if (vma->vm_mm != current->mm || !task_traced(current))
		return 1;
	d->mm = vma->vm_mm;
	d->address = regs_get_kernel_argument(regs, 1) & PAGE_MASK;
	d->fault_flags = regs_get_kernel_argument(regs, 2);
	d->vma_start = vma->vm_start;
	d->vma_end = vma->vm_end;
	d->shared = vma->vm_flags & VM_SHARED;
	d->anon_vma = vma_is_anonymous(vma);
	d->file_private = vma->vm_file && !d->shared;
	read_leaf(d->mm, d->address, d->anon_vma, &d->before);
	return 0;
}

static int fault_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fault_data *d = (void *)ri->data;
	vm_fault_t ret = (__force vm_fault_t)regs_return_value(regs);
	struct cowtrace_event ev;
	u16 kind, evflags = 0;
	struct leaf after;

	/* the fault is retried from the start, and seen again then */
	if (ret & VM_FAULT_RETRY)
		return 0;
	read_leaf(d->mm, d->address, d->anon_vma, &after);
	kind = classify_fault(d, &after, &evflags);
	if (!kind)
		return 0;
	event_init(&ev, kind);
	ev.flags = evflags;
	ev.address = d->address;
	ev.old_pfn = d->before.present ? d->before.pfn : 0;
	ev.new_pfn = after.present ? after.pfn : 0;
	ev.vma_start = d->vma_start;
	ev.vma_end = d->vma_end;
	cowtrace_ring_push(&ev);
	return 0;
}

static struct kretprobe fault_probe = {
	.entry_handler = fault_entry,
	.handler = fault_return,
	.data_size = sizeof(struct fault_data),
	.maxactive = FAULT_MAXACTIVE,
};

/* ---------------------------------------------------------------------- */
/* Fork                                                                    */

/* What one traced fork() has done so far, between kernel_clone's probes. */
struct fork_slot {
	struct task_struct *task; /* the parent; NULL: free */
	u32 vmas;
	u64 ptes;
	u64 wrprotected;
};

static DEFINE_SPINLOCK(fork_lock);
static struct fork_slot fork_slots[FORK_SLOTS];

static struct fork_slot *fork_slot_find(struct task_struct *task)
{
	int i;

	for (i = 0; i < FORK_SLOTS; i++)
		if (fork_slots[i].task == task)
			return &fork_slots[i];
	return NULL;
}

struct clone_data {
	u64 clone_flags;
	bool have_slot;
};

/* kernel_clone(struct kernel_clone_args *args) */
static int clone_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kernel_clone_args *args =
		(void *)regs_get_kernel_argument(regs, 0);
	struct clone_data *d = (void *)ri->data;
	struct fork_slot *slot;
	unsigned long flags;

	if ((args->flags & CLONE_THREAD) || !task_traced(current))
		return 1;
	d->clone_flags = args->flags;
	d->have_slot = false;
	if (d->clone_flags & CLONE_VM)
		return 0;
	spin_lock_irqsave(&fork_lock, flags);
	slot = fork_slot_find(NULL);
	if (slot) {
		memset(slot, 0, sizeof(*slot));
		slot->task = current;
		d->have_slot = true;
	}
	spin_unlock_irqrestore(&fork_lock, flags);
	return 0;
}

static int clone_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct clone_data *d = (void *)ri->data;
	long ret = regs_return_value(regs);
	struct fork_slot *slot = NULL;
	struct cowtrace_event ev;
	unsigned long flags;

	event_init(&ev, COWTRACE_EV_FORK);
	if (d->clone_flags & CLONE_VM)
		ev.flags |= COWTRACE_EVF_VFORK;
	if (d->have_slot) {
		spin_lock_irqsave(&fork_lock, flags);
		slot = fork_slot_find(current);
		if (slot) {
			ev.fork_vmas = slot->vmas;
			ev.fork_ptes = slot->ptes;
			ev.fork_wrprotected = slot->wrprotected;
			slot->task = NULL;
		}
		spin_unlock_irqrestore(&fork_lock, flags);
	}
	/*
	 * No slot was free, or none holds this task (which nothing does now,
	 * but a probe must not oops if a change ever lets it happen): the
	 * counts are unknown, so the event is lost.
	 */
	if (!slot && !(d->clone_flags & CLONE_VM)) {
		cowtrace_ring_add_lost(1);
		return 0;
	}
	if (ret <= 0)
		return 0; /* fork failed: it changed nothing that stays */
	rcu_read_lock();
	ev.child_pid = pid_nr_ns(find_vpid(ret), session.ns);
	rcu_read_unlock();
	cowtrace_ring_push(&ev);
	return 0;
}

static struct kretprobe clone_probe = {
	.kp.symbol_name = "kernel_clone",
	.entry_handler = clone_entry,
	.handler = clone_return,
	.data_size = sizeof(struct clone_data),
	.maxactive = FORK_SLOTS,
};

struct copy_data {
	struct mm_struct *src_mm, *dst_mm;
	unsigned long start, end;
	u64 writable_before;
};

/* copy_page_range(dst_vma, src_vma), once per VMA, both mms write-locked */
static int copy_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_area_struct *dst = (void *)regs_get_kernel_argument(regs, 0);
	struct vm_area_struct *src = (void *)regs_get_kernel_argument(regs, 1);
	struct copy_data *d = (void *)ri->data;
	struct range_count c;

	if (src->vm_mm != current->mm || !task_traced(current))
		return 1;
	d->src_mm = src->vm_mm;
	d->dst_mm = dst->vm_mm;
	d->start = src->vm_start;
	d->end = src->vm_end;
	count_range(d->src_mm, d->start, d->end, &c);
	d->writable_before = c.writable;
	return 0;
}

static int copy_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct copy_data *d = (void *)ri->data;
	struct range_count parent, child;
	struct fork_slot *slot;
	unsigned long flags;

	count_range(d->src_mm, d->start, d->end, &parent);
	count_range(d->dst_mm, d->start, d->end, &child);
	if (!child.present && parent.writable == d->writable_before)
		return 0;
	spin_lock_irqsave(&fork_lock, flags);
	slot = fork_slot_find(current);
	if (slot) {
		slot->vmas++;
		slot->ptes += child.present;
		slot->wrprotected += d->writable_before - parent.writable;
	}
	spin_unlock_irqrestore(&fork_lock, flags);
	return 0;
}

static struct kretprobe copy_probe = {
	.kp.symbol_name = "copy_page_range",
	.entry_handler = copy_entry,
	.handler = copy_return,
	.data_size = sizeof(struct copy_data),
	.maxactive = FORK_SLOTS,
};

/* ---------------------------------------------------------------------- */
/* Exit                                                                    */

static int exit_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct cowtrace_event ev;

	if (!task_traced(current))
		return 0;
	event_init(&ev, COWTRACE_EV_EXIT);
	cowtrace_ring_push(&ev);
	return 0;
}

static struct kprobe exit_probe = {
	.symbol_name = "do_exit",
	.pre_handler = exit_pre,
};

static struct kretprobe *const kretprobes[] = { &fault_probe, &clone_probe,
						&copy_probe };

/* ---------------------------------------------------------------------- */
/* Session                                                                 */

/* kprobe structs are reused across sessions: clear what registering set. */
static void reset_kprobe(struct kprobe *kp)
{
	const char *name = kp->symbol_name;
	kprobe_pre_handler_t pre = kp->pre_handler;

	memset(kp, 0, sizeof(*kp));
	kp->symbol_name = name;
	kp->pre_handler = pre;
}

static u64 probes_missed(void)
{
	u64 missed = exit_probe.nmissed;
	int i;

	for (i = 0; i < ARRAY_SIZE(kretprobes); i++)
		missed += kretprobes[i]->nmissed + kretprobes[i]->kp.nmissed;
	return missed;
}

static void unregister_all(void)
{
	unregister_kprobe(&exit_probe);
	unregister_kretprobes((struct kretprobe **)kretprobes,
			      ARRAY_SIZE(kretprobes));
	/* what the kretprobes could not catch is lost, and said so */
	cowtrace_ring_add_lost(probes_missed());
}

static int register_all(char *missing, size_t missing_len)
{
	const char *name;
	int i, err;

	reset_kprobe(&exit_probe);
	fault_probe.kp.symbol_name = fault_symbol;
	for (i = 0; i < ARRAY_SIZE(kretprobes); i++) {
		reset_kprobe(&kretprobes[i]->kp);
		kretprobes[i]->nmissed = 0;
	}
	for (i = 0; i < ARRAY_SIZE(kretprobes); i++) {
		name = kretprobes[i]->kp.symbol_name;
		err = register_kretprobe(kretprobes[i]);
		if (err)
			goto fail;
	}
	name = exit_probe.symbol_name;
	err = register_kprobe(&exit_probe);
	if (!err)
		return 0;
fail:
	while (--i >= 0)
		unregister_kretprobe(kretprobes[i]);
	/* a register call that failed left nothing registered */
	pr_err("cowtrace: cannot trace: probe on %s failed (%d)%s\n", name, err,
	       err == -ENOENT ? ": no such function in this kernel" : "");
	strscpy(missing, name, missing_len);
	if (err == -ENOENT || err == -EINVAL)
		return -ENOENT;
	return err;
}

int cowtrace_trace_start(pid_t nr, u64 flags, const void *owner, char *missing,
			 size_t missing_len)
{
	struct mm_struct *mm;
	struct pid *root;
	int err;

	if (!IS_ENABLED(CONFIG_KRETPROBES))
		return -EOPNOTSUPP;
	if (flags & ~COWTRACE_TRACE_ALL_FLAGS)
		return -EINVAL;
	/* a kernel thread or a zombie has no faults to trace: ESRCH, as documented */
	mm = cowtrace_get_mm(nr, NULL);
	if (IS_ERR(mm))
		return PTR_ERR(mm);
	mmput(mm);
	root = find_get_pid(nr);
	if (!root)
		return -ESRCH;
	if (!pid_has_task(root, PIDTYPE_TGID)) {
		put_pid(root);
		return -ESRCH; /* a thread id, or already reaped */
	}

	mutex_lock(&session_lock);
	err = -EBUSY;
	if (session.tracing)
		goto unlock;
	err = cowtrace_ring_reset(READ_ONCE(ring_events));
	if (err)
		goto unlock;
	put_pid(session.root);
	if (session.ns)
		put_pid_ns(session.ns);
	session.root = root;
	root = NULL;
	session.ns = get_pid_ns(task_active_pid_ns(current));
	session.children = flags & COWTRACE_TRACE_CHILDREN;
	session.owner = owner;
	memset(fork_slots, 0, sizeof(fork_slots));
	session.mono_base = ktime_get_ns();
	session.local_base = local_clock();
	cowtrace_ring_set_active(true);
	err = register_all(missing, missing_len);
	if (err)
		cowtrace_ring_set_active(false);
	else
		session.tracing = true;
unlock:
	mutex_unlock(&session_lock);
	put_pid(root);
	return err;
}

int cowtrace_trace_stop(const void *owner, bool any)
{
	int err = 0;

	mutex_lock(&session_lock);
	if (!session.tracing) {
		err = -ENOENT;
	} else if (!any && session.owner != owner) {
		err = -EPERM;
	} else {
		unregister_all();
		session.tracing = false;
		session.owner = NULL;
		cowtrace_ring_set_active(false);
	}
	mutex_unlock(&session_lock);
	return err;
}

void cowtrace_trace_status(struct cowtrace_trace_status *st)
{
	mutex_lock(&session_lock);
	st->tracing = session.tracing;
	st->children = session.children;
	st->pid = session.root ? pid_nr_ns(session.root, session.ns) : 0;
	st->missed = session.tracing ? probes_missed() : 0;
	mutex_unlock(&session_lock);
}

void cowtrace_trace_exit(void)
{
	cowtrace_trace_stop(NULL, true);
	put_pid(session.root);
	if (session.ns)
		put_pid_ns(session.ns);
	cowtrace_ring_free();
}

#ifdef COWTRACE_KUNIT
#include "../kunit/trace-kunit.h"
#endif
