// SPDX-License-Identifier: GPL-2.0
/* KCOV, and the module's text to keep its PCs by (kcov.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcov.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "guest_util.h"
#include "kcov.h"

#define KCOV_PATH "/sys/kernel/debug/kcov"
#define KPTR_RESTRICT "/proc/sys/kernel/kptr_restrict"
/* 2 MiB of PCs per call: a snapshot walk under KASAN runs through many */
#define AREA_WORDS (256ul << 10)
#define MAX_SECTIONS 128
/* a module's text is KiBs; more means the bounds were misread */
#define MAX_TEXT (64ul << 20)
/* __START_KERNEL: where _text is linked with the default CONFIG_PHYSICAL_START */
#define START_KERNEL 0xffffffff81000000ull

/* Why KCOV_PATH does not open: no debugfs there, or a kernel without KCOV. */
static void why_absent(char *why, size_t whylen)
{
	struct statfs fs;

	if (statfs("/sys/kernel/debug", &fs) || fs.f_type != DEBUGFS_MAGIC)
		snprintf(why, whylen, "debugfs is not mounted at /sys/kernel/debug, so there is no %s",
			 KCOV_PATH);
	else
		snprintf(why, whylen,
			 "no %s: this kernel has no CONFIG_KCOV (the debug kernels do: scripts/vm-run --kernel debug)",
			 KCOV_PATH);
}

int kcov_open(struct kcov *k, char *why, size_t whylen)
{
	*k = (struct kcov){ .words = AREA_WORDS };
	k->fd = open(KCOV_PATH, O_RDWR | O_CLOEXEC);
	if (k->fd < 0 && errno == ENOENT) {
		why_absent(why, whylen);
		return -1;
	}
	if (k->fd < 0)
		FAIL("cannot open %s: %s", KCOV_PATH, strerror(errno));
	if (ioctl(k->fd, KCOV_INIT_TRACE, k->words))
		FAIL("KCOV_INIT_TRACE %zu: %s", k->words, strerror(errno));
	k->area = mmap(NULL, k->words * sizeof(unsigned long), PROT_READ | PROT_WRITE,
		       MAP_SHARED, k->fd, 0);
	if (k->area == MAP_FAILED)
		FAIL("cannot map %s: %s", KCOV_PATH, strerror(errno));
	return 0;
}

/* ---- the module's text ---- */

struct section {
	char name[NAME_MAX + 1];
	uint64_t addr;
};

/*
 * Executable: .text, .text.unlikely, .exit.text, and the alternatives'
 * replacements laid out after them; not .init.text, freed after the load.
 */
static int is_code(const char *name)
{
	return (strstr(name, "text") || !strncmp(name, ".altinstr", 9)) &&
	       strncmp(name, ".init", 5);
}

static uint64_t read_address(const char *dir, const char *name)
{
	char path[PATH_MAX], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoull(buf, NULL, 16);
}

/* The module's sections and their addresses; how many. */
static int read_sections(const char *dir, struct section *s)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_SECTIONS) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		snprintf(s[n].name, sizeof(s[n].name), "%s", e->d_name);
		s[n].addr = read_address(dir, e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/*
 * [lo, hi): from the lowest code section to the first other section above
 * it, at most the module's core size on.  Code is laid out before rodata
 * and data; from 6.4 each kind has an allocation of its own, and the core
 * size (every kind's) bounds the text from above.
 */
static void text_bounds(struct kcov *k, const struct section *s, int n, uint64_t core)
{
	uint64_t lo = ~0ull, hi;

	for (int i = 0; i < n; i++)
		if (is_code(s[i].name) && s[i].addr && s[i].addr < lo)
			lo = s[i].addr;
	hi = lo + core;
	for (int i = 0; i < n; i++)
		if (!is_code(s[i].name) && strncmp(s[i].name, ".init", 5) &&
		    s[i].addr > lo && s[i].addr < hi)
			hi = s[i].addr;
	k->lo = lo;
	k->hi = hi;
}

/*
 * Kernel addresses (module sections, kallsyms) read as 0 to those
 * kallsyms_show_value() refuses: kptr_restrict 2 refuses even root, 1
 * shows them to CAP_SYSLOG.  Lowers 2 to 1; says whether it did.
 */
static int show_kernel_addresses(void)
{
	return read_long(KPTR_RESTRICT) == 2 && !write_file(KPTR_RESTRICT, "1");
}

static void restore_kernel_addresses(int lowered)
{
	if (lowered)
		write_file(KPTR_RESTRICT, "2");
}

static int read_sections_shown(const char *dir, struct section *s)
{
	int n = read_sections(dir, s), hidden = 1, lowered;

	for (int i = 0; i < n; i++)
		hidden &= !s[i].addr;
	if (!n || !hidden || !(lowered = show_kernel_addresses()))
		return n;
	n = read_sections(dir, s);
	restore_kernel_addresses(lowered);
	return n;
}

int kcov_find_module(struct kcov *k, const char *name, char *why, size_t whylen)
{
	static struct section s[MAX_SECTIONS];
	char dir[PATH_MAX], path[PATH_MAX];
	long core;
	int n;

	snprintf(dir, sizeof(dir), "/sys/module/%s/sections", name);
	snprintf(path, sizeof(path), "/sys/module/%s/coresize", name);
	n = read_sections_shown(dir, s);
	core = read_long(path);
	if (!n || core <= 0) {
		snprintf(why, whylen, "module %s is not loaded (no %s, or no coresize)", name, dir);
		return -1;
	}
	text_bounds(k, s, n, (uint64_t)core);
	if (k->lo == ~0ull || k->hi - k->lo > MAX_TEXT) {
		snprintf(why, whylen,
			 "no text found in %s (addresses hidden? kptr_restrict is %ld)", dir,
			 read_long(KPTR_RESTRICT));
		return -1;
	}
	k->seen = calloc((k->hi - k->lo + 7) / 8, 1);
	ASSERT_TRUE(k->seen);
	return 0;
}

/* ---- tracing ---- */

void kcov_enable(struct kcov *k)
{
	if (ioctl(k->fd, KCOV_ENABLE, KCOV_TRACE_PC))
		FAIL("KCOV_ENABLE: %s", strerror(errno));
	kcov_reset(k);
}

void kcov_reset(struct kcov *k)
{
	__atomic_store_n(&k->area[0], 0, __ATOMIC_RELAXED);
}

/* PCs traced since the reset (at most what the area holds). */
static size_t traced_pcs(struct kcov *k)
{
	size_t n = __atomic_load_n(&k->area[0], __ATOMIC_RELAXED);

	if (n >= k->words - 1) {
		k->overflows++;
		n = k->words - 1;
	}
	return n;
}

static size_t in_text(const struct kcov *k, uint64_t offset, size_t n)
{
	size_t in = 0;

	for (size_t i = 1; i <= n; i++)
		in += k->area[i] + offset - k->lo < k->hi - k->lo;
	return in;
}

/*
 * KCOV subtracts kaslr_offset() from every PC on a CONFIG_RANDOMIZE_BASE
 * kernel, and /sys/module shows real addresses; the offset is how far _text
 * (from kallsyms) is from where it is linked.
 */
static uint64_t kaslr_guess(void)
{
	int lowered = show_kernel_addresses();
	FILE *f = fopen("/proc/kallsyms", "r");
	unsigned long long addr = 0;
	char line[256], sym[128], type;

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%llx %c %127s", &addr, &type, sym) == 3 &&
			    !strcmp(sym, "_text"))
				break;
		fclose(f);
	}
	restore_kernel_addresses(lowered);
	return addr > START_KERNEL ? addr - START_KERNEL : 0;
}

size_t kcov_settle_offset(struct kcov *k)
{
	size_t n = traced_pcs(k), plain = in_text(k, 0, n), kaslr;
	uint64_t guess = kaslr_guess();

	kaslr = guess ? in_text(k, guess, n) : 0;
	k->offset = kaslr > plain ? guess : 0;
	return kaslr > plain ? kaslr : plain;
}

size_t kcov_collect(struct kcov *k, size_t *traced)
{
	size_t n = traced_pcs(k), fresh = 0, ours = 0;

	for (size_t i = 1; i <= n; i++) {
		uint64_t off = k->area[i] + k->offset - k->lo;

		if (off >= k->hi - k->lo)
			continue;
		ours++;
		if (k->seen[off / 8] & (1u << (off % 8)))
			continue;
		k->seen[off / 8] |= (unsigned char)(1u << (off % 8));
		fresh++;
	}
	k->distinct += fresh;
	if (traced)
		*traced = ours;
	return fresh;
}

void kcov_close(struct kcov *k)
{
	ioctl(k->fd, KCOV_DISABLE, 0);
	munmap(k->area, k->words * sizeof(unsigned long));
	close(k->fd);
	free(k->seen);
}
