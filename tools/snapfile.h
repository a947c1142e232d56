/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The snapshot file: portable (little-endian, fixed widths) and compact
 * (page records delta- and varint-encoded, about 6 bytes per page).
 * docs/file-format.md describes it byte by byte.
 */
#ifndef COWTRACE_SNAPFILE_H
#define COWTRACE_SNAPFILE_H

#include <stdio.h>
#include "snapshot.h"

#define CT_FILE_MAGIC "CWTRSNAP"
#define CT_FILE_VERSION 2	/* written; version 1 (no runs) is still read */

int ct_file_write(FILE *f, const struct ct_snapshot *s, struct ct_error *err);
int ct_file_read(FILE *f, struct ct_snapshot *s, struct ct_error *err);
int ct_file_save(const char *path, const struct ct_snapshot *s,
		 struct ct_error *err);
int ct_file_load(const char *path, struct ct_snapshot *s, struct ct_error *err);

#endif
