/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctl fuzzers' call generator, shared by the random fuzzer
 * (guest_fuzz) and the coverage-guided one (fuzz_kcov).  It is seeded
 * (COWTRACE_FUZZ_SEED replays a run) and makes whole calls: a command word,
 * mostly ours, sometimes with the wrong type, nr, direction or size; the
 * argument struct, random bytes and then plausible-but-wrong fields (sizes,
 * flags, reserved fields, ranges, PIDs, capacities, and buffer pointers that
 * are NULL, kernel addresses, unmapped, read-only, or end at a guard page);
 * and, now and then, a wild argument pointer.
 *
 * A call is data, so that the coverage-guided fuzzer can keep one and change
 * it field by field: each command's struct is a table of fields, each with
 * the generator of its kind.
 */
#ifndef COWTRACE_FUZZ_GEN_H
#define COWTRACE_FUZZ_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FUZZ_ARG_WORDS 64	/* every struct fits, with trailing bytes */

/* One ioctl call, all of it: what a corpus keeps. */
struct fuzz_call {
	unsigned long cmd;
	unsigned int layout;		/* whose struct arg holds: the nr it was made for */
	int wild_argp;			/* the argument pointer is argp, not arg */
	uint64_t argp;
	uint64_t arg[FUZZ_ARG_WORDS];
};

/* xorshift64*: reproducible from the seed printed at the start */
extern uint64_t rng_state;
uint64_t rnd_r(uint64_t *state);	/* one step; threads each step their own */
uint64_t rnd(void);
/* Seed from COWTRACE_FUZZ_SEED or the pid, and print the seed. */
void seed_rng(void);

/*
 * Map the memory pointers may name, and remember a live and a gone pid for
 * the pid fields.  Before any call is made.
 */
void fuzz_gen_init(pid_t live, pid_t gone);

/* A new random call. */
void fuzz_gen_call(struct fuzz_call *c);

/* The fields of a layout (0 for a nr that is not ours: only random bytes). */
unsigned int fuzz_nr_fields(unsigned int layout);
/* Give field i of c a new value from its kind's generator. */
void fuzz_gen_field(struct fuzz_call *c, unsigned int i);
uint64_t fuzz_get_field(const struct fuzz_call *c, unsigned int i);
void fuzz_set_field(struct fuzz_call *c, unsigned int i, uint64_t v);
/* Bytes of the layout's struct (the whole argument for a nr not ours). */
size_t fuzz_struct_bytes(unsigned int layout);

/* The command word with its type, nr, direction or size changed. */
unsigned long fuzz_mangle_command(unsigned long cmd);
/* One of our six command words. */
unsigned long fuzz_our_command(void);
/* A pointer: valid, or one of the ways a pointer can be wrong. */
uint64_t fuzz_any_pointer(void);

#endif
