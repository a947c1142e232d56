/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The judges the claims table (claims.c) names: each decides one fact from
 * the runs' step results, grouped as the seeds' topics are.
 */
#ifndef COWTRACE_CLAIM_JUDGES_H
#define COWTRACE_CLAIM_JUDGES_H

#include "claims.h"

#define JUDGE(name) void name(const struct ct_runs *rs, struct ct_finding *f)

JUDGE(judge_fork_shares);
JUDGE(judge_shares_pages_not_mm);
JUDGE(judge_fork_shares_readonly);
JUDGE(judge_fork_copies_ptes);
JUDGE(judge_fork_write_protects);
JUDGE(judge_fork_copies_and_protects);
JUDGE(judge_fork_copies_data);
JUDGE(judge_fork_copies_ptes_not_pages);
JUDGE(judge_new_mm);
JUDGE(judge_separate_mms);
JUDGE(judge_child_mm_layout);
JUDGE(judge_every_vma_copied);
JUDGE(judge_vmas_map_same_pages);
JUDGE(judge_parent_stays_writable);
JUDGE(judge_ro_pte_in_writable_vma);
JUDGE(judge_write_faults);
JUDGE(judge_every_write_copies);
JUDGE(judge_copies_only_written);
JUDGE(judge_writer_copies_others_keep);
JUDGE(judge_child_copy_parent_reads_old);
JUDGE(judge_writer_gets_writable_copy);
JUDGE(judge_other_keeps_readonly);
JUDGE(judge_both_writable_after_copy);
JUDGE(judge_cow_steps);
JUDGE(judge_first_copies_last_reuses);
JUDGE(judge_fault_per_page_per_writer);
JUDGE(judge_fault_by_cause);
JUDGE(judge_only_shared_pages_copied);
JUDGE(judge_refcount_rule);
JUDGE(judge_fork_exec_copies_nothing);
JUDGE(judge_reads_share);
JUDGE(judge_text_shared_readonly);
JUDGE(judge_data_and_code_shared);
JUDGE(judge_private_shared_until_write);
JUDGE(judge_map_shared_stays_shared);
JUDGE(judge_independent);
JUDGE(judge_vfork_shares_mm);
JUDGE(judge_vfork_copies_no_ptes);
JUDGE(judge_clone_flags);
JUDGE(judge_clone_path);
JUDGE(judge_fork_copies_vfork_shares);
JUDGE(judge_parent_keeps_original);
JUDGE(judge_child_writes_a_copy);
JUDGE(judge_only_child_copies);
JUDGE(judge_vfork_write_allocates_nothing);
JUDGE(judge_vfork_child_writes_land);
JUDGE(judge_shared_write_copies_parent);
JUDGE(judge_vfork_suspends);
JUDGE(judge_bss_zero);
JUDGE(judge_code_write_copies);
JUDGE(judge_exec_replaces);
JUDGE(judge_exec_overwrites_text);
JUDGE(judge_first_touch_tables);
JUDGE(judge_fork_charges_commit);
JUDGE(judge_fork_fails_past_commit_limit);

#endif
