// SPDX-License-Identifier: GPL-2.0
/*
 * The generator of fuzz_gen.h.  The order of rnd() calls is the order of the
 * fields in each table: a seed makes the same calls as long as the tables
 * stay as they are.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_gen.h"
#include "guest_util.h"

#define BIG (64 * PAGE)		/* the valid buffers */
#define NR(a) (sizeof(a) / sizeof((a)[0]))

uint64_t rng_state;

uint64_t rnd_r(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

uint64_t rnd(void)
{
	return rnd_r(&rng_state);
}

/* Every test prints its seed; COWTRACE_FUZZ_SEED=0x... replays a run. */
void seed_rng(void)
{
	const char *seed = getenv("COWTRACE_FUZZ_SEED");

	rng_state = seed ? strtoull(seed, NULL, 0) : 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	printf("# seed %#llx (COWTRACE_FUZZ_SEED replays it)\n", (unsigned long long)rng_state);
}

static uint64_t pick(const uint64_t *v, size_t n)
{
	return v[rnd() % n];
}

/* Memory to point at: valid, and every way a pointer can be wrong. */
static struct {
	char *valid;		/* BIG bytes, writable */
	char *readonly;		/* PAGE bytes, PROT_READ */
	char *unmapped;		/* was mapped, now is not */
	char *edge;		/* PAGE writable bytes, then a PROT_NONE page */
} mem;

static pid_t live_pid, gone_pid;

void fuzz_gen_init(pid_t live, pid_t gone)
{
	char *g;

	mem.valid = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.readonly = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem.unmapped = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(mem.valid != MAP_FAILED && mem.readonly != MAP_FAILED &&
		    mem.unmapped != MAP_FAILED && g != MAP_FAILED);
	munmap(mem.unmapped, PAGE);
	mprotect(g + PAGE, PAGE, PROT_NONE);
	mem.edge = g;
	live_pid = live;
	gone_pid = gone;
}

uint64_t fuzz_any_pointer(void)
{
	uint64_t v[] = {
		0,
		(uintptr_t)mem.valid,
		(uintptr_t)mem.valid,
		(uintptr_t)mem.readonly,
		(uintptr_t)mem.unmapped,
		(uintptr_t)mem.edge + PAGE - 64,	/* runs into the guard page */
		(uintptr_t)mem.valid + 1,		/* unaligned */
		0xffffffff81000000ull,			/* kernel text */
		0xffff888000000000ull,			/* the direct map */
		0x8000000000000000ull,			/* non-canonical */
		~0ull,
	};

	return pick(v, NR(v));
}

static uint64_t any_capacity(void)
{
	uint64_t v[] = { 0, 1, 2, 7, 64, BIG / 32, BIG / 32 + 1, 4096, 65536, 0x7fffffff, ~0u };

	return pick(v, NR(v));
}

static uint64_t any_address(void)
{
	uint64_t v[] = {
		0, PAGE, 0x400000, (uintptr_t)mem.valid, (uintptr_t)mem.valid + 17,
		0x7ffffffff000ull, 0x800000000000ull, 0xffffffffffff0000ull, ~0ull,
		rnd() & ~(PAGE - 1), rnd(),
	};

	return pick(v, NR(v));
}

static uint32_t any_pid(void)
{
	uint64_t v[] = { 0, 1, 2 /* kthreadd */, (uint32_t)getpid(), (uint32_t)live_pid,
			 (uint32_t)gone_pid, 0x7fffffff, ~0u, rnd() & 0xffff };

	return (uint32_t)pick(v, NR(v));
}

static uint64_t any_size(uint64_t real)
{
	uint64_t v[] = { real, real, real, 0, 8, real - 8, real + 8, real + 4096,
			 1ull << 40, rnd() & 0xfff };

	return pick(v, NR(v));
}

static const unsigned long ours[] = {
	COWTRACE_IOC_VERSION, COWTRACE_IOC_MM_INFO, COWTRACE_IOC_SNAPSHOT,
	COWTRACE_IOC_TRACE_START, COWTRACE_IOC_TRACE_READ, COWTRACE_IOC_TRACE_STOP,
};

unsigned long fuzz_our_command(void)
{
	return ours[rnd() % NR(ours)];
}

/* how 0 to 3 changes one part of the word; anything else leaves it */
static unsigned long mangle(unsigned long cmd, unsigned int how)
{
	switch (how) {
	case 0:
		return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), rnd() & 0xff, _IOC_SIZE(cmd));
	case 1:
		return _IOC(rnd() & 3, _IOC_TYPE(cmd), _IOC_NR(cmd), _IOC_SIZE(cmd));
	case 2:
		return _IOC(_IOC_DIR(cmd), rnd() & 0xff, _IOC_NR(cmd), _IOC_SIZE(cmd));
	case 3:
		return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), rnd() & 0x3fff);
	}
	return cmd;
}

unsigned long fuzz_mangle_command(unsigned long cmd)
{
	return mangle(cmd, (unsigned int)(rnd() % 4));
}

/* ---- the argument structs, field by field ---- */

enum kind {
	K_SIZE,		/* the struct's size: mostly right, or near it, or absurd */
	K_RARE,		/* must be 0 (flags, reserved): 0, or now and then junk */
	K_PID,
	K_SNAP_FLAGS,	/* per-page records or runs, copied or mapped, or junk */
	K_START_FLAGS,
	K_READ_FLAGS,	/* blocking reads are interrupted by the wake timer: EINTR */
	K_ADDRESS,
	K_END,		/* follows its start: a few pages on, or anywhere */
	K_POINTER,
	K_PAGES,	/* the page buffer: often none when the output is mapped */
	K_CAP,
	K_NAMES_CAP,
};

struct field {
	unsigned short off, width;
	enum kind kind;
};

struct layout {
	size_t size;
	const struct field *fields;
	unsigned int nr;
};

#define F(type, member, kind) { offsetof(type, member), sizeof(((type *)0)->member), kind }

static const struct field version_fields[] = {
	F(struct cowtrace_version, size, K_SIZE),
};

static const struct field mm_info_fields[] = {
	F(struct cowtrace_mm_info, size, K_SIZE),
	F(struct cowtrace_mm_info, pid, K_PID),
	F(struct cowtrace_mm_info, flags, K_RARE),
};

static const struct field snapshot_fields[] = {
	F(struct cowtrace_snapshot, size, K_SIZE),
	F(struct cowtrace_snapshot, flags, K_SNAP_FLAGS),
	F(struct cowtrace_snapshot, pid, K_PID),
	F(struct cowtrace_snapshot, reserved, K_RARE),
	F(struct cowtrace_snapshot, start, K_ADDRESS),
	F(struct cowtrace_snapshot, end, K_END),
	F(struct cowtrace_snapshot, vmas, K_POINTER),
	F(struct cowtrace_snapshot, pages, K_PAGES),
	F(struct cowtrace_snapshot, names, K_POINTER),
	F(struct cowtrace_snapshot, vma_cap, K_CAP),
	F(struct cowtrace_snapshot, page_cap, K_CAP),
	F(struct cowtrace_snapshot, names_cap, K_NAMES_CAP),
};

static const struct field trace_start_fields[] = {
	F(struct cowtrace_trace_start, size, K_SIZE),
	F(struct cowtrace_trace_start, flags, K_START_FLAGS),
	F(struct cowtrace_trace_start, pid, K_PID),
	F(struct cowtrace_trace_start, reserved, K_RARE),
};

static const struct field trace_read_fields[] = {
	F(struct cowtrace_trace_read, size, K_SIZE),
	F(struct cowtrace_trace_read, flags, K_READ_FLAGS),
	F(struct cowtrace_trace_read, events, K_POINTER),
	F(struct cowtrace_trace_read, cap, K_CAP),
	F(struct cowtrace_trace_read, reserved, K_RARE),
};

static const struct field trace_stop_fields[] = {
	F(struct cowtrace_trace_stop, size, K_SIZE),
	F(struct cowtrace_trace_stop, flags, K_RARE),
};

#define L(type, fields) { sizeof(type), fields, NR(fields) }

/* indexed by the command's nr */
static const struct layout layouts[] = {
	L(struct cowtrace_version, version_fields),
	L(struct cowtrace_mm_info, mm_info_fields),
	L(struct cowtrace_snapshot, snapshot_fields),
	L(struct cowtrace_trace_start, trace_start_fields),
	L(struct cowtrace_trace_read, trace_read_fields),
	L(struct cowtrace_trace_stop, trace_stop_fields),
};

static const struct field *field_of(const struct fuzz_call *c, unsigned int i)
{
	return &layouts[c->layout].fields[i];
}

unsigned int fuzz_nr_fields(unsigned int layout)
{
	return layout < NR(layouts) ? layouts[layout].nr : 0;
}

size_t fuzz_struct_bytes(unsigned int layout)
{
	return layout < NR(layouts) ? layouts[layout].size : sizeof(((struct fuzz_call *)0)->arg);
}

uint64_t fuzz_get_field(const struct fuzz_call *c, unsigned int i)
{
	const struct field *f = field_of(c, i);
	const char *p = (const char *)c->arg + f->off;
	uint32_t v32;
	uint64_t v64;

	if (f->width == 4) {
		memcpy(&v32, p, 4);
		return v32;
	}
	memcpy(&v64, p, 8);
	return v64;
}

void fuzz_set_field(struct fuzz_call *c, unsigned int i, uint64_t v)
{
	const struct field *f = field_of(c, i);
	char *p = (char *)c->arg + f->off;
	uint32_t v32 = (uint32_t)v;

	if (f->width == 4)
		memcpy(p, &v32, 4);
	else
		memcpy(p, &v, 8);
}

/* The value of the snapshot field at off, for the fields that depend on one. */
static uint64_t snapshot_u64(const struct fuzz_call *c, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)c->arg + off, 8);
	return v;
}

static uint64_t snap_flags(void)
{
	if (rnd() % 4 == 0)
		return rnd();
	return (rnd() % 2 ? COWTRACE_SNAP_RUNS : 0) | (rnd() % 2 ? COWTRACE_SNAP_MMAP : 0);
}

static uint64_t end_after(uint64_t start)
{
	return rnd() % 3 ? start + (rnd() % 512) * PAGE : any_address();
}

static uint64_t pages_pointer(uint64_t flags)
{
	return (flags & COWTRACE_SNAP_MMAP) && rnd() % 4 ? 0 : fuzz_any_pointer();
}

static uint64_t value_of(const struct fuzz_call *c, enum kind kind)
{
	switch (kind) {
	case K_SIZE:
		return any_size(layouts[c->layout].size);
	case K_RARE:
		return rnd() % 4 ? 0 : rnd();
	case K_PID:
		return any_pid();
	case K_SNAP_FLAGS:
		return snap_flags();
	case K_START_FLAGS:
		return rnd() % 2 ? rnd() % 2 : rnd();
	case K_READ_FLAGS:
		return rnd() % 2 ? COWTRACE_READ_NONBLOCK : rnd() % 4;
	case K_ADDRESS:
		return any_address();
	case K_END:
		return end_after(snapshot_u64(c, offsetof(struct cowtrace_snapshot, start)));
	case K_POINTER:
		return fuzz_any_pointer();
	case K_PAGES:
		return pages_pointer(snapshot_u64(c, offsetof(struct cowtrace_snapshot, flags)));
	case K_CAP:
		return any_capacity();
	case K_NAMES_CAP:
		return rnd() % 2 ? 4096 : any_capacity();
	}
	return rnd();
}

void fuzz_gen_field(struct fuzz_call *c, unsigned int i)
{
	fuzz_set_field(c, i, value_of(c, field_of(c, i)->kind));
}

void fuzz_gen_call(struct fuzz_call *c)
{
	unsigned long cmd = fuzz_our_command();

	/* mostly ours; 4 in 10 with one part changed */
	c->cmd = mangle(cmd, (unsigned int)(rnd() % 10));
	c->layout = _IOC_NR(c->cmd);
	for (int i = 0; i < FUZZ_ARG_WORDS; i++)
		c->arg[i] = rnd() % 4 ? 0 : rnd();
	for (unsigned int i = 0; i < fuzz_nr_fields(c->layout); i++)
		fuzz_gen_field(c, i);
	/* the argument pointer itself, now and then */
	c->wild_argp = rnd() % 16 == 0;
	c->argp = c->wild_argp ? fuzz_any_pointer() : 0;
}
