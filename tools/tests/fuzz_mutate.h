/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mutations of a kept call, for the coverage-guided fuzzer: a call that
 * reached new code is a good place to look for more, a change or two away.
 */
#ifndef COWTRACE_FUZZ_MUTATE_H
#define COWTRACE_FUZZ_MUTATE_H

#include "fuzz_gen.h"

/*
 * Change c in one to three ways: a field regenerated, nudged (+-1, +-8,
 * +-a page, doubled, halved: sizes and capacities at their edges) or a bit
 * of the struct flipped; the command word changed; the argument pointer
 * made wild or sane again; or the fields from some point on taken from
 * other, a second kept call.
 */
void fuzz_mutate(struct fuzz_call *c, const struct fuzz_call *other);

#endif
