// SPDX-License-Identifier: GPL-2.0
/*
 * host_bench: the tool's own speed and its files' size, on the host (no
 * module needed).  Two snapshots of 1M populated pages each are made up the
 * way a fork leaves them (a parent, and a child that diverged on a quarter
 * of its pages), saved, and then `cowtrace diff` and `cowtrace compare` are
 * timed end to end as a user runs them: exec, load both files, classify
 * every page, print.  Best of --reps.  The baseline is `cat` of the same
 * two files to /dev/null: the cost of just reading them, on the same disk
 * and cache, in the same run.
 *
 * File size: bytes per populated page for a dense region, a 1/64 sparse one,
 * and pages scattered one per 2 MiB.
 *
 *	usage: host_bench [--pages N] [--reps R] [--tiny] [--tool PATH] [--keep]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../snapfile.h"
#include "bench.h"

#define PAGE 4096ull
#define BASE 0x7f0000000000ull

/* A snapshot of n pages, stride pages apart; child: every 4th page copied. */
static void make_snapshot(struct ct_snapshot *s, uint64_t n, uint64_t stride, int child)
{
	static struct cowtrace_vma vma;

	memset(s, 0, sizeof(*s));
	s->pid = child ? 1001 : 1000;
	s->source = CT_SOURCE_MODULE;
	s->page_size = PAGE;
	s->start = BASE;
	s->end = BASE + n * stride * PAGE;
	strcpy(s->kernel, "bench");
	vma.start = BASE;
	vma.end = s->end;
	vma.flags = COWTRACE_VMA_READ | COWTRACE_VMA_WRITE | COWTRACE_VMA_MAYWRITE |
		    COWTRACE_VMA_COW | COWTRACE_VMA_ANON_VMA;
	s->vmas = &vma;
	s->nr_vmas = 1;
	s->pages = calloc(n, sizeof(*s->pages));
	if (!s->pages) {
		perror("calloc");
		exit(2);
	}
	s->nr_pages = n;
	for (uint64_t i = 0; i < n; i++) {
		struct cowtrace_page *p = &s->pages[i];
		int copied = child && i % 4 == 0;

		p->addr = BASE + i * stride * PAGE;
		p->pfn = copied ? 0x800000 + i : 0x100000 + i;
		p->flags = COWTRACE_PTE_PRESENT | COWTRACE_PTE_YOUNG | COWTRACE_PG_PAGE |
			   COWTRACE_PG_ANON | COWTRACE_PG_LRU;
		if (copied)
			p->flags |= COWTRACE_PTE_WRITE | COWTRACE_PTE_DIRTY | COWTRACE_PG_ANON_EXCL;
		p->refcount = copied ? 1 : 2;
		p->mapcount = p->folio_mapcount = copied ? 1 : 2;
	}
}

static void save(const char *path, const struct ct_snapshot *s)
{
	struct ct_error err;

	if (ct_file_save(path, s, &err)) {
		fprintf(stderr, "host_bench: %s\n", err.msg);
		exit(2);
	}
}

static off_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* Best wall time of running argv with stdout to /dev/null. */
static double run(char *const argv[], int reps)
{
	double best = 1e9;

	for (int i = 0; i < reps; i++) {
		double t0 = now();
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			if (!freopen("/dev/null", "w", stdout))
				_exit(126);
			execv(argv[0], argv);
			_exit(127);
		}
		waitpid(pid, &status, 0);
		t0 = now() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "host_bench: %s %s failed\n", argv[0], argv[1]);
			exit(2);
		}
		if (t0 < best)
			best = t0;
	}
	return best;
}

int main(int argc, char **argv)
{
	uint64_t n = 1 << 20;
	int reps = 5, keep = 0;
	char *tool = "tools/cowtrace";
	char dir[] = "/tmp/cowtrace-bench.XXXXXX", a[64], b[64], c[64];
	struct ct_snapshot pa, ch, sp;
	double t_cat, t_diff, t_cmp;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pages") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tiny"))
			n = 4096, reps = 1;
		else if (!strcmp(argv[i], "--tool") && i + 1 < argc)
			tool = argv[++i];
		else if (!strcmp(argv[i], "--keep"))
			keep = 1;	/* leave the files, to profile the tool on them */
		else {
			fprintf(stderr, "usage: host_bench [--pages N] [--reps R] [--tiny] [--tool PATH] [--keep]\n");
			return 1;
		}
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(a, sizeof(a), "%s/parent.snap", dir);
	snprintf(b, sizeof(b), "%s/child.snap", dir);
	snprintf(c, sizeof(c), "%s/sparse.snap", dir);
	make_snapshot(&pa, n, 1, 0);
	make_snapshot(&ch, n, 1, 1);
	save(a, &pa);
	save(b, &ch);

	t_cat = run((char *const[]){ "/bin/cat", a, b, NULL }, reps);
	t_diff = run((char *const[]){ tool, "diff", a, b, NULL }, reps);
	t_cmp = run((char *const[]){ tool, "compare", a, b, NULL }, reps);

	printf("### The tool on the host: two snapshots of %" PRIu64 " pages each, best of %d\n\n",
	       n, reps);
	printf("| command | time | relative to cat of both files |\n|---|---|---|\n");
	printf("| cat A B > /dev/null (baseline) | %.1f ms | 1.00x |\n", t_cat * 1e3);
	printf("| cowtrace diff A B | %.1f ms | %.2fx |\n", t_diff * 1e3, t_diff / t_cat);
	printf("| cowtrace compare A B | %.1f ms | %.2fx |\n", t_cmp * 1e3, t_cmp / t_cat);

	printf("\n### Snapshot file size\n\n| pages | layout | file bytes | bytes per populated page |\n|---|---|---|---|\n");
	printf("| %" PRIu64 " | dense (parent) | %lld | %.2f |\n", n, (long long)size_of(a),
	       (double)size_of(a) / n);
	printf("| %" PRIu64 " | dense, a quarter copied (child) | %lld | %.2f |\n", n,
	       (long long)size_of(b), (double)size_of(b) / n);
	make_snapshot(&sp, n / 64 ?: 1, 64, 0);
	save(c, &sp);
	printf("| %" PRIu64 " | one page in 64 | %lld | %.2f |\n", sp.nr_pages,
	       (long long)size_of(c), (double)size_of(c) / sp.nr_pages);
	free(sp.pages);
	make_snapshot(&sp, n / 512 ?: 1, 512, 0);
	save(c, &sp);
	printf("| %" PRIu64 " | one page per 2 MiB (%" PRIu64 " GiB range) | %lld | %.2f |\n",
	       sp.nr_pages, (sp.end - sp.start) >> 30, (long long)size_of(c),
	       (double)size_of(c) / sp.nr_pages);
	if (keep) {
		fprintf(stderr, "host_bench: files kept in %s\n", dir);
	} else {
		unlink(a);
		unlink(b);
		unlink(c);
		rmdir(dir);
	}
	free(pa.pages);
	free(ch.pages);
	free(sp.pages);
	return 0;
}
