/* SPDX-License-Identifier: GPL-2.0 */
/* What every subcommand shares: options, snapshot sources, errors, output. */
#ifndef COWTRACE_CLI_H
#define COWTRACE_CLI_H

#include <stdint.h>
#include "output.h"
#include "snapshot.h"

/* Exit codes, as the man page documents them. */
#define EXIT_OK 0
#define EXIT_USAGE 1
#define EXIT_RUNTIME 2

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *summary;
};

extern const struct cmd ct_commands[];

/* Print "cowtrace: msg" to stderr; return the exit code given. */
int ct_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error for cmd, with a pointer to its --help. */
int ct_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where snapshots come from. */
enum ct_source_pref { CT_PREF_AUTO, CT_PREF_MODULE, CT_PREF_PROCFS };

struct ct_take_opts {
	uint64_t start, end;
	enum ct_source_pref source;
	int freeze;		/* SIGSTOP the target while it is read */
};

int ct_parse_range(const char *s, uint64_t *start, uint64_t *end);
int ct_parse_source(const char *s, enum ct_source_pref *pref);
int ct_is_pid(const char *s);
/* A live PID or a snapshot file; on error, prints why and returns nonzero. */
int ct_load(const char *arg, const struct ct_take_opts *o, struct ct_snapshot *s);
int ct_take(pid_t pid, const struct ct_take_opts *o, struct ct_snapshot *s,
	    struct ct_error *err);
void ct_take_opts_init(struct ct_take_opts *o);

/* Per-VMA accounting helpers. */
const char *ct_vma_label(const struct ct_snapshot *s, const struct cowtrace_vma *v,
			 char *buf, size_t len);
void ct_perms(const struct cowtrace_vma *v, char out[5]);
/* Letters for the PTE bits, "-" where clear, "?" where the source cannot tell. */
void ct_pte_letters(const struct ct_snapshot *s, const struct cowtrace_page *r,
		    char out[8]);
/* Comma list of the page flags into buf. */
const char *ct_page_flag_names(uint32_t flags, char *buf, size_t len);
const char *ct_level_name(uint32_t flags);

/* One page as a JSON object, per docs/json.md. */
void ct_json_page(struct json *j, const struct ct_snapshot *s,
		  const struct cowtrace_page *r);
void ct_json_vma(struct json *j, const struct ct_snapshot *s,
		 const struct cowtrace_vma *v);
void ct_json_snapshot_header(struct json *j, const struct ct_snapshot *s,
			     const char *kind);

int cmd_snap(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_trace(int argc, char **argv);

#endif
