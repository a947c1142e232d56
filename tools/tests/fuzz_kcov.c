// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI fuzzed the way syzkaller does it, guided by coverage: on the
 * debug kernels (CONFIG_KCOV, and module/Kbuild instruments the module),
 * KCOV gives each call's PCs in the module; a call that reached a PC no call
 * before it did is kept in a corpus, and each next call is a mutation of
 * kept ones (fuzz_mutate.h) or, one in FRESH_IN, a new one from the random
 * fuzzer's generator (fuzz_gen.h).  Every call must succeed or fail with an
 * errno docs/abi.md lists, and come back (the watchdog), as in guest_fuzz.
 *
 * The number of calls is fixed: COWTRACE_FUZZ_CALLS, DEFAULT_CALLS unless
 * set (make check; make fuzz sets many more).  The seed is printed, and
 * COWTRACE_FUZZ_SEED replays the generator; the corpus follows as long as
 * the kernel takes the same paths, which a blocked read woken by a timer
 * need not.
 *
 * Not named guest_*: scripts/guest-suite runs those on every kernel, and
 * this needs KCOV, so make check runs it on the debug kernels alone.  On a
 * kernel without KCOV it skips, saying why.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_exec.h"
#include "fuzz_mutate.h"
#include "kcov.h"

/*
 * make check's share: about 100 s on the 6.1 debug kernel under TCG with
 * KASAN (3,000 calls took 28 s there, and reached 507 module PCs, still
 * growing at the end).  The progress lines give the time to tune it by.
 */
#define DEFAULT_CALLS 10000
#define FRESH_IN 5		/* one call in five is new, the rest mutations */
#define CORPUS_MAX 4096
/*
 * A floor, not a measurement: the module has some 1,500 instrumented sites
 * (the 6.1 debug build), and the argument checks, MM_INFO, snapshots and
 * sessions that random calls already reach should pass well over this
 * many.  Checked from DEFAULT_CALLS calls on.
 */
#define MIN_PCS 200
#define MODULE "cowtrace"

/* What the campaign found, for the test after it (each test is a process). */
static struct campaign {
	int done;
	char skip[256];
	long calls, mutated, kept_by_mutation;
	size_t first_pcs, pcs;
	int corpus;
} *campaign;

__attribute__((constructor)) static void share_campaign(void)
{
	campaign = mmap(NULL, sizeof(*campaign), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (campaign == MAP_FAILED)
		abort();
}

struct run {
	int fd;
	struct kcov k;
	struct fuzz_verdicts v;
	struct fuzz_call *corpus;
	int n;
	struct timespec start;
};

static long calls_wanted(void)
{
	const char *s = getenv("COWTRACE_FUZZ_CALLS");
	long n = s ? strtol(s, NULL, 0) : 0;

	return n > 0 ? n : DEFAULT_CALLS;
}

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (now.tv_nsec - t->tv_nsec) / 1e9;
}

static void keep(struct run *r, const struct fuzz_call *c, int mutated)
{
	if (r->n == CORPUS_MAX)
		return;
	r->corpus[r->n++] = *c;
	campaign->kept_by_mutation += mutated;
}

/* A mutation of a kept call (1), or a new call (0). */
static int next_call(struct run *r, struct fuzz_call *c)
{
	const struct fuzz_call *other;

	if (rnd() % FRESH_IN == 0) {
		fuzz_gen_call(c);
		return 0;
	}
	*c = r->corpus[rnd() % (uint64_t)r->n];
	other = &r->corpus[rnd() % (uint64_t)r->n];
	fuzz_mutate(c, other);
	return 1;
}

/* The PCs are read before a session the call started is stopped: its own. */
static void run_one(struct run *r, long i)
{
	struct fuzz_call c;
	int mutated = next_call(r, &c), ret, err;
	size_t fresh;

	kcov_reset(&r->k);
	err = fuzz_exec(r->fd, &c, "kcov", i, &ret);
	fresh = kcov_collect(&r->k, NULL);
	fuzz_end_session(r->fd, &c, ret);
	fuzz_judge(&r->v, &c, ret, err);
	campaign->mutated += mutated;
	if (fresh)
		keep(r, &c, mutated);
}

/*
 * A VERSION call that must succeed: it runs the module's ioctl entry, so
 * its PCs settle KASLR's offset and prove that KCOV sees the module.  It is
 * the corpus's first entry.
 */
static void first_call(struct run *r)
{
	struct fuzz_call c = { .cmd = COWTRACE_IOC_VERSION, .layout = 0 };
	struct cowtrace_version ver = { .size = sizeof(ver) };
	int ret, err;

	memcpy(c.arg, &ver, sizeof(ver));
	kcov_reset(&r->k);
	err = fuzz_exec(r->fd, &c, "kcov", 0, &ret);
	fuzz_judge(&r->v, &c, ret, err);
	ASSERT_EQ(err, 0);
	if (!kcov_settle_offset(&r->k))
		FAIL("KCOV traced %lu PCs in COWTRACE_IOC_VERSION, none in %s's text %#llx-%#llx: is the module built with KCOV_INSTRUMENT (module/Kbuild)?",
		     r->k.area[0], MODULE, (unsigned long long)r->k.lo,
		     (unsigned long long)r->k.hi);
	kcov_collect(&r->k, NULL);
	keep(r, &c, 0);
	campaign->first_pcs = r->k.distinct;
}

static void progress(const struct run *r, long i, long calls)
{
	if (calls >= 10 && i % (calls / 10) == 0)
		printf("# kcov: %ld/%ld calls in %.1f s: %zu module PCs, corpus %d\n", i, calls,
		       seconds_since(&r->start), r->k.distinct, r->n);
}

static void report(const struct run *r, long calls)
{
	printf("# kcov: %ld calls (%ld mutations of kept calls, %ld new) in %.1f s\n", calls,
	       campaign->mutated, calls - 1 - campaign->mutated, seconds_since(&r->start));
	printf("# kcov: %zu distinct module PCs (the first call reached %zu), corpus %d (%ld kept from mutations)%s\n",
	       r->k.distinct, campaign->first_pcs, r->n, campaign->kept_by_mutation,
	       r->n == CORPUS_MAX ? ", full" : "");
	if (r->k.overflows)
		printf("# kcov: %lu calls traced more PCs than the %zu-word area holds\n",
		       r->k.overflows, r->k.words);
	print_errno_tally("kcov-guided calls", &r->v.t);
}

static void open_run(struct run *r)
{
	char why[256];

	if (kcov_open(&r->k, why, sizeof(why))) {
		/* make check's debug kernels have KCOV: there its absence is a failure */
		if (getenv("COWTRACE_REQUIRE_KCOV"))
			FAIL("%s (COWTRACE_REQUIRE_KCOV is set)", why);
		snprintf(campaign->skip, sizeof(campaign->skip), "%s", why);
		SKIP("%s", why);
	}
	r->fd = must_open_ctl();
	if (kcov_find_module(&r->k, MODULE, why, sizeof(why)))
		FAIL("%s", why);
	r->corpus = calloc(CORPUS_MAX, sizeof(*r->corpus));
	ASSERT_TRUE(r->corpus);
}

/* The harness's alarm is fixed per test; this one's length is the call count's. */
TEST_TIMEOUT(kcov_guided_calls_return_documented_errnos, 600)
{
	struct run r = { .v = FUZZ_VERDICTS_INIT };
	long calls = calls_wanted();
	struct puppet live;

	/* a hang backstop well inside make check's 1200 s guest: 10 ms a call is usual */
	alarm(300 + (unsigned int)(calls / 20));
	open_run(&r);
	fuzz_exec_setup(r.fd, &live);
	printf("# kcov: %ld calls (COWTRACE_FUZZ_CALLS); %s's text %#llx-%#llx\n", calls,
	       MODULE, (unsigned long long)r.k.lo, (unsigned long long)r.k.hi);
	ct_step("coverage-guided calls");
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	kcov_enable(&r.k);
	first_call(&r);
	for (long i = 1; i < calls; i++) {
		progress(&r, i, calls);
		run_one(&r, i);
	}
	kcov_close(&r.k);
	stop_any_session(r.fd);
	campaign->calls = calls;
	campaign->pcs = r.k.distinct;
	campaign->corpus = r.n;
	report(&r, calls);
	EXPECT_EQ(r.v.undocumented, 0);
	puppet_kill(&live);
	close(r.fd);
	campaign->done = 1;
}

/*
 * Coverage that KCOV did not collect, or the module's PCs misplaced, would
 * leave nothing past the first call; guidance that did nothing, no entry
 * found by a mutation.
 */
TEST(kcov_coverage_grew_beyond_the_first_call)
{
	if (campaign->skip[0])
		SKIP("%s", campaign->skip);
	if (!campaign->done)
		FAIL("the campaign (kcov_guided_calls_return_documented_errnos) did not finish");
	EXPECT_GT(campaign->pcs, campaign->first_pcs);
	EXPECT_GT(campaign->corpus, 1);
	if (campaign->calls < DEFAULT_CALLS) {
		printf("# %ld calls, fewer than %d: the lower bounds are not checked\n",
		       campaign->calls, DEFAULT_CALLS);
		return;
	}
	EXPECT_GE(campaign->pcs, MIN_PCS);
	EXPECT_GT(campaign->kept_by_mutation, 0);
}
