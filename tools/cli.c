// SPDX-License-Identifier: GPL-2.0
/* Shared CLI plumbing (see cli.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "snapfile.h"

int ct_err(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("cowtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int ct_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cowtrace %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'cowtrace %s --help'.\n", cmd);
	return EXIT_USAGE;
}

void ct_take_opts_init(struct ct_take_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->end = 1ull << 56;
}

static int parse_addr(const char *s, uint64_t *v)
{
	char *end;

	if (!*s)
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 16);
	return errno || *end ? -1 : 0;
}

int ct_parse_range(const char *s, uint64_t *start, uint64_t *end)
{
	char buf[64];
	char *dash;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (!dash)
		return -1;
	*dash = 0;
	if (parse_addr(buf, start) || parse_addr(dash + 1, end))
		return -1;
	/* whole pages: round outwards, so a single address names its page */
	*start &= ~4095ull;
	*end = (*end + 4095) & ~4095ull;
	return *start < *end ? 0 : -1;
}

int ct_parse_source(const char *s, enum ct_source_pref *pref)
{
	if (!strcmp(s, "auto"))
		*pref = CT_PREF_AUTO;
	else if (!strcmp(s, "module"))
		*pref = CT_PREF_MODULE;
	else if (!strcmp(s, "procfs"))
		*pref = CT_PREF_PROCFS;
	else
		return -1;
	return 0;
}

int ct_is_pid(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int ct_take(pid_t pid, const struct ct_take_opts *o, struct ct_snapshot *s,
	    struct ct_error *err)
{
	int ret, stopped = 0;

	if (o->freeze && pid != getpid()) {
		if (kill(pid, SIGSTOP)) {
			ct_set_error(err, errno, "cannot stop pid %d: %s", (int)pid,
				     strerror(errno));
			return -1;
		}
		stopped = 1;
	}
	switch (o->source) {
	case CT_PREF_MODULE:
		ret = ct_snapshot_module(pid, o->start, o->end, s, err);
		break;
	case CT_PREF_PROCFS:
		ret = ct_snapshot_procfs(pid, o->start, o->end, s, err);
		break;
	default:
		ret = ct_snapshot_take(pid, o->start, o->end, s, err);
	}
	if (stopped)
		kill(pid, SIGCONT);
	return ret;
}

int ct_load(const char *arg, const struct ct_take_opts *o, struct ct_snapshot *s)
{
	struct ct_error err;

	if (ct_is_pid(arg)) {
		if (ct_take(atoi(arg), o, s, &err))
			return ct_err(EXIT_RUNTIME, "%s", err.msg);
		return 0;
	}
	if (ct_file_load(arg, s, &err))
		return ct_err(EXIT_RUNTIME, "%s", err.msg);
	return 0;
}

const char *ct_vma_label(const struct ct_snapshot *s, const struct cowtrace_vma *v,
			 char *buf, size_t len)
{
	const char *name = ct_vma_name(s, v);

	if (*name)
		return name;
	snprintf(buf, len, "[anon%s]", v->flags & COWTRACE_VMA_SHARED ? ":shared" : "");
	return buf;
}

void ct_perms(const struct cowtrace_vma *v, char out[5])
{
	out[0] = v->flags & COWTRACE_VMA_READ ? 'r' : '-';
	out[1] = v->flags & COWTRACE_VMA_WRITE ? 'w' : '-';
	out[2] = v->flags & COWTRACE_VMA_EXEC ? 'x' : '-';
	out[3] = v->flags & COWTRACE_VMA_SHARED ? 's' : 'p';
	out[4] = 0;
}

/* What a PTE bit reads as when a procfs snapshot could not see it. */
static uint32_t pte_bit_unavailable(uint32_t bit)
{
	switch (bit) {
	case COWTRACE_PTE_WRITE:
		return CT_UNAVAIL_WRITE;
	case COWTRACE_PTE_DIRTY:
		return CT_UNAVAIL_DIRTY;
	case COWTRACE_PTE_YOUNG:
		return CT_UNAVAIL_YOUNG;
	case COWTRACE_PTE_SPECIAL:
	case COWTRACE_PTE_PROTNONE:
		return CT_UNAVAIL_PTE_MISC;
	default:
		return 0;
	}
}

/* The letters and names are the UAPI header's, as the module's views print them. */
static const struct {
	uint32_t bit;
	char c;
} pte_letters[] = COWTRACE_PTE_FLAG_LETTERS_INIT;

#define NR_PTE_LETTERS (sizeof(pte_letters) / sizeof(pte_letters[0]))

void ct_pte_letters(const struct ct_snapshot *s, const struct cowtrace_page *r,
		    char out[8])
{
	_Static_assert(NR_PTE_LETTERS == 7, "the PTE column is seven letters");
	for (size_t i = 0; i < NR_PTE_LETTERS; i++) {
		if (pte_bit_unavailable(pte_letters[i].bit) & s->unavailable)
			out[i] = '?';
		else
			out[i] = r->flags & pte_letters[i].bit ? pte_letters[i].c : '-';
	}
	out[NR_PTE_LETTERS] = 0;
}

const char *ct_page_flag_names(uint32_t flags, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} map[] = COWTRACE_PAGE_FLAG_NAMES_INIT;
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!(flags & map[i].bit))
			continue;
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%s",
				 used ? "," : "", map[i].name);
		if (used >= len)
			break;
	}
	if (!used)
		snprintf(buf, len, "-");
	return buf;
}

const char *ct_level_name(uint32_t flags)
{
	static const char *const names[] = { "pte", "pmd", "pud", "?" };

	return names[COWTRACE_PAGE_LEVEL(flags)];
}

static const char *source_name(uint32_t source)
{
	return source == CT_SOURCE_MODULE ? "module" :
	       source == CT_SOURCE_PROCFS ? "procfs" : "unknown";
}

void ct_json_snapshot_header(struct json *j, const struct ct_snapshot *s,
			     const char *kind)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} unavail[] = {
		{ CT_UNAVAIL_WRITE, "write" },	  { CT_UNAVAIL_DIRTY, "dirty" },
		{ CT_UNAVAIL_YOUNG, "young" },	  { CT_UNAVAIL_REFCOUNT, "refcount" },
		{ CT_UNAVAIL_FOLIO_MAPCOUNT, "folio_mapcount" },
		{ CT_UNAVAIL_PTE_MISC, "special" }, { CT_UNAVAIL_PAGE_MISC, "order" },
		{ CT_UNAVAIL_KSM, "ksm" },	  { CT_UNAVAIL_ANON_EXCL, "anon_exclusive" },
		{ CT_UNAVAIL_PAGE_MAPCOUNT, "page_mapcount" },
	};

	json_kuint(j, "cowtrace", 1);
	json_kstr(j, "kind", kind);
	json_kuint(j, "pid", s->pid);
	json_kstr(j, "comm", s->mm.comm);
	json_kstr(j, "source", source_name(s->source));
	json_kstr(j, "kernel", s->kernel);
	json_kuint(j, "time_ns", s->time_ns);
	json_kuint(j, "page_size", s->page_size);
	json_key(j, "unavailable");
	json_array(j);
	for (size_t i = 0; i < sizeof(unavail) / sizeof(unavail[0]); i++)
		if (s->unavailable & unavail[i].bit)
			json_string(j, unavail[i].name);
	json_end_array(j);
}

void ct_json_vma(struct json *j, const struct ct_snapshot *s,
		 const struct cowtrace_vma *v)
{
	char perms[5];

	ct_perms(v, perms);
	json_object(j);
	json_kuint(j, "start", v->start);
	json_kuint(j, "end", v->end);
	json_kstr(j, "perms", perms);
	json_kuint(j, "pgoff", v->pgoff);
	json_kstr(j, "name", ct_vma_name(s, v));
	json_kbool(j, "cow", v->flags & COWTRACE_VMA_COW);
	json_kbool(j, "anon_vma", v->flags & COWTRACE_VMA_ANON_VMA);
	json_kbool(j, "dontcopy", v->flags & COWTRACE_VMA_DONTCOPY);
	json_kbool(j, "wipeonfork", v->flags & COWTRACE_VMA_WIPEONFORK);
	json_kuint(j, "flags", v->flags);
	json_kuint(j, "vm_flags", v->vm_flags);
	json_end_object(j);
}

void ct_json_page(struct json *j, const struct ct_snapshot *s,
		  const struct cowtrace_page *r)
{
	uint32_t f = r->flags, u = s->unavailable;
	int page = !!(f & COWTRACE_PG_PAGE);
	int average = ct_mapcount_is_average(s, r);

	json_object(j);
	json_kuint(j, "addr", r->addr);
	json_kuint(j, "pfn", r->pfn);
	json_kbool(j, "present", f & COWTRACE_PTE_PRESENT);
	json_kbool_or_null(j, "write", f & COWTRACE_PTE_WRITE, u & CT_UNAVAIL_WRITE);
	json_kbool_or_null(j, "dirty", f & COWTRACE_PTE_DIRTY, u & CT_UNAVAIL_DIRTY);
	json_kbool_or_null(j, "young", f & COWTRACE_PTE_YOUNG, u & CT_UNAVAIL_YOUNG);
	json_kbool(j, "soft_dirty", f & COWTRACE_PTE_SOFT_DIRTY);
	json_kbool(j, "uffd_wp", f & COWTRACE_PTE_UFFD_WP);
	json_kbool(j, "swap", f & COWTRACE_PTE_SWAP);
	if (f & COWTRACE_PTE_SWAP)
		json_kuint(j, "swap_type", r->swap_type);
	/* a THP page's own count unknown: its folio's average, named so */
	json_key(j, "mapcount");
	page && !average ? json_uint(j, r->mapcount) : json_null(j);
	if (average)
		json_kuint(j, "mapcount_average", r->mapcount);
	json_key(j, "folio_mapcount");
	page && !(u & CT_UNAVAIL_FOLIO_MAPCOUNT) ? json_uint(j, r->folio_mapcount) :
						  json_null(j);
	json_key(j, "refcount");
	page && !(u & CT_UNAVAIL_REFCOUNT) ? json_uint(j, r->refcount) : json_null(j);
	json_kbool(j, "anon", f & COWTRACE_PG_ANON);
	json_kbool_or_null(j, "ksm", f & COWTRACE_PG_KSM, u & CT_UNAVAIL_KSM);
	json_kbool_or_null(j, "anon_exclusive", f & COWTRACE_PG_ANON_EXCL,
			   u & CT_UNAVAIL_ANON_EXCL);
	json_kbool(j, "zero", f & COWTRACE_PG_ZERO);
	json_kbool(j, "thp", f & COWTRACE_PG_THP);
	json_kbool(j, "hugetlb", f & COWTRACE_PG_HUGETLB);
	json_key(j, "level");
	u & CT_UNAVAIL_PTE_MISC ? json_null(j) : json_string(j, ct_level_name(f));
	json_key(j, "order");
	u & CT_UNAVAIL_PAGE_MISC ? json_null(j) : json_uint(j, COWTRACE_PAGE_ORDER(f));
	json_end_object(j);
}
