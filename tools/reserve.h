/* SPDX-License-Identifier: GPL-2.0 */
/* Arrays that grow by doubling: one helper for every growing array here. */
#ifndef COWTRACE_RESERVE_H
#define COWTRACE_RESERVE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * Grow *buf, of *cap elements of size sz, to hold want; returns 0, or
 * -ENOMEM with *buf and *cap as they were.  A want whose doubling or byte
 * size would overflow size_t is -ENOMEM too: unchecked, the doubling wraps
 * to 0 and loops for ever.
 */
static inline int ct_reserve(void **buf, size_t *cap, size_t want, size_t sz)
{
	void *p;
	size_t n = *cap ? *cap : 16;

	if (want <= *cap)
		return 0;
	while (n < want) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	if (n > SIZE_MAX / sz)
		return -ENOMEM;
	p = realloc(*buf, n * sz);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

#endif
