// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the claims (claims.h), linked into host_unit: the
 * catalogue's shape, a step's results recorded from synthetic snapshots,
 * and every kind of verdict, judged from synthetic runs.  What the guest
 * tests check against the running kernel, these check against the numbers
 * a run could have given: that the verdict follows the run, not a table.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "../claims.h"
#include "../run_record.h"
#include "harness.h"

#define PAGE 4096ull
#define PRESENT_ANON (COWTRACE_PTE_PRESENT | COWTRACE_PG_PAGE | COWTRACE_PG_ANON)

static const struct ct_claim *claim(const char *id)
{
	for (size_t i = 0; i < ct_nr_claims; i++)
		if (!strcmp(ct_claims[i].id, id))
			return &ct_claims[i];
	ct_fail(__FILE__, __LINE__, "no claim %s", id);
	ct_abort();
}

TEST(claims_catalogue_covers_every_seed)
{
	size_t per_seed[5] = { 0 }, judged = 0;

	EXPECT_EQ(ct_nr_claims, 68);
	for (size_t i = 0; i < ct_nr_claims; i++) {
		const struct ct_claim *c = &ct_claims[i];
		int seed = atoi(c->seed);

		ASSERT_TRUE(seed >= 0 && seed < 5);
		per_seed[seed]++;
		if (strncmp(c->id, c->seed, 3) || atoi(c->id + 4) != (int)per_seed[seed])
			ct_fail(__FILE__, __LINE__, "claim %s is out of order", c->id);
		if (!c->quote[0] || !c->claim[0] || !c->experiment[0] || !c->kernel[0] || !c->lines[0])
			ct_fail(__FILE__, __LINE__, "claim %s lacks a field", c->id);
		if (!c->judge != !c->scenarios[0] || !c->judge != !!c->untested)
			ct_fail(__FILE__, __LINE__, "claim %s: a judge needs scenarios, no judge a why", c->id);
		judged += !!c->judge;
	}
	EXPECT_EQ(per_seed[0], 10);
	EXPECT_EQ(per_seed[1], 15);
	EXPECT_EQ(per_seed[2], 12);
	EXPECT_EQ(per_seed[3], 13);
	EXPECT_EQ(per_seed[4], 18);
	EXPECT_GE(judged, 50);
}

/* ---- synthetic runs ---- */

static struct ct_run_result *new_run(const char *name, int nr_steps)
{
	struct ct_run_result *r = calloc(1, sizeof(*r));

	snprintf(r->scenario, sizeof(r->scenario), "%s", name);
	r->ran = 1;
	r->traced = 1;
	r->nr_steps = nr_steps;
	r->nr_regions = 1;
	r->regions[0][0] = 0x10000;
	r->regions[0][1] = PAGE;
	for (int i = 0; i < nr_steps; i++) {
		r->steps[i].step = i + 1;
		r->steps[i].nr_sides = i ? 2 : 1;
		r->steps[i].events_known = 1;
		r->steps[i].side[0].seen = r->steps[i].side[1].seen = 1;
	}
	return r;
}

static struct cowtrace_page page(uint64_t pfn, uint32_t flags, uint32_t map, uint32_t ref)
{
	return (struct cowtrace_page){ .addr = 0x10000, .pfn = pfn, .flags = PRESENT_ANON | flags,
				       .mapcount = map, .folio_mapcount = map, .refcount = ref };
}

/* A write by the actor that moved it from page a to page b, told as s. */
static void write_step(struct ct_run_step *st, int actor, struct cowtrace_page a,
		       struct cowtrace_page b, enum ct_story s)
{
	st->actor = actor;
	st->focus = st->subject = 0x10000;
	st->has_story = 1;
	st->story = s;
	st->side[actor].before = (struct ct_run_at){ .has_page = 1, .page = a };
	st->side[actor].after = (struct ct_run_at){ .has_page = 1, .page = b };
	st->focus_ev[s == CT_STORY_REUSED ? COWTRACE_EV_WP_REUSE : COWTRACE_EV_WP_COPY] = 1;
}

/*
 * last_sharer and pinned_write as a kernel plays them: the child's write
 * copies the shared page, the parent's reuses it, and the write to the page
 * a pipe holds (mapcount 1, refcount 2) copies if pinned_copies.
 */
static void reuse_runs(int pinned_copies, struct ct_run_result **ls, struct ct_run_result **pw)
{
	*ls = new_run("last_sharer", 4);
	*pw = new_run("pinned_write", 5);
	write_step(&(*ls)->steps[2], CT_CHILD, page(5, 0, 2, 2), page(6, COWTRACE_PTE_WRITE, 1, 1),
		   CT_STORY_COW_COPIED);
	write_step(&(*ls)->steps[3], CT_PARENT, page(5, 0, 1, 1), page(5, COWTRACE_PTE_WRITE, 1, 1),
		   CT_STORY_REUSED);
	if (pinned_copies)
		write_step(&(*pw)->steps[3], CT_PARENT, page(7, 0, 1, 2),
			   page(8, COWTRACE_PTE_WRITE, 1, 1), CT_STORY_COW_COPIED);
	else
		write_step(&(*pw)->steps[3], CT_PARENT, page(7, COWTRACE_PG_ANON_EXCL, 1, 2),
			   page(7, COWTRACE_PTE_WRITE | COWTRACE_PG_ANON_EXCL, 1, 2),
			   CT_STORY_REUSED);
}

static enum ct_verdict judge(const char *id, struct ct_run_result **runs, size_t n,
			     struct ct_claim_result *out)
{
	struct ct_runs rs = { (const struct ct_run_result *const *)runs, n, 0 };

	ct_judge_claim(claim(id), &rs, out);
	return out->verdict;
}

TEST(claims_reuse_rule_verdicts_follow_the_run)
{
	struct ct_run_result *runs[2];
	struct ct_claim_result res;

	/* as 5.10 does: the pipe's reference forbids the reuse */
	reuse_runs(1, &runs[0], &runs[1]);
	EXPECT_EQ(judge("004-15", runs, 2, &res), CT_V_TRUE_HERE);
	EXPECT_TRUE(strstr(res.verdict_text, "5.19"));
	EXPECT_EQ(judge("004-2", runs, 2, &res), CT_V_FALSE_HERE);
	EXPECT_TRUE(strstr(res.f.observed, "cow-copied"));
	free(runs[0]);
	free(runs[1]);
	/* as 5.19 and later do: PageAnonExclusive, reused at refcount 2 */
	reuse_runs(0, &runs[0], &runs[1]);
	EXPECT_EQ(judge("004-15", runs, 2, &res), CT_V_FALSE_HERE);
	EXPECT_TRUE(strstr(res.f.observed, "refcount 2"));
	EXPECT_EQ(judge("004-2", runs, 2, &res), CT_V_TRUE_HERE);
	/* the rule everywhere: the last sharer reuses */
	EXPECT_EQ(judge("002-4", runs, 2, &res), CT_V_PARTLY);
	EXPECT_TRUE(strstr(res.verdict_text, "true for the first writer"));
	free(runs[0]);
	free(runs[1]);
}

/* private_vs_shared's fork: the private PTEs copied, the shared ones not. */
static struct ct_run_result *fork_of_private_and_shared(void)
{
	struct ct_run_result *r = new_run("private_vs_shared", 2);
	struct ct_run_step *st = &r->steps[1];

	r->nr_regions = 2;
	st->rel[0][CT_SHARED] = 4;
	st->rel[1][CT_PARENT_ONLY] = 4;
	st->side[CT_PARENT].changes[0][CT_WRITE_PROTECTED] = 4;
	return r;
}

TEST(claims_partly_names_both_classes)
{
	struct ct_run_result *r = fork_of_private_and_shared();
	struct ct_claim_result res;

	EXPECT_EQ(judge("000-2", &r, 1, &res), CT_V_PARTLY);
	EXPECT_TRUE(strstr(res.verdict_text, "true for private memory") &&
		    strstr(res.verdict_text, "false for MAP_SHARED"));
	/* 004-7 says the opposite fact: no lower page tables copied */
	EXPECT_EQ(judge("004-7", &r, 1, &res), CT_V_PARTLY);
	EXPECT_TRUE(strstr(res.verdict_text, "true for MAP_SHARED"));
	EXPECT_EQ(judge("000-3", &r, 1, &res), CT_V_PARTLY);
	/* had fork copied the shared PTEs too, the rule would hold for all */
	r->steps[1].rel[1][CT_SHARED] = 4;
	r->steps[1].rel[1][CT_PARENT_ONLY] = 0;
	EXPECT_EQ(judge("000-2", &r, 1, &res), CT_V_TRUE);
	EXPECT_EQ(judge("004-7", &r, 1, &res), CT_V_FALSE);
	free(r);
}

TEST(claims_without_a_fact_are_undecided)
{
	struct ct_run_result *r = fork_of_private_and_shared(), *none[1] = { NULL }, *sv_ls[2];
	struct ct_claim_result res;

	/* procfs: no write bit, no events, no mm counters */
	for (int i = 0; i < r->nr_steps; i++) {
		r->steps[i].events_known = 0;
		r->steps[i].side[0].unavailable = r->steps[i].side[1].unavailable = CT_UNAVAIL_WRITE;
	}
	snprintf(r->scenario, sizeof(r->scenario), "shared_variable");
	EXPECT_EQ(judge("004-9", &r, 1, &res), CT_V_UNDECIDED);
	EXPECT_TRUE(strstr(res.verdict_text, "write bit"));
	EXPECT_EQ(judge("001-9", &r, 1, &res), CT_V_UNDECIDED);
	EXPECT_TRUE(strstr(res.verdict_text, "mm counters"));
	sv_ls[0] = new_run("shared_variable", 4);
	sv_ls[1] = new_run("last_sharer", 4);
	for (int i = 0; i < 4; i++)
		sv_ls[0]->steps[i].events_known = sv_ls[1]->steps[i].events_known = 0;
	EXPECT_EQ(judge("000-4", sv_ls, 2, &res), CT_V_UNDECIDED);
	EXPECT_TRUE(strstr(res.verdict_text, "events"));
	free(sv_ls[0]);
	free(sv_ls[1]);
	/* a scenario that stopped, or was never played */
	reuse_runs(0, &sv_ls[0], &sv_ls[1]);
	sv_ls[1]->nr_steps = 2;
	snprintf(sv_ls[1]->stopped, sizeof(sv_ls[1]->stopped), "no soft-dirty here");
	EXPECT_EQ(judge("004-15", sv_ls, 2, &res), CT_V_UNDECIDED);
	EXPECT_TRUE(strstr(res.verdict_text, "no soft-dirty here"));
	free(sv_ls[0]);
	free(sv_ls[1]);
	for (size_t i = 0; i < ct_nr_claims; i++) {
		struct ct_runs rs = { (const struct ct_run_result *const *)none, 0, -1 };

		ct_judge_claim(&ct_claims[i], &rs, &res);
		if (res.verdict != (ct_claims[i].judge ? CT_V_UNDECIDED : CT_V_UNTESTED))
			ct_fail(__FILE__, __LINE__, "claim %s without runs: %s", ct_claims[i].id,
				res.verdict_text);
	}
	free(r);
}

/* ---- a step recorded from snapshots ---- */

static void snapshot_of(struct ct_snapshot *s, struct cowtrace_page *pages, size_t n,
			struct cowtrace_vma *vma, uint32_t pid)
{
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->source = CT_SOURCE_MODULE;
	s->page_size = PAGE;
	s->pages = pages;
	s->nr_pages = n;
	s->vmas = vma;
	s->nr_vmas = 1;
	s->mm.mm_users = 1;
	s->mm.pgtables_bytes = 8192;
}

TEST(claims_step_results_are_the_snapshots)
{
	struct ct_run_result *r = new_run("private_vs_shared", 0);
	struct cowtrace_vma vma = { .start = 0x10000, .end = 0x20000, .flags = COWTRACE_VMA_WRITE };
	struct cowtrace_page par[] = { page(1, 0, 2, 2), page(2, COWTRACE_PTE_WRITE, 2, 2),
				       page(3, 0, 1, 1) };
	struct cowtrace_page chi[] = { page(1, 0, 2, 2), page(2, COWTRACE_PTE_WRITE, 2, 2) };
	struct cowtrace_event fork = { .kind = COWTRACE_EV_FORK, .pid = 10, .fork_ptes = 3 };
	struct ct_run_value v = { "read_sum", 7 };
	struct ct_snapshot p, c;
	struct ct_run_step st;
	struct ct_run_obs o;
	int64_t got = 0;

	par[1].addr = chi[1].addr = 0x11000;
	par[2].addr = 0x18000;
	r->nr_regions = 2;
	r->regions[1][0] = 0x11000;
	r->regions[1][1] = PAGE * 8;
	snapshot_of(&p, par, 3, &vma, 10);
	snapshot_of(&c, chi, 2, &vma, 11);
	o = (struct ct_run_obs){ .step = 2, .action = "fork()", .now = { &p, &c },
				 .pids = { 10, 11 }, .events_agree = -1, .ev = &fork, .nr_ev = 1,
				 .events_known = 1, .values = &v, .nr_values = 1 };
	ct_run_record_step(r, &o, &st);
	EXPECT_EQ(st.nr_sides, 2);
	EXPECT_EQ(st.rel[0][CT_SHARED], 1);
	EXPECT_EQ(st.rel[1][CT_SHARED], 1);
	EXPECT_EQ(st.writable_shared[1], 1);
	EXPECT_EQ(st.rel[1][CT_PARENT_ONLY], 1);
	EXPECT_EQ(ct_run_rel(&st, CT_SHARED), 2);
	EXPECT_EQ(st.side[CT_PARENT].changes[1][CT_FAULTED], 2);	/* no previous snapshot */
	EXPECT_EQ(st.side[CT_CHILD].mm.pgtables_bytes, 8192);
	EXPECT_TRUE(st.side[CT_CHILD].mm_known);
	EXPECT_EQ(st.side[CT_PARENT].vmas_like_other, 1);
	EXPECT_EQ(st.subject, 0x10000);
	EXPECT_EQ(st.side[CT_CHILD].region[1].page.pfn, 2);
	EXPECT_TRUE(st.has_fork && st.fork.fork_ptes == 3);
	EXPECT_EQ(st.ev[CT_PARENT][COWTRACE_EV_FORK], 1);
	EXPECT_EQ(ct_run_value(&st, "read_sum", &got), 0);
	EXPECT_EQ(got, 7);
	EXPECT_EQ(ct_run_value(&st, "nothing", &got), -1);
	free(r);
}

static void value(struct ct_run_step *st, const char *name, int64_t v)
{
	st->values[st->nr_values++] = (struct ct_run_value){ name, v };
}

TEST(claims_of_the_new_experiments_follow_their_numbers)
{
	struct ct_run_result *vs = new_run("vfork_suspends", 3), *ft = new_run("first_touch", 2);
	struct ct_claim_result res;

	value(&vs->steps[1], "parent_state", 'D');
	value(&vs->steps[1], "replied_while_child_lives", 0);
	value(&vs->steps[2], "vfork_returned", 1);
	vs->steps[2].has_fork = vs->steps[2].exit_before_fork = 1;
	EXPECT_EQ(judge("003-8", &vs, 1, &res), CT_V_TRUE);
	/* a parent that returned while its child lived was not suspended */
	vs->steps[1].values[1].v = 1;
	EXPECT_EQ(judge("003-8", &vs, 1, &res), CT_V_FALSE);
	vs->steps[1].nr_values = 0;
	EXPECT_EQ(judge("003-8", &vs, 1, &res), CT_V_UNDECIDED);
	EXPECT_TRUE(strstr(res.verdict_text, "parent_state"));
	/* VmPTE before and after a first read, in a process with no child */
	for (int i = 0; i < 2; i++) {
		ft->steps[i].nr_sides = 1;
		ft->steps[i].side[0].mm_known = 1;
	}
	ft->steps[0].side[0].mm.pgtables_bytes = 40960;
	ft->steps[1].side[0].mm.pgtables_bytes = 45056;
	write_step(&ft->steps[1], CT_PARENT, page(1, 0, 1, 1), page(2, COWTRACE_PG_ZERO, 1, 1),
		   CT_STORY_ZERO_MAPPED);
	EXPECT_EQ(judge("004-12", &ft, 1, &res), CT_V_TRUE);
	EXPECT_EQ(res.f.ev[0].v, 4096);
	ft->steps[1].side[0].mm.pgtables_bytes = 40960;
	EXPECT_EQ(judge("004-12", &ft, 1, &res), CT_V_FALSE);
	free(vs);
	free(ft);
}
