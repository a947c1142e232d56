// SPDX-License-Identifier: GPL-2.0
/*
 * cowtrace trace: the live event stream of a process and its descendants,
 * then a summary of who copied what, per process and per VMA.
 *
 * Events come from the module's trace session (tracer.h).  VMAs are named
 * from /proc/PID/maps, read the first time a process shows up, so a process
 * that exits before that is summarised without VMA names.  Totals come from
 * the module's own per-kind counters, which count lost events too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include "cli.h"
#include "reserve.h"
#include "tracer.h"

#define READ_BATCH 1024
#define IDLE_POLL_MS 20
#define VMA_ROWS_PER_PROC 8

struct vma_sum {
	uint64_t start, end;
	char name[80];
	uint64_t kinds[COWTRACE_EV_NR_KINDS];
	uint64_t copied;
};

struct proc_sum {
	uint32_t pid;
	char comm[17];
	uint64_t kinds[COWTRACE_EV_NR_KINDS];
	uint64_t copied;
	struct vma_sum *vmas;	/* the VMAs its events fell in */
	size_t nr_vmas, cap_vmas;
	size_t last_vma;	/* where the last event fell: the next one likely too */
};

struct trace_run {
	struct ct_tracer t;
	struct proc_sum *procs;
	size_t nr_procs, cap_procs;
	size_t last_proc;	/* whose the last event was: the next one likely too */
	uint64_t shown;
	unsigned int only;	/* bitmask of kinds to print; 0: all */
	int quiet;
	struct json *j;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The name /proc/PID/maps gives the VMA starting at start, if it still does. */
static void name_vma(uint32_t pid, struct vma_sum *v)
{
	char path[64], line[512];
	FILE *f;

	snprintf(v->name, sizeof(v->name), "(gone before it was named)");
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end;
		int off = 0;

		/* merged or split since: the mapping that now holds its start */
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %*s %*s %*s%n",
			   &start, &end, &off) != 2 || v->start < start || v->start >= end)
			continue;
		while (line[off] == ' ')
			off++;
		line[strcspn(line, "\n")] = 0;
		snprintf(v->name, sizeof(v->name), "%s", line[off] ? line + off : "[anon]");
		break;
	}
	fclose(f);
}

/*
 * Events come in bursts from one process and one VMA (a child writing its
 * heap), so the last one found is tried first: the search of the rest only
 * runs when the event moves elsewhere.
 */
static struct proc_sum *find_proc(struct trace_run *r, uint32_t pid)
{
	struct proc_sum *p;
	char path[64];
	FILE *f;

	if (r->last_proc < r->nr_procs && r->procs[r->last_proc].pid == pid)
		return &r->procs[r->last_proc];
	for (size_t i = 0; i < r->nr_procs; i++)
		if (r->procs[i].pid == pid) {
			r->last_proc = i;
			return &r->procs[i];
		}
	if (ct_reserve((void **)&r->procs, &r->cap_procs, r->nr_procs + 1,
		       sizeof(*r->procs)))
		return NULL;
	r->last_proc = r->nr_procs;
	p = &r->procs[r->nr_procs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(p->comm, sizeof(p->comm), f))
			p->comm[strcspn(p->comm, "\n")] = 0;
		fclose(f);
	}
	return p;
}

static bool vma_is(const struct vma_sum *v, const struct cowtrace_event *e)
{
	return v->start == e->vma_start && v->end == e->vma_end;
}

/* The VMA the event names; VMAs are told apart by their bounds then. */
static struct vma_sum *find_vma(struct proc_sum *p, const struct cowtrace_event *e)
{
	struct vma_sum *v;

	if (p->last_vma < p->nr_vmas && vma_is(&p->vmas[p->last_vma], e))
		return &p->vmas[p->last_vma];
	for (size_t i = 0; i < p->nr_vmas; i++)
		if (vma_is(&p->vmas[i], e)) {
			p->last_vma = i;
			return &p->vmas[i];
		}
	if (ct_reserve((void **)&p->vmas, &p->cap_vmas, p->nr_vmas + 1, sizeof(*p->vmas)))
		return NULL;
	p->last_vma = p->nr_vmas;
	v = &p->vmas[p->nr_vmas++];
	memset(v, 0, sizeof(*v));
	v->start = e->vma_start;
	v->end = e->vma_end;
	name_vma(p->pid, v);
	return v;
}

static void take_event(struct trace_run *r, const struct cowtrace_event *e)
{
	struct proc_sum *p = find_proc(r, e->pid);
	char line[256];

	if (p) {
		p->kinds[e->kind]++;
		p->copied += ct_event_bytes_copied(e);
		if (e->kind != COWTRACE_EV_FORK && e->kind != COWTRACE_EV_EXIT) {
			struct vma_sum *v = find_vma(p, e);

			if (v) {
				v->kinds[e->kind]++;
				v->copied += ct_event_bytes_copied(e);
			}
		}
	}
	if (r->quiet || (r->only && !(r->only & (1u << e->kind))))
		return;
	r->shown++;
	if (r->j) {
		ct_json_event(r->j, e);
		return;
	}
	ct_event_format(e, line, sizeof(line));
	printf("%" PRIu64 " %" PRIu64 ".%09" PRIu64 " %s\n", (uint64_t)e->seq,
	       (uint64_t)e->time_ns / 1000000000, (uint64_t)e->time_ns % 1000000000, line);
}

/* Read what is queued; returns events read, or -1. */
static int drain(struct trace_run *r, struct cowtrace_event *buf)
{
	struct ct_error err;
	int n, total = 0;

	do {
		n = ct_trace_read(&r->t, buf, READ_BATCH, 1, &err);
		if (n < 0)
			return ct_err(EXIT_RUNTIME, "%s", err.msg), -1;
		for (int i = 0; i < n; i++)
			take_event(r, &buf[i]);
		total += n;
	} while (n == READ_BATCH);
	if (!r->j && !r->quiet)
		fflush(stdout);
	return total;
}

static const unsigned int summary_kinds[] = {
	COWTRACE_EV_WP_COPY, COWTRACE_EV_WP_REUSE, COWTRACE_EV_WP_SHARED,
	COWTRACE_EV_WP_ZERO, COWTRACE_EV_WP_OTHER, COWTRACE_EV_ANON_ZERO,
	COWTRACE_EV_ANON_NEW, COWTRACE_EV_FORK, COWTRACE_EV_EXIT,
};
#define NR_SUMMARY_KINDS (sizeof(summary_kinds) / sizeof(summary_kinds[0]))

static void json_kinds(struct json *j, const uint64_t *kinds, uint64_t copied)
{
	for (size_t k = 0; k < NR_SUMMARY_KINDS; k++)
		json_kuint(j, ct_event_kind_name(summary_kinds[k]), kinds[summary_kinds[k]]);
	json_kuint(j, "bytes_copied", copied);
}

static int vma_has_cow(const struct vma_sum *v)
{
	return v->kinds[COWTRACE_EV_WP_COPY] || v->kinds[COWTRACE_EV_WP_REUSE] ||
	       v->kinds[COWTRACE_EV_WP_SHARED] || v->kinds[COWTRACE_EV_WP_ZERO] ||
	       v->kinds[COWTRACE_EV_WP_OTHER];
}

static void summary_json(struct trace_run *r, uint64_t copied)
{
	struct json *j = r->j;

	json_end_array(j);	/* events */
	json_key(j, "processes");
	json_array(j);
	for (size_t i = 0; i < r->nr_procs; i++) {
		struct proc_sum *p = &r->procs[i];

		json_object(j);
		json_kuint(j, "pid", p->pid);
		json_kstr(j, "comm", p->comm);
		json_kinds(j, p->kinds, p->copied);
		json_key(j, "vmas");
		json_array(j);
		for (size_t v = 0; v < p->nr_vmas; v++) {
			struct vma_sum *vs = &p->vmas[v];

			if (!vma_has_cow(vs))
				continue;
			json_object(j);
			json_kuint(j, "start", vs->start);
			json_kuint(j, "end", vs->end);
			json_kstr(j, "name", vs->name);
			json_kinds(j, vs->kinds, vs->copied);
			json_end_object(j);
		}
		json_end_array(j);
		json_end_object(j);
	}
	json_end_array(j);
	json_key(j, "totals");
	json_object(j);
	json_kinds(j, r->t.kind_counts, copied);
	json_kuint(j, "lost", r->t.lost);
	json_end_object(j);
	json_end_object(j);
	fputc('\n', j->f);
}

/* Most copied first, then most reused: where the fork's cost went. */
static int by_cost(const void *a, const void *b)
{
	const struct vma_sum *x = a, *y = b;

	if (x->copied != y->copied)
		return x->copied < y->copied ? 1 : -1;
	if (x->kinds[COWTRACE_EV_WP_REUSE] != y->kinds[COWTRACE_EV_WP_REUSE])
		return x->kinds[COWTRACE_EV_WP_REUSE] < y->kinds[COWTRACE_EV_WP_REUSE] ? 1 : -1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static void summary_text(struct trace_run *r, uint64_t copied)
{
	const uint64_t *tk = r->t.kind_counts;
	char h[32];

	printf("\n%-8s %-16s %8s %8s %8s %8s %8s %8s %8s %10s\n", "PID", "COMM", "COPY",
	       "REUSE", "SHARED", "ZERO-WP", "OTHER", "1ST-ZERO", "1ST-NEW", "COPIED");
	for (size_t i = 0; i < r->nr_procs; i++) {
		struct proc_sum *p = &r->procs[i];

		printf("%-8u %-16s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		       " %8" PRIu64 " %8" PRIu64 " %10s\n", p->pid, p->comm[0] ? p->comm : "?",
		       p->kinds[COWTRACE_EV_WP_COPY], p->kinds[COWTRACE_EV_WP_REUSE],
		       p->kinds[COWTRACE_EV_WP_SHARED], p->kinds[COWTRACE_EV_WP_ZERO],
		       p->kinds[COWTRACE_EV_WP_OTHER], p->kinds[COWTRACE_EV_ANON_ZERO],
		       p->kinds[COWTRACE_EV_ANON_NEW], ct_human_bytes(p->copied, h, sizeof(h)));
	}
	printf("\nwrite faults per VMA:\n%-8s %-25s %8s %8s %8s %8s %8s %10s  %s\n", "PID",
	       "VMA", "COPY", "REUSE", "SHARED", "ZERO-WP", "OTHER", "COPIED", "NAME");
	for (size_t i = 0; i < r->nr_procs; i++) {
		struct proc_sum *p = &r->procs[i];
		size_t shown = 0, more = 0;

		qsort(p->vmas, p->nr_vmas, sizeof(*p->vmas), by_cost);
		for (size_t v = 0; v < p->nr_vmas; v++) {
			struct vma_sum *vs = &p->vmas[v];
			char range[40];

			if (!vma_has_cow(vs))
				continue;
			if (shown++ >= VMA_ROWS_PER_PROC) {
				more++;
				continue;
			}
			snprintf(range, sizeof(range), "%" PRIx64 "-%" PRIx64, vs->start, vs->end);
			printf("%-8u %-25s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			       " %10s  %s\n", p->pid, range, vs->kinds[COWTRACE_EV_WP_COPY],
			       vs->kinds[COWTRACE_EV_WP_REUSE], vs->kinds[COWTRACE_EV_WP_SHARED],
			       vs->kinds[COWTRACE_EV_WP_ZERO], vs->kinds[COWTRACE_EV_WP_OTHER],
			       ct_human_bytes(vs->copied, h, sizeof(h)), vs->name);
		}
		if (more)
			printf("%-8u ... %zu more VMAs (--json lists them all)\n", p->pid, more);
	}
	printf("\ntotal: %" PRIu64 " copies (%s copied), %" PRIu64 " reuses, %" PRIu64
	       " shared writes, %" PRIu64 " zero-page replacements, %" PRIu64
	       " other; %" PRIu64 " first touches (%" PRIu64 " zero page, %" PRIu64
	       " new); %" PRIu64 " forks, %" PRIu64 " exits\n",
	       tk[COWTRACE_EV_WP_COPY], ct_human_bytes(copied, h, sizeof(h)),
	       tk[COWTRACE_EV_WP_REUSE], tk[COWTRACE_EV_WP_SHARED], tk[COWTRACE_EV_WP_ZERO],
	       tk[COWTRACE_EV_WP_OTHER], tk[COWTRACE_EV_ANON_ZERO] + tk[COWTRACE_EV_ANON_NEW],
	       tk[COWTRACE_EV_ANON_ZERO], tk[COWTRACE_EV_ANON_NEW], tk[COWTRACE_EV_FORK],
	       tk[COWTRACE_EV_EXIT]);
	if (r->t.lost)
		printf("lost: %" PRIu64 " events (ring full: reload with ring_events=N for a "
		       "bigger ring); the total line counts them, the tables above do not\n",
		       r->t.lost);
	else
		printf("lost: 0 events\n");
}

static int parse_only(const char *s, unsigned int *mask)
{
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned int k;

		for (k = 1; k < COWTRACE_EV_NR_KINDS; k++)
			if (!strcmp(tok, ct_event_kind_name(k)))
				break;
		if (k == COWTRACE_EV_NR_KINDS)
			return -1;
		*mask |= 1u << k;
	}
	return 0;
}

static const char trace_help[] =
	"usage: cowtrace trace -p PID [options]\n"
	"       cowtrace trace [options] -- CMD [ARGS...]\n"
	"\n"
	"Print every fork, copy-on-write fault, first-touch fault and exit of a\n"
	"process and the children it forks from now on, as they happen; at the\n"
	"end (the process exits, or Ctrl-C) print who copied what, per process and\n"
	"per VMA.  Needs the cowtrace module.\n"
	"\n"
	"  -p, --pid PID       trace a running process\n"
	"      --no-children   only the process itself, not what it forks\n"
	"      --only KINDS    print only these kinds (comma list): fork, exit,\n"
	"                      wp-copy, wp-reuse, wp-shared, wp-zero, wp-other,\n"
	"                      anon-zero, anon-new.  The summary counts all.\n"
	"  -q, --quiet         print only the summary\n"
	"      --json          one JSON document: events, processes, totals\n";

/*
 * Start CMD stopped just after its exec (PTRACE_TRACEME stops it there), so
 * the session sees the command from its first instruction, and nothing of
 * the fork that made it, which is ours and not the command's.
 */
static pid_t spawn_stopped(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "cowtrace: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
		errno = ECHILD;
		return -1;	/* exec failed: the child said why */
	}
	return pid;
}

/* Has the traced process ended?  Reaps our own child and keeps its status. */
static int target_done(pid_t pid, int own_child, int pidfd, int *status)
{
	if (own_child)
		return waitpid(pid, status, WNOHANG) == pid;
	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

		return poll(&pfd, 1, 0) == 1;
	}
	return kill(pid, 0) && errno == ESRCH;
}

int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "no-children", no_argument, NULL, 'C' },
		{ "only", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct trace_run r = { .t.fd = -1 };
	int children = 1, json = 0, c, status = 0, pidfd = -1, own = 0;
	struct cowtrace_event *buf;
	struct ct_error err;
	uint64_t copied = 0;
	struct json j;
	pid_t pid = 0;

	while ((c = getopt_long(argc, argv, "+p:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!ct_is_pid(optarg))
				return ct_usage("trace", "'%s' is not a PID", optarg);
			pid = atoi(optarg);
			break;
		case 'C': children = 0; break;
		case 'o':
			if (parse_only(optarg, &r.only))
				return ct_usage("trace", "--only: unknown kind in '%s'", optarg);
			break;
		case 'q': r.quiet = 1; break;
		case 'j': json = 1; break;
		case 'h': fputs(trace_help, stdout); return EXIT_OK;
		default: return ct_usage("trace", "bad option");
		}
	}
	if (!pid == (optind == argc))
		return ct_usage("trace", "give either -p PID or -- CMD [ARGS...]");
	buf = calloc(READ_BATCH, sizeof(*buf));
	if (!buf)
		return ct_err(EXIT_RUNTIME, "out of memory");

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!pid) {
		pid = spawn_stopped(argv + optind);
		own = 1;
		if (pid < 0)
			return ct_err(EXIT_RUNTIME, "cannot start '%s': %s", argv[optind],
				      strerror(errno));
	} else {
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	}
	if (ct_trace_start(&r.t, pid, children, &err)) {
		if (own) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return ct_err(EXIT_RUNTIME, "%s", err.msg);
	}
	if (json) {
		json_init(&j, stdout);
		r.j = &j;
		json_object(&j);
		json_kuint(&j, "cowtrace", 1);
		json_kstr(&j, "kind", "trace");
		json_kuint(&j, "pid", pid);
		json_kbool(&j, "children", children);
		json_key(&j, "events");
		json_array(&j);
	} else if (!r.quiet) {
		fprintf(stderr, "cowtrace: tracing pid %d%s; Ctrl-C to stop\n", (int)pid,
			children ? " and its children" : "");
	}
	if (own && ptrace(PTRACE_DETACH, pid, NULL, NULL))
		ct_err(EXIT_RUNTIME, "cannot start the command: %s", strerror(errno));

	for (;;) {
		int n = drain(&r, buf);

		if (n < 0)
			break;
		if (n)
			continue;
		if (interrupted || target_done(pid, own, pidfd, &status))
			break;
		poll(NULL, 0, IDLE_POLL_MS);
	}
	if (ct_trace_stop(&r.t, &err))
		ct_err(EXIT_RUNTIME, "%s", err.msg);
	drain(&r, buf);
	for (size_t i = 0; i < r.nr_procs; i++)
		copied += r.procs[i].copied;
	if (json)
		summary_json(&r, copied);
	else
		summary_text(&r, copied);
	ct_trace_close(&r.t);
	for (size_t i = 0; i < r.nr_procs; i++)
		free(r.procs[i].vmas);
	free(r.procs);
	free(buf);
	if (pidfd >= 0)
		close(pidfd);
	/* -- CMD: exit as the command did, so scripts can wrap it */
	if (own && !interrupted)
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return EXIT_OK;
}
