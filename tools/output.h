/* SPDX-License-Identifier: GPL-2.0 */
/* Output helpers: human sizes, aligned tables, and a streaming JSON writer. */
#ifndef COWTRACE_OUTPUT_H
#define COWTRACE_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

/* "12 KiB", "3.5 MiB": into buf, which is returned. */
const char *ct_human_bytes(uint64_t bytes, char *buf, size_t len);
/* "12.5%" of part in whole ("-" when whole is 0). */
const char *ct_percent(uint64_t part, uint64_t whole, char *buf, size_t len);

/*
 * JSON, written as it goes.  Commas and nesting are tracked, so callers only
 * say what comes next.  Up to 32 levels.
 */
struct json {
	FILE *f;
	int depth;
	int first[32];	/* nothing written yet at this level */
	int after_key;
};

void json_init(struct json *j, FILE *f);
void json_object(struct json *j);	/* { */
void json_array(struct json *j);	/* [ */
void json_end_object(struct json *j);	/* } */
void json_end_array(struct json *j);	/* ] */
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);
/* key + value in one call */
void json_kstr(struct json *j, const char *key, const char *s);
void json_kuint(struct json *j, const char *key, uint64_t v);
void json_kbool(struct json *j, const char *key, int v);
/* true/false, or null when the source could not tell */
void json_kbool_or_null(struct json *j, const char *key, int v, int unavailable);

#endif
