// SPDX-License-Identifier: GPL-2.0
/* /proc/PID/stat, read (procstat.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "procstat.h"

int ct_proc_stat(pid_t pid, struct ct_proc_stat *st)
{
	char path[64], buf[512], *lp, *rp;
	size_t n, len;
	FILE *f;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* "pid (comm) S ppid ...": the name may hold spaces and parentheses */
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp || sscanf(rp + 1, " %c %d", &st->state, &ppid) != 2)
		return -1;
	len = (size_t)(rp - lp - 1) < sizeof(st->comm) - 1 ? (size_t)(rp - lp - 1) :
								 sizeof(st->comm) - 1;
	memcpy(st->comm, lp + 1, len);
	st->comm[len] = 0;
	st->ppid = ppid;
	return 0;
}

pid_t ct_proc_child_of(pid_t ppid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;

	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d))) {
		struct ct_proc_stat st;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (!ct_proc_stat(atoi(e->d_name), &st) && st.ppid == ppid)
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

int ct_proc_wait_state(pid_t pid, char state, const char *comm, int ms, struct ct_proc_stat *st)
{
	struct timespec pause = { 0, 1000 * 1000 };

	memset(st, 0, sizeof(*st));
	for (int i = 0; i <= ms; i++) {
		if (!ct_proc_stat(pid, st) && st->state == state && (!comm || !strcmp(st->comm, comm)))
			return 0;
		nanosleep(&pause, NULL);
	}
	return -1;
}
