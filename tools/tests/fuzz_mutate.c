// SPDX-License-Identifier: GPL-2.0
/* The mutations of fuzz_mutate.h. */
#include <string.h>

#include "fuzz_mutate.h"

enum mutation { M_FIELD, M_NUDGE, M_BITFLIP, M_COMMAND, M_SPLICE, M_ARGP };

/*
 * How often each is picked, in sixteenths: mostly the fields; rarely the
 * argument pointer, as a wild one ends every call at the first copy.
 */
static const enum mutation weighted[16] = {
	M_FIELD, M_FIELD, M_FIELD, M_FIELD, M_NUDGE, M_NUDGE, M_NUDGE, M_NUDGE,
	M_BITFLIP, M_BITFLIP, M_COMMAND, M_COMMAND, M_SPLICE, M_SPLICE, M_SPLICE, M_ARGP,
};

/* A field to change, or -1 for a nr that is not ours (its struct is bytes). */
static int any_field(const struct fuzz_call *c)
{
	unsigned int n = fuzz_nr_fields(c->layout);

	return n ? (int)(rnd() % n) : -1;
}

static uint64_t nudged(uint64_t v)
{
	switch (rnd() % 8) {
	case 0:
		return v + 1;
	case 1:
		return v - 1;
	case 2:
		return v + 8;
	case 3:
		return v - 8;
	case 4:
		return v + 4096;
	case 5:
		return v - 4096;
	case 6:
		return v << 1;
	}
	return v >> 1;
}

static void flip_bit(struct fuzz_call *c)
{
	size_t bit = rnd() % (fuzz_struct_bytes(c->layout) * 8);

	((unsigned char *)c->arg)[bit / 8] ^= (unsigned char)(1u << (bit % 8));
}

/* Another command of ours, or ours mangled: the struct of one sent as another. */
static void change_command(struct fuzz_call *c)
{
	c->cmd = rnd() % 2 ? fuzz_our_command() : fuzz_mangle_command(c->cmd);
}

static void toggle_argp(struct fuzz_call *c)
{
	c->wild_argp = !c->wild_argp;
	c->argp = c->wild_argp ? fuzz_any_pointer() : 0;
}

/* The struct from a field (a byte, for a nr not ours) on comes from other. */
static void splice(struct fuzz_call *c, const struct fuzz_call *other)
{
	size_t bytes = fuzz_struct_bytes(c->layout), from = rnd() % bytes;
	unsigned int n = fuzz_nr_fields(c->layout);

	if (other->layout == c->layout && n) {
		for (unsigned int i = (unsigned int)(rnd() % n); i < n; i++)
			fuzz_set_field(c, i, fuzz_get_field(other, i));
		return;
	}
	memcpy((char *)c->arg + from, (const char *)other->arg + from, bytes - from);
}

static void mutate_once(struct fuzz_call *c, const struct fuzz_call *other)
{
	int f = any_field(c);
	enum mutation m = weighted[rnd() % 16];

	/* a struct without fields has only bits to flip */
	if (f < 0 && (m == M_FIELD || m == M_NUDGE))
		m = M_BITFLIP;
	switch (m) {
	case M_FIELD:
		fuzz_gen_field(c, (unsigned int)f);
		break;
	case M_NUDGE:
		fuzz_set_field(c, (unsigned int)f, nudged(fuzz_get_field(c, (unsigned int)f)));
		break;
	case M_BITFLIP:
		flip_bit(c);
		break;
	case M_COMMAND:
		change_command(c);
		break;
	case M_SPLICE:
		splice(c, other);
		break;
	case M_ARGP:
		toggle_argp(c);
		break;
	}
}

void fuzz_mutate(struct fuzz_call *c, const struct fuzz_call *other)
{
	unsigned int n = 1 + (unsigned int)(rnd() % 3);

	for (unsigned int i = 0; i < n; i++)
		mutate_once(c, other);
}
