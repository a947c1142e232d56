// SPDX-License-Identifier: GPL-2.0
/* Taking snapshots: from the module's ioctl, or from procfs as a fallback. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "reserve.h"
#include "snapshot.h"

void ct_set_error(struct ct_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void ct_snapshot_free(struct ct_snapshot *s)
{
	free(s->vmas);
	free(s->names);
	free(s->pages);
	memset(s, 0, sizeof(*s));
}

/* Arrays this big are backed by transparent huge pages where allowed. */
#define HUGE_ARRAY_BYTES (4u << 20)
#define HUGE_PAGE_BYTES (2u << 20)

void *ct_alloc_big(size_t bytes)
{
	void *p;

	if (bytes < HUGE_ARRAY_BYTES)
		return malloc(bytes ? bytes : 1);
	/*
	 * A million page records are 32 MiB: touched first 4 KiB at a time,
	 * their page faults cost more than decoding them.  2 MiB aligned and
	 * advised, they fault a huge page at a time (THP "madvise" mode);
	 * the advice is only advice, so a failure changes nothing.
	 */
	if (posix_memalign(&p, HUGE_PAGE_BYTES, bytes))
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

struct cowtrace_page *ct_alloc_pages(size_t n)
{
	if (n > SIZE_MAX / sizeof(struct cowtrace_page))
		return NULL;
	return ct_alloc_big(n * sizeof(struct cowtrace_page));
}

static void *dup_or_null(const void *src, size_t len)
{
	void *p;

	if (!len)
		return NULL;
	p = malloc(len);
	if (p)
		memcpy(p, src, len);
	return p;
}

int ct_snapshot_copy(struct ct_snapshot *dst, const struct ct_snapshot *src)
{
	*dst = *src;
	dst->vmas = dup_or_null(src->vmas, src->nr_vmas * sizeof(*src->vmas));
	dst->names = dup_or_null(src->names, src->names_len);
	dst->pages = dup_or_null(src->pages, src->nr_pages * sizeof(*src->pages));
	if ((src->nr_vmas && !dst->vmas) || (src->names_len && !dst->names) ||
	    (src->nr_pages && !dst->pages)) {
		ct_snapshot_free(dst);
		return -1;
	}
	return 0;
}

const char *ct_vma_name(const struct ct_snapshot *s,
			const struct cowtrace_vma *v)
{
	if (!v->name_len || v->name_off >= s->names_len)
		return "";
	return s->names + v->name_off;
}

const struct cowtrace_vma *ct_find_vma(const struct ct_snapshot *s,
				       uint64_t addr)
{
	size_t lo = 0, hi = s->nr_vmas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < s->vmas[mid].start)
			hi = mid;
		else if (addr >= s->vmas[mid].end)
			lo = mid + 1;
		else
			return &s->vmas[mid];
	}
	return NULL;
}

size_t ct_first_page(const struct ct_snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nr_pages;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->pages[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct cowtrace_page *ct_find_page(const struct ct_snapshot *s,
					 uint64_t addr)
{
	size_t i = ct_first_page(s, addr);

	return i < s->nr_pages && s->pages[i].addr == addr ? &s->pages[i] : NULL;
}

/*
 * As fs/proc/task_mmu.c counts Rss: smaps_pte_entry() and smaps_pmd_entry()
 * account a present entry only if vm_normal_page() (_pmd()) finds its page,
 * which it does not for the zero page, the huge zero page and special PFN
 * maps, and account migration and device-private entries by their page;
 * swap entries go to Swap, and smaps_hugetlb_range() puts hugetlb pages in
 * Shared_Hugetlb/Private_Hugetlb only.  PG_PAGE is exactly "a struct page
 * was found" in both sources.
 */
int ct_page_is_resident(const struct cowtrace_page *r)
{
	if (r->flags & COWTRACE_PG_HUGETLB)
		return 0;
	if (r->flags & (COWTRACE_PTE_MIGRATION | COWTRACE_PTE_DEVICE))
		return 1;
	return (r->flags & (COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE | COWTRACE_PG_ZERO)) ==
	       (COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE);
}

int ct_page_is_file_page(const struct cowtrace_page *r)
{
	return (r->flags & (COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE | COWTRACE_PG_ANON)) ==
	       (COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int ct_self_file_pfns(struct ct_pfn_set *set, struct ct_error *err)
{
	struct ct_snapshot self;
	size_t n = 0;

	memset(set, 0, sizeof(*set));
	/* procfs, there for root with or without the module: the same PFNs */
	if (ct_snapshot_procfs(getpid(), 0, 1ull << 56, &self, err))
		return -1;
	set->pfn = malloc((self.nr_pages ? self.nr_pages : 1) * sizeof(*set->pfn));
	if (!set->pfn) {
		ct_snapshot_free(&self);
		ct_set_error(err, ENOMEM, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < self.nr_pages; i++)
		if (ct_page_is_file_page(&self.pages[i]))
			set->pfn[n++] = self.pages[i].pfn;
	ct_snapshot_free(&self);
	qsort(set->pfn, n, sizeof(*set->pfn), cmp_u64);
	set->n = n;
	return 0;
}

int ct_pfn_set_has(const struct ct_pfn_set *set, uint64_t pfn)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->pfn[mid] < pfn)
			lo = mid + 1;
		else if (set->pfn[mid] > pfn)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

void ct_pfn_set_free(struct ct_pfn_set *set)
{
	free(set->pfn);
	memset(set, 0, sizeof(*set));
}

/*
 * Whether RELEASE (uname -r) is older than MAJOR.MINOR.  Kernels before 5.19
 * have no PageAnonExclusive: no source can report it there, and kpageflags'
 * bit 34 is PG_mappedtodisk, which says nothing about anonymous pages.
 */
static int kernel_before(const char *release, int major, int minor)
{
	int ma, mi;

	if (sscanf(release, "%d.%d", &ma, &mi) != 2)
		return 0;
	return ma < major || (ma == major && mi < minor);
}

static void snapshot_init(struct ct_snapshot *s, pid_t pid, uint64_t start,
			  uint64_t end, enum ct_source source)
{
	struct timespec ts;
	struct utsname u;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->source = source;
	s->start = start;
	s->end = end;
	s->page_size = sysconf(_SC_PAGESIZE);
	clock_gettime(CLOCK_REALTIME, &ts);
	s->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (uname(&u) == 0)
		snprintf(s->kernel, sizeof(s->kernel), "%s", u.release);
	if (kernel_before(s->kernel, 5, 19))
		s->unavailable |= CT_UNAVAIL_ANON_EXCL;
}

int ct_module_available(void)
{
	return access(CT_CTL_PATH, F_OK) == 0;
}

/*
 * The lockdown level in force, "integrity" or "confidentiality", or NULL.
 * Lockdown (which Secure Boot turns on) makes debugfs refuse to open any
 * file that takes ioctl()s, such as ctl, with EPERM even for root.
 */
static const char *lockdown_level(void)
{
	static char line[128];
	char *open, *close;
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");

	if (!f)
		return NULL;
	open = fgets(line, sizeof(line), f) ? strchr(line, '[') : NULL;
	fclose(f);
	close = open ? strchr(open, ']') : NULL;
	if (!close || !strncmp(open, "[none]", 6))
		return NULL;
	*close = '\0';
	return open + 1;
}

const char *ct_module_unreachable(void)
{
	if (ct_module_available() || access("/sys/module/cowtrace", F_OK))
		return NULL;
	if (access("/sys/kernel/debug/cowtrace", F_OK) == 0)
		return NULL;
	if (geteuid() != 0)
		return "the cowtrace module is loaded, but only root can reach it through debugfs";
	return "the cowtrace module is loaded, but debugfs is not mounted: mount -t debugfs none /sys/kernel/debug";
}

int ct_open_ctl(struct ct_error *err)
{
	int fd = open(CT_CTL_PATH, O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT) {
		if (access("/sys/kernel/debug/cowtrace", F_OK) &&
		    access("/sys/kernel/debug", R_OK | X_OK))
			ct_set_error(err, errno,
				     "cannot see debugfs: run as root, and mount it with 'mount -t debugfs none /sys/kernel/debug'");
		else
			ct_set_error(err, errno,
				     "the cowtrace module is not loaded: load it with 'insmod module/cowtrace.ko' (or 'modprobe cowtrace' once installed)");
	} else if ((errno == EACCES || errno == EPERM) && geteuid() == 0 &&
		   lockdown_level()) {
		ct_set_error(err, errno,
			     "the kernel is locked down (%s; Secure Boot turns this on), and lockdown closes debugfs files that take ioctl()s, so the module cannot be used: --source procfs still works",
			     lockdown_level());
	} else if (errno == EACCES || errno == EPERM) {
		ct_set_error(err, errno,
			     "permission denied opening %s: cowtrace needs root (CAP_SYS_ADMIN)",
			     CT_CTL_PATH);
	} else {
		ct_set_error(err, errno, "cannot open %s: %s", CT_CTL_PATH,
			     strerror(errno));
	}
	return -1;
}

static void ioctl_error(struct ct_error *err, const char *what, pid_t pid)
{
	int e = errno;

	switch (e) {
	case ESRCH:
		ct_set_error(err, e,
			     "no such process: %d (it may have exited, or it is a kernel thread with no memory map)",
			     (int)pid);
		break;
	case EPERM:
		ct_set_error(err, e,
			     "%s: permission denied: cowtrace needs root (CAP_SYS_ADMIN)",
			     what);
		break;
	default:
		ct_set_error(err, e, "%s failed for pid %d: %s", what, (int)pid,
			     strerror(e));
	}
}

void ct_expand_run(struct cowtrace_page *pages, uint64_t n, uint64_t pfn_step,
		   uint64_t page_size)
{
	for (uint64_t k = 1; k < n; k++) {
		pages[k] = pages[k - 1];
		pages[k].addr += page_size;
		pages[k].pfn += pfn_step;
	}
}

/*
 * Append the pages of @n runs to s->pages, one record each: the in-memory
 * snapshot is per page whatever the module sent.
 */
static int expand_runs(struct ct_snapshot *s, size_t *pcap,
		       const struct cowtrace_page_run *runs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct cowtrace_page_run *r = &runs[i];

		if (ct_reserve((void **)&s->pages, pcap, s->nr_pages + r->nr_pages,
			    sizeof(*s->pages)))
			return -ENOMEM;
		s->pages[s->nr_pages] = r->first;
		ct_expand_run(&s->pages[s->nr_pages], r->nr_pages, r->pfn_step,
			      s->page_size);
		s->nr_pages += r->nr_pages;
	}
	return 0;
}

int ct_snapshot_module(pid_t pid, uint64_t start, uint64_t end,
		       struct ct_snapshot *s, struct ct_error *err)
{
	size_t vcap = 0, pcap = 0, ncap = 0;
	struct cowtrace_version ver = { .size = sizeof(ver) };
	struct cowtrace_page_run *runs = NULL;
	struct cowtrace_snapshot a;
	uint64_t next = start;
	int fd, ret = -1, runs_mapped = 0;
	/* per-call buffers: big enough that a typical process takes one call */
	enum { VMA_BATCH = 1024, PAGE_BATCH = 65536, NAMES_BATCH = 256 * 1024 };

	snapshot_init(s, pid, start, end, CT_SOURCE_MODULE);
	fd = ct_open_ctl(err);
	if (fd < 0)
		return -1;
	if (ioctl(fd, COWTRACE_IOC_VERSION, &ver)) {
		ioctl_error(err, "COWTRACE_IOC_VERSION", pid);
		goto out;
	}
	if (ver.abi_version != COWTRACE_ABI_VERSION) {
		ct_set_error(err, EPROTO,
			     "the loaded module speaks ABI %u, this tool ABI %u: rebuild and reload the module from this tree",
			     ver.abi_version, COWTRACE_ABI_VERSION);
		goto out;
	}
	/* a module from before the feature bit was honest counts pages */
	if (!(ver.features & COWTRACE_FEAT_PAGE_MAPCOUNT))
		s->unavailable |= CT_UNAVAIL_PAGE_MAPCOUNT;
	/*
	 * Runs are fewer bytes, and a buffer mapped from the module takes
	 * them with no copy at all; a module before either sends pages.
	 */
	if ((ver.features & COWTRACE_FEAT_RUNS) &&
	    ver.run_rec_size == sizeof(*runs)) {
		if (ver.features & COWTRACE_FEAT_MMAP) {
			runs = mmap(NULL, PAGE_BATCH * sizeof(*runs), PROT_READ,
				    MAP_SHARED, fd, 0);
			if (runs == MAP_FAILED)
				runs = NULL;
			else
				runs_mapped = 1;
		}
		if (!runs)
			runs = malloc(PAGE_BATCH * sizeof(*runs));
		if (!runs) {
			ct_set_error(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	s->mm.size = sizeof(s->mm);
	s->mm.pid = pid;
	if (ioctl(fd, COWTRACE_IOC_MM_INFO, &s->mm)) {
		ioctl_error(err, "COWTRACE_IOC_MM_INFO", pid);
		goto out;
	}
	do {
		if (ct_reserve((void **)&s->vmas, &vcap, s->nr_vmas + VMA_BATCH,
			    sizeof(*s->vmas)) ||
		    (!runs && ct_reserve((void **)&s->pages, &pcap,
				      s->nr_pages + PAGE_BATCH,
				      sizeof(*s->pages))) ||
		    ct_reserve((void **)&s->names, &ncap, s->names_len + NAMES_BATCH,
			    1)) {
			ct_set_error(err, ENOMEM, "out of memory");
			goto out;
		}
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.pid = pid;
		a.start = next;
		a.end = end;
		a.vmas = (uintptr_t)(s->vmas + s->nr_vmas);
		a.vma_cap = VMA_BATCH;
		if (runs_mapped) {
			a.flags = COWTRACE_SNAP_RUNS | COWTRACE_SNAP_MMAP;
		} else if (runs) {
			a.flags = COWTRACE_SNAP_RUNS;
			a.pages = (uintptr_t)runs;
		} else {
			a.pages = (uintptr_t)(s->pages + s->nr_pages);
		}
		a.page_cap = PAGE_BATCH;
		a.names = (uintptr_t)(s->names + s->names_len);
		a.names_cap = NAMES_BATCH;
		if (ioctl(fd, COWTRACE_IOC_SNAPSHOT, &a)) {
			ioctl_error(err, "COWTRACE_IOC_SNAPSHOT", pid);
			goto out;
		}
		for (uint32_t i = 0; i < a.vma_count; i++) {
			struct cowtrace_vma *v = &s->vmas[s->nr_vmas + i];

			if (v->name_len)
				v->name_off += s->names_len;
		}
		/* a resumed call repeats the VMA the previous one ended in */
		if (s->nr_vmas && a.vma_count &&
		    s->vmas[s->nr_vmas].start == s->vmas[s->nr_vmas - 1].start) {
			memmove(&s->vmas[s->nr_vmas], &s->vmas[s->nr_vmas + 1],
				(a.vma_count - 1) * sizeof(*s->vmas));
			a.vma_count--;
		}
		s->nr_vmas += a.vma_count;
		if (!runs) {
			s->nr_pages += a.page_count;
		} else if (expand_runs(s, &pcap, runs, a.page_count)) {
			ct_set_error(err, ENOMEM, "out of memory");
			goto out;
		}
		s->names_len += a.names_len;
		if (a.next <= next && a.next != end) {
			ct_set_error(err, EPROTO, "the module made no progress at %#" PRIx64,
				     next);
			goto out;
		}
		next = a.next;
	} while (next < end);
	ret = 0;
out:
	if (runs_mapped)
		munmap(runs, PAGE_BATCH * sizeof(*runs));
	else
		free(runs);
	close(fd);
	return ret;
}

/* ---- procfs fallback ---------------------------------------------------- */

#define PM_PFN_MASK	((1ull << 55) - 1)
#define PM_SOFT_DIRTY	(1ull << 55)
#define PM_EXCLUSIVE	(1ull << 56)
#define PM_UFFD_WP	(1ull << 57)
#define PM_FILE		(1ull << 61)
#define PM_SWAP		(1ull << 62)
#define PM_PRESENT	(1ull << 63)

#define KPF_LRU		5
#define KPF_ANON	12
#define KPF_SWAPCACHE	13
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE	17
#define KPF_KSM		21
#define KPF_THP		22
#define KPF_ZERO_PAGE	24
#define KPF_MLOCKED	33
#define KPF_ANON_EXCLUSIVE 34	/* PG_mappedtodisk, reused for anon pages */

/* VmFlags mnemonics of /proc/PID/smaps, as fs/proc/task_mmu.c prints them. */
static uint32_t smaps_vmflags(const char *line)
{
	static const struct {
		char mn[3];
		uint32_t flag;
	} map[] = {
		{ "rd", COWTRACE_VMA_READ },	   { "wr", COWTRACE_VMA_WRITE },
		{ "ex", COWTRACE_VMA_EXEC },	   { "sh", COWTRACE_VMA_SHARED },
		{ "mr", COWTRACE_VMA_MAYREAD },	   { "mw", COWTRACE_VMA_MAYWRITE },
		{ "me", COWTRACE_VMA_MAYEXEC },	   { "ms", COWTRACE_VMA_MAYSHARE },
		{ "dc", COWTRACE_VMA_DONTCOPY },   { "wf", COWTRACE_VMA_WIPEONFORK },
		{ "hg", COWTRACE_VMA_HUGEPAGE },   { "nh", COWTRACE_VMA_NOHUGEPAGE },
		{ "mg", COWTRACE_VMA_MERGEABLE },  { "lo", COWTRACE_VMA_LOCKED },
		{ "pf", COWTRACE_VMA_PFNMAP },	   { "io", COWTRACE_VMA_IO },
		{ "ht", COWTRACE_VMA_HUGETLB },	   { "mm", COWTRACE_VMA_MIXEDMAP },
		{ "gd", COWTRACE_VMA_GROWSDOWN },  { "sd", COWTRACE_VMA_SOFTDIRTY },
		{ "um", COWTRACE_VMA_UFFD },	   { "uw", COWTRACE_VMA_UFFD },
		{ "ui", COWTRACE_VMA_UFFD },
	};
	uint32_t flags = 0;

	for (const char *p = line; *p; p++) {
		if (p[0] == ' ' || p[0] == '\n' || !p[1])
			continue;
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (p[0] == map[i].mn[0] && p[1] == map[i].mn[1] &&
			    (p[2] == ' ' || p[2] == '\n' || !p[2]))
				flags |= map[i].flag;
		while (*p && *p != ' ')
			p++;
		if (!*p)
			break;
	}
	if ((flags & (COWTRACE_VMA_SHARED | COWTRACE_VMA_MAYWRITE)) ==
	    COWTRACE_VMA_MAYWRITE)
		flags |= COWTRACE_VMA_COW;
	return flags;
}

static uint32_t backing_of(const char *name)
{
	if (!*name)
		return COWTRACE_BACKING_ANON;
	if (!strcmp(name, "[heap]"))
		return COWTRACE_BACKING_HEAP;
	if (!strcmp(name, "[stack]"))
		return COWTRACE_BACKING_STACK;
	if (!strncmp(name, "[anon:", 6))
		return COWTRACE_BACKING_ANON_NAMED;
	if (name[0] == '[')
		return COWTRACE_BACKING_SPECIAL;
	return COWTRACE_BACKING_FILE;
}

static int read_smaps(pid_t pid, uint64_t start, uint64_t end,
		      struct ct_snapshot *s, struct ct_error *err)
{
	size_t vcap = 0, ncap = 0, len = 0;
	char path[64], *line = NULL;
	struct cowtrace_vma *v = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			ct_set_error(err, ESRCH, "no such process: %d", (int)pid);
		else
			ct_set_error(err, errno, "cannot read %s: %s (run as root)",
				     path, strerror(errno));
		return -1;
	}
	while (getline(&line, &len, f) > 0) {
		unsigned long long lo, hi, off, ino;
		unsigned int maj, min;
		char perms[5];
		int n = 0;

		if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &lo, &hi,
			   perms, &off, &maj, &min, &ino, &n) >= 7 && n) {
			char *name = line + n;
			size_t nl;

			v = NULL;
			if (hi <= start || lo >= end)
				continue;
			name[strcspn(name, "\n")] = 0;
			nl = strlen(name);
			if (ct_reserve((void **)&s->vmas, &vcap, s->nr_vmas + 1,
				    sizeof(*v)) ||
			    ct_reserve((void **)&s->names, &ncap,
				    s->names_len + nl + 1, 1))
				goto nomem;
			v = &s->vmas[s->nr_vmas++];
			memset(v, 0, sizeof(*v));
			v->start = lo;
			v->end = hi;
			v->pgoff = off / s->page_size;
			v->ino = ino;
			v->dev = makedev(maj, min);
			v->backing = backing_of(name);
			if (nl) {
				memcpy(s->names + s->names_len, name, nl + 1);
				v->name_off = s->names_len;
				v->name_len = nl;
				s->names_len += nl + 1;
			}
		} else if (v && !strncmp(line, "VmFlags:", 8)) {
			v->flags = smaps_vmflags(line + 8);
		} else if (v && !strncmp(line, "Anonymous:", 10)) {
			unsigned long kb = strtoul(line + 10, NULL, 10);

			/* the best procfs can say about anon_vma */
			if (kb)
				v->flags |= COWTRACE_VMA_ANON_VMA;
		}
	}
	free(line);
	fclose(f);
	return 0;
nomem:
	free(line);
	fclose(f);
	ct_set_error(err, ENOMEM, "out of memory");
	return -1;
}

static int pread_u64(int fd, uint64_t index, uint64_t *val)
{
	return pread(fd, val, 8, index * 8) == 8 ? 0 : -1;
}

/*
 * 6.9 to at least 6.12 set KPF_KSM on every anonymous page: stable_page_flags()
 * tests mapping & PAGE_MAPPING_KSM, and that mask includes PAGE_MAPPING_ANON
 * (newer kernels compare the flag bits for equality).  Ask the running kernel:
 * a page this process just wrote to is anonymous and cannot be KSM.
 */
static int kpageflags_ksm_reliable(int kflags, long page_size)
{
	static int answer = -1;
	uint64_t e = 0, kf = 0;
	volatile char *p;
	int pm;

	if (answer >= 0)
		return answer;
	answer = 0;
	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return answer;
	*p = 1;
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm >= 0 && !pread_u64(pm, (uintptr_t)p / page_size, &e) &&
	    (e & PM_PRESENT) && !pread_u64(kflags, e & PM_PFN_MASK, &kf) &&
	    (kf & (1ull << KPF_ANON)))
		answer = !(kf & (1ull << KPF_KSM));
	if (pm >= 0)
		close(pm);
	munmap((void *)p, page_size);
	return answer;
}

/*
 * Whether kpagecount gives a large folio's pages their folio's average
 * (6.15+ with CONFIG_NO_PAGE_MAPCOUNT) rather than each page's own count.
 * Ask the running kernel: fault in a THP, unmap its first page, and read
 * that page's count.  Counted per page it is 0; the average of 511 mapped
 * pages in 512 rounds to 1.  No THP to be had (THP off, memory too
 * fragmented), or a folio split before it was read: the kernel's config
 * file decides, and without one, per page (what every Debian kernel does).
 */
static int kpagecount_probe(int kcount, int kflags, long page_size)
{
	const size_t huge = 2UL << 20;
	uint64_t e = 0, kf = 0, cnt = 0, pfn;
	int pm, answer = -1;
	char *map, *p;

	map = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -1;
	p = (char *)(((uintptr_t)map + huge - 1) & ~(huge - 1));
	madvise(p, huge, MADV_HUGEPAGE);
	*(volatile char *)(p + page_size) = 1;
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0 || pread_u64(pm, (uintptr_t)p / page_size + 1, &e) ||
	    !(e & PM_PRESENT))
		goto out;
	/* the page written is a THP's second, the one before it its head */
	pfn = (e & PM_PFN_MASK) - 1;
	if (pread_u64(kflags, pfn + 1, &kf) || !(kf & (1ull << KPF_THP)) ||
	    !(kf & (1ull << KPF_COMPOUND_TAIL)) ||
	    pread_u64(kflags, pfn, &kf) || !(kf & (1ull << KPF_COMPOUND_HEAD)) ||
	    madvise(p, page_size, MADV_DONTNEED) ||
	    pread_u64(kcount, pfn, &cnt) || pread_u64(kflags, pfn, &kf) ||
	    !(kf & (1ull << KPF_COMPOUND_HEAD)))
		goto out;
	answer = cnt != 0;
out:
	if (pm >= 0)
		close(pm);
	munmap(map, 2 * huge);
	return answer;
}

/* CONFIG_NO_PAGE_MAPCOUNT=y in /boot/config-RELEASE, as Debian installs it */
static int config_no_page_mapcount(const char *release)
{
	char path[128], line[256];
	int answer = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/boot/config-%s", release);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!answer && fgets(line, sizeof(line), f))
		answer = !strcmp(line, "CONFIG_NO_PAGE_MAPCOUNT=y\n");
	fclose(f);
	return answer;
}

static int kpagecount_is_average(int kcount, int kflags,
				 const struct ct_snapshot *s)
{
	static int answer = -1;

	if (answer < 0)
		answer = kpagecount_probe(kcount, kflags, s->page_size);
	if (answer < 0)
		answer = config_no_page_mapcount(s->kernel);
	return answer;
}

int ct_mapcount_is_average(const struct ct_snapshot *s,
			   const struct cowtrace_page *r)
{
	return (s->unavailable & CT_UNAVAIL_PAGE_MAPCOUNT) &&
	       (r->flags & COWTRACE_PG_PAGE) && (r->flags & COWTRACE_PG_THP);
}

/*
 * task->comm, as the module's MM_INFO gives it: /proc/PID/comm is the
 * same string with a newline.  Left empty if the process is gone.
 */
static void read_comm(pid_t pid, char comm[COWTRACE_COMM_LEN])
{
	char path[64], buf[COWTRACE_COMM_LEN + 1];
	size_t len;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	len = strcspn(buf, "\n");
	if (len > COWTRACE_COMM_LEN - 1)
		len = COWTRACE_COMM_LEN - 1;
	memcpy(comm, buf, len);
	comm[len] = 0;
}

int ct_snapshot_procfs(pid_t pid, uint64_t start, uint64_t end,
		       struct ct_snapshot *s, struct ct_error *err)
{
	int pm = -1, kcount = -1, kflags = -1, ret = -1;
	size_t pcap = 0;
	uint64_t *buf = NULL;
	char path[64];
	enum { BATCH = 4096 };

	snapshot_init(s, pid, start, end, CT_SOURCE_PROCFS);
	s->unavailable |= CT_UNAVAIL_WRITE | CT_UNAVAIL_DIRTY | CT_UNAVAIL_YOUNG |
			 CT_UNAVAIL_REFCOUNT | CT_UNAVAIL_FOLIO_MAPCOUNT |
			 CT_UNAVAIL_PTE_MISC | CT_UNAVAIL_PAGE_MISC;
	s->mm.pid = pid;
	if (read_smaps(pid, start, end, s, err))
		return -1;
	read_comm(pid, s->mm.comm);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	kcount = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	kflags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (pm < 0 || kcount < 0 || kflags < 0) {
		ct_set_error(err, errno,
			     "cannot open pagemap/kpagecount/kpageflags: %s (the procfs fallback needs root)",
			     strerror(errno));
		goto out;
	}
	if (!kpageflags_ksm_reliable(kflags, s->page_size))
		s->unavailable |= CT_UNAVAIL_KSM;
	if (kpagecount_is_average(kcount, kflags, s))
		s->unavailable |= CT_UNAVAIL_PAGE_MAPCOUNT;
	buf = malloc(BATCH * sizeof(*buf));
	if (!buf)
		goto nomem;
	for (size_t i = 0; i < s->nr_vmas; i++) {
		const struct cowtrace_vma *v = &s->vmas[i];
		uint64_t lo = v->start > start ? v->start : start;
		uint64_t hi = v->end < end ? v->end : end;

		for (uint64_t a = lo; a < hi; a += (uint64_t)BATCH * s->page_size) {
			uint64_t n = (hi - a) / s->page_size;
			ssize_t got;

			if (n > BATCH)
				n = BATCH;
			got = pread(pm, buf, n * 8, a / s->page_size * 8);
			if (got != (ssize_t)(n * 8)) {
				ct_set_error(err, errno, "reading %s failed: %s",
					     path, strerror(errno));
				goto out;
			}
			for (uint64_t j = 0; j < n; j++) {
				uint64_t e = buf[j], pfn, cnt = 0, kf = 0;
				struct cowtrace_page *r;

				if (!(e & (PM_PRESENT | PM_SWAP)))
					continue;
				if (ct_reserve((void **)&s->pages, &pcap,
					    s->nr_pages + 1, sizeof(*r)))
					goto nomem;
				r = &s->pages[s->nr_pages++];
				memset(r, 0, sizeof(*r));
				r->addr = a + j * s->page_size;
				if (e & PM_SOFT_DIRTY)
					r->flags |= COWTRACE_PTE_SOFT_DIRTY;
				if (e & PM_UFFD_WP)
					r->flags |= COWTRACE_PTE_UFFD_WP;
				if (e & PM_SWAP) {
					r->flags |= COWTRACE_PTE_SWAP;
					r->swap_type = e & 0x1f;
					r->pfn = (e & PM_PFN_MASK) >> 5;
					continue;
				}
				r->flags |= COWTRACE_PTE_PRESENT;
				pfn = e & PM_PFN_MASK;
				r->pfn = pfn;
				if (pread_u64(kcount, pfn, &cnt) ||
				    pread_u64(kflags, pfn, &kf))
					continue;	/* no struct page */
				r->mapcount = cnt;
				if (kf & (1ull << KPF_ZERO_PAGE)) {
					r->flags |= COWTRACE_PG_ZERO;
					if (kf & (1ull << KPF_THP))
						r->flags |= COWTRACE_PG_THP;
					r->mapcount = 0;
					continue;
				}
				/* pagemap only says "file" for pages with a struct page */
				if (kf & (1ull << KPF_ANON) || e & PM_FILE)
					r->flags |= COWTRACE_PG_PAGE;
				if (kf & (1ull << KPF_ANON)) {
					r->flags |= COWTRACE_PG_ANON;
					if (kf & (1ull << KPF_KSM) &&
					    !(s->unavailable & CT_UNAVAIL_KSM))
						r->flags |= COWTRACE_PG_KSM;
					else if (kf & (1ull << KPF_ANON_EXCLUSIVE) &&
						 !(s->unavailable & CT_UNAVAIL_ANON_EXCL))
						r->flags |= COWTRACE_PG_ANON_EXCL;
				}
				if (kf & (1ull << KPF_THP))
					r->flags |= COWTRACE_PG_THP;
				if (kf & (1ull << KPF_HUGE))
					r->flags |= COWTRACE_PG_HUGETLB;
				if (kf & (1ull << KPF_COMPOUND_HEAD))
					r->flags |= COWTRACE_PG_HEAD;
				if (kf & (1ull << KPF_COMPOUND_TAIL))
					r->flags |= COWTRACE_PG_TAIL;
				if (kf & (1ull << KPF_SWAPCACHE))
					r->flags |= COWTRACE_PG_SWAPCACHE;
				if (kf & (1ull << KPF_LRU))
					r->flags |= COWTRACE_PG_LRU;
				if (kf & (1ull << KPF_MLOCKED))
					r->flags |= COWTRACE_PG_MLOCKED;
			}
		}
	}
	ret = 0;
	goto out;
nomem:
	ct_set_error(err, ENOMEM, "out of memory");
out:
	free(buf);
	if (pm >= 0)
		close(pm);
	if (kcount >= 0)
		close(kcount);
	if (kflags >= 0)
		close(kflags);
	return ret;
}

int ct_snapshot_take(pid_t pid, uint64_t start, uint64_t end,
		     struct ct_snapshot *s, struct ct_error *err)
{
	const char *why = ct_module_unreachable();

	if (ct_module_available())
		return ct_snapshot_module(pid, start, end, s, err);
	if (why)
		fprintf(stderr, "cowtrace: %s (reading procfs meanwhile)\n", why);
	return ct_snapshot_procfs(pid, start, end, s, err);
}
