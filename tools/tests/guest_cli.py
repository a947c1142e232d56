#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""End-to-end tests of the cowtrace tool in a guest with the module loaded.

Every subcommand and every scenario runs on real processes, and what the tool
reports is checked against what the kernel is known to do at that step (the
numbers are stated here, not taken from the tool).  Prints TAP.
"""
import ctypes
import errno
import json
import mmap
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cowtrace")
PAGE = 4096
results = []


def cowtrace(*args, check=True):
    p = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"cowtrace {' '.join(map(str, args))}: exit {p.returncode}: {p.stderr}")
    return p


def cowtrace_json(*args):
    return json.loads(cowtrace(*args, "--json").stdout)


def test(fn):
    results.append(fn)
    return fn


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


class Skip(Exception):
    pass


# ---- scenarios: the kernel's textbook behaviour, step by step ----

def steps(name):
    d = cowtrace_json("run", name)
    expect(d["kind"] == "scenario" and d["name"] == name, "scenario header")
    return d, d["steps"]


def changes(step, who):
    return step["changes"].get(who, {})


@test
def scenario_shared_variable():
    _, s = steps("shared_variable")
    expect(changes(s[1], "parent") == {"write-protected": 1}, f"fork write-protects the parent's page: {s[1]}")
    expect(s[1]["compare"]["shared_pages"] == 1, "after fork the page is shared")
    expect(s[1]["compare"]["writable_shared_pages"] == 0, "and read-only on both sides")
    expect(changes(s[2], "child") == {"cow-copied": 1}, f"the child's write copies: {s[2]}")
    expect(changes(s[2], "parent") == {"shared-less": 1}, "the parent's page loses a mapping")
    expect(s[2]["compare"]["diverged_pages"] == 1, "and the two have diverged")
    expect("copied it" in s[2]["explanation"] and "mapcount 2" in s[2]["explanation"],
           s[2]["explanation"])
    expect(changes(s[3], "parent") == {} and changes(s[3], "child") == {}, "reading changes nothing")


@test
def scenario_last_sharer_reuses():
    _, s = steps("last_sharer")
    expect(changes(s[2], "child") == {"cow-copied": 1}, f"child copies: {s[2]}")
    expect(changes(s[3], "parent") == {"reused": 1}, f"the last sharer reuses: {s[3]}")
    expect("without a copy" in s[3]["explanation"], s[3]["explanation"])


@test
def scenario_fork_exec():
    _, s = steps("fork_exec")
    expect(changes(s[0], "parent") == {"faulted": 256}, f"256 pages faulted: {s[0]}")
    expect(changes(s[1], "parent") == {"write-protected": 256}, f"fork+exec leaves them write-protected: {s[1]}")
    c = s[1].get("compare", {})
    expect(c.get("parent_only_pages") == 256 and c.get("shared_pages") == 0 and c.get("child_only_pages") == 0,
           f"the exec'd child maps none of the parent's heap: {c}")
    expect(changes(s[2], "parent") == {"reused": 1}, f"the first write reuses, no copy: {s[2]}")


@test
def scenario_vfork_shares_everything():
    _, s = steps("vfork")
    c = s[1]["compare"]
    expect(c["shared_pages"] == 64 and c["writable_shared_pages"] == 64,
           f"vfork: 64 pages shared and still writable: {c}")
    expect(changes(s[1], "parent") == {}, "vfork write-protects nothing")


@test
def scenario_private_vs_shared():
    _, s = steps("private_vs_shared")
    expect(changes(s[1], "parent") == {"write-protected": 4}, f"only the private pages are protected: {s[1]}")
    expect(s[1]["compare"]["parent_only_pages"] == 4, "fork copies no PTEs of the shared mapping")
    expect(changes(s[2], "child") == {"cow-copied": 1}, f"private write copies: {s[2]}")
    expect(changes(s[3], "child") == {"faulted": 1}, f"shared write faults in the same page: {s[3]}")
    expect(s[3]["compare"]["writable_shared_pages"] == 1, "the shared page is writable on both sides")
    expect(s[4]["values"]["read_sum"] == 2 and changes(s[4], "parent") == {},
           f"the parent reads the child's byte in the page both map: {s[4]}")


@test
def scenario_readonly_code():
    _, s = steps("readonly_code")
    expect(s[1]["compare"]["shared_pages"] == 1 and s[1]["compare"]["writable_shared_pages"] == 0,
           f"text is shared read-only: {s[1]}")
    expect(changes(s[2], "child") == {}, f"running code copies nothing: {s[2]}")


@test
def scenario_zero_page():
    _, s = steps("zero_page")
    expect(changes(s[0], "parent") == {"faulted": 4}, "read faults")
    expect("zero page" in s[0]["explanation"], s[0]["explanation"])
    expect(s[1]["compare"]["shared_pages"] == 4, "both map the zero page")
    expect(changes(s[2], "child") == {"zero-replaced": 1}, f"a write replaces the zero page: {s[2]}")


@test
def scenario_thp():
    d, s = steps("thp")
    if changes(s[0], "parent") != {"faulted": 512} or "no THP" in json.dumps(d):
        raise Skip("no THP in this guest")
    expect(changes(s[1], "parent") == {"write-protected": 512}, f"fork write-protects the PMD: {s[1]}")
    expect(changes(s[2], "child") == {"cow-copied": 1, "thp-split": 511},
           f"one write splits the child's PMD and copies 4 KiB: {s[2]}")
    expect(s[2]["compare"]["shared_pages"] == 511, "the rest stays shared")


@test
def scenario_ksm():
    if not os.access("/sys/kernel/mm/ksm/run", os.W_OK):
        raise Skip("KSM not available")
    _, s = steps("ksm")
    expect(changes(s[1], "parent") == {"ksm-merged": 8}, f"8 identical pages merge: {s[1]}")
    expect(changes(s[2], "parent") == {"ksm-broken": 1, "shared-less": 7},
           f"a write breaks one out: {s[2]}")


@test
def scenario_dontfork():
    _, s = steps("dontfork")
    expect(s[1]["compare"]["parent_only_pages"] == 8 and s[1]["compare"]["shared_pages"] == 0,
           f"nothing of either region is shared: {s[1]}")
    expect(changes(s[2], "child") == {"faulted": 1}, "the wiped region faults in fresh")


@test
def scenario_parent_copies():
    """The parent writes first: the parent gets the copy; the child, left the only one
    mapping the page, reuses the original (after the LRU drain, on 5.10 too)."""
    _, s = steps("parent_copies")
    expect(changes(s[2], "parent") == {"cow-copied": 1} and changes(s[2], "child") == {"shared-less": 1},
           f"the parent's write copies for the parent: {s[2]}")
    expect(s[2]["story"] == "cow-copied" and s[2]["page_after"]["pfn"] != s[2]["page_before"]["pfn"],
           s[2]["explanation"])
    expect(changes(s[3], "child") == {"reused": 1} and s[3]["story"] == "reused",
           f"the child reuses the original: {s[3]}")
    expect(s[3]["page_after"]["pfn"] == s[2]["page_before"]["pfn"], "the child's page is the original")


@test
def scenario_vfork_write():
    _, s = steps("vfork_write")
    expect(changes(s[1], "parent") == {}, f"the vfork child's writes change no PTE of the parent's: {s[1]}")
    c = s[1]["compare"]
    expect(c["shared_pages"] == 64 and c["writable_shared_pages"] == 64, f"one mm: {c}")
    faults = [e for e in s[1]["events"] if e["kind"] not in ("fork", "exit")]
    forks = [e for e in s[1]["events"] if e["kind"] == "fork"]
    expect(not faults, f"the child's writes fault nothing: {faults}")
    expect(len(forks) == 1 and forks[0]["vfork"] and forks[0]["ptes"] == 0, f"one CLONE_VM fork: {forks}")
    expect(s[2]["values"] == {"read_sum": 7 * 64, "child_wrote_sum": 7 * 64},
           f"the parent reads the child's bytes: {s[2].get('values')}")


@test
def scenario_vfork_suspends():
    """CLONE_VFORK: the parent sleeps in wait_for_vfork_done() (state D) until the child
    exits; the fork event comes when kernel_clone() returns, after the child's exit."""
    _, s = steps("vfork_suspends")
    v = s[1]["values"]
    expect(v["parent_state"] == ord("D") and v["replied_while_child_lives"] == 0,
           f"the parent waits in the kernel, without replying: {v}")
    expect(s[1]["compare"]["writable_shared_pages"] == 4, f"the child lives in the parent's mm: {s[1]['compare']}")
    kinds = [e["kind"] for e in s[2]["events"]]
    expect("exit" in kinds and "fork" in kinds and kinds.index("exit") < kinds.index("fork"),
           f"the child exits before vfork() returns: {kinds}")
    expect(s[2]["values"]["vfork_returned"] == 1, f"and then vfork() returned: {s[2]['values']}")


@test
def scenario_bss():
    _, s = steps("bss")
    expect(s[0]["story"] == "zero-mapped" and s[0]["values"]["read_sum"] == 0 and s[0]["page_after"]["zero"],
           f"the BSS reads as the zero page: {s[0]}")
    expect(s[2]["story"] in ("zero-replaced", "anon-new"), f"a write gets a zeroed page of its own: {s[2]}")


@test
def scenario_code_write():
    _, s = steps("code_write")
    st = s[2]
    expect(st["story"] == "file-copied" and st["page_after"]["anon"] and st["page_after"]["write"],
           f"the write copies the text page into an anonymous one: {st}")
    copies = [e for e in st["events"] if e["kind"] == "wp-copy" and e["pid"] == st["actor"]]
    expect(len(copies) == 1 and copies[0]["file"], f"one copy from the page cache: {st['events']}")
    expect(st["compare"]["diverged_pages"] == 1, f"the parent keeps the page cache's page: {st['compare']}")


@test
def scenario_first_touch():
    _, s = steps("first_touch")
    before, after = (st["mm"]["parent"]["pgtables_bytes"] for st in s)
    expect(after - before >= 4096 and (after - before) % 4096 == 0,
           f"a first touch allocates page tables: VmPTE {before} -> {after}")
    expect(s[1]["story"] == "zero-mapped", s[1]["explanation"])


def kernel_version():
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return int(m.group(1)), int(m.group(2))


@test
def scenario_pinned_write():
    """A page only the parent maps, with a pipe's reference (vmsplice), write-protected by
    clear_refs and written again.  Before 5.19 do_wp_page() reuses only at refcount 1: the
    write copies, and the pipe still reads the old bytes.  From 5.19 the page is
    PageAnonExclusive: the write reuses it, and the pipe reads the new bytes."""
    old, new = 0x11, 0x22
    refcount_rule = kernel_version() < (5, 19)
    d, s = steps("pinned_write")
    expect("stopped" not in d, f"the scenario stopped (CONFIG_MEM_SOFT_DIRTY?): {d.get('stopped')}")
    expect(len(s) == 5, f"five steps: {[st['action'] for st in s]}")
    first, spliced, cleared, written, read = s
    p = first["page_after"]
    expect(first["story"] == "anon-new" and p["write"] and p["mapcount"] == 1 and p["refcount"] == 1,
           f"the written page is the parent's alone, refcount 1: {p}")
    pfn = p["pfn"]
    p = spliced["page_after"]
    expect(p["pfn"] == pfn and p["mapcount"] == 1 and p["refcount"] == 2 and p["write"],
           f"vmsplice: refcount 2, still mapped once, writable: {p}")
    expect(changes(spliced, "parent") == {}, f"vmsplice maps and protects nothing: {spliced}")
    p = cleared["page_after"]
    expect(p["pfn"] == pfn and p["write"] is False and p["soft_dirty"] is False and p["mapcount"] == 1
           and p["refcount"] == 2, f"clear_refs write-protects the PTE, the pipe still holds it: {p}")
    expect(changes(cleared, "parent") == {"write-protected": 1}, f"clear_refs: {cleared}")
    before, after = written["page_before"], written["page_after"]
    expect(before["pfn"] == pfn and before["write"] is False and before["refcount"] == 2,
           f"before the write: {before}")
    mine = [e["kind"] for e in written["events"] if e["kind"] in ("wp-copy", "wp-reuse")
            and e.get("addr") == written["focus"] and e["pid"] == written["actor"]]
    x = written["explanation"]
    if refcount_rule:
        expect(after["pfn"] != pfn and after["write"] and after["mapcount"] == 1,
               f"{os.uname().release}: refcount 2 forbids the reuse: a copy: {before} -> {after}")
        expect(written["story"] == "cow-copied" and changes(written, "parent") == {"cow-copied": 1},
               f"a copy: {written}")
        expect(mine == ["wp-copy"], f"one copy traced: {written['events']}")
        expect("the kernel copied" in x and "'refcount == 1'" in x and "PageAnonExclusive" not in x, x)
        expect(read["pipe_byte"] == old, f"the pipe keeps the old page: {read['pipe_byte']:#x}")
        expect("old bytes" in read["explanation"], read["explanation"])
    else:
        expect(before["anon_exclusive"], f"{os.uname().release}: the page is PageAnonExclusive: {before}")
        expect(after["pfn"] == pfn and after["write"] and after["mapcount"] == 1,
               f"PageAnonExclusive: reused whatever the refcount: {before} -> {after}")
        expect(written["story"] == "reused" and changes(written, "parent") == {"reused": 1},
               f"a reuse: {written}")
        expect(mine == ["wp-reuse"], f"one reuse traced: {written['events']}")
        expect("without a copy" in x and "PageAnonExclusive" in x and "refcount 2" in x, x)
        expect(read["pipe_byte"] == new, f"the pipe reads the page the parent wrote: {read['pipe_byte']:#x}")
        expect("new bytes" in read["explanation"], read["explanation"])
        expect(read["page_after"]["pfn"] == pfn and read["page_after"]["refcount"] == 1,
               f"reading the pipe drops its reference: {read['page_after']}")
    expect(changes(read, "parent") == {}, f"reading the pipe changes no mapping: {read}")


# ---- the seed articles' claims (tools/claims.c), judged on this kernel ----

def reuse_rule_is_refcount():
    """From 5.8 to 5.18 do_wp_page() reuses an anonymous page only at refcount 1 (5.8's
    09854ba94c6a); from 5.19 a PageAnonExclusive page is reused whatever its refcount."""
    return kernel_version() < (5, 19)


def overcommit_mode():
    with open("/proc/sys/vm/overcommit_memory") as f:
        return int(f.read())


def expected_claim_verdicts():
    """Every claim's verdict on the running kernel, from the kernel's rules (the research
    behind the catalogue gives each one's source): the same on every kernel but two."""
    refcount = reuse_rule_is_refcount()
    # fork's commit charge can fail only under strict overcommit (claims_fail_past_commit_limit)
    strict = overcommit_mode() == 2
    return {
        # seed 000
        "000-1": "true",     # copy_present_pte(s): a reference and a mapcount, no new page
        "000-2": "partly",   # copy_page_range() skips VMAs without an anon_vma (MAP_SHARED)
        "000-3": "partly",   # only COW mappings' PTEs are write-protected, not MAP_SHARED ones
        "000-4": "true",     # a write-protected PTE faults: do_wp_page()
        "000-5": "false",    # the last sharer reuses (wp_page_reuse); the zero page is replaced
        "000-6": "true",
        "000-7": "true",     # fork copies PTEs (fork event), not pages
        "000-8": "true",
        "000-9": "true",
        "000-10": "true",    # shmem: the child faults in the very page, writable
        # seed 001
        "001-1": "true",     # scored for the pages (the note says the mm's are two)
        "001-2": "true",     # text: a read-only private file mapping, never written
        "001-3": "true",     # load_elf_binary(): BSS beyond the file is anonymous: the zero page
        "001-4": "false",
        "001-5": "partly",   # MAP_SHARED stays shared across fork
        "001-6": "true",     # exec_mmap(): a new mm; none of the parent's pages in it
        "001-7": "false",    # nothing was copied, so nothing is wasted
        "001-8": "true",
        "001-9": "true",     # dup_mm(): mm_users 1 and 1
        "001-10": "true",    # reads fault nothing; untouched memory reads the zero page
        "001-11": "false",   # wp_page_copy() gives the writer (the parent) the new page
        "001-12": "partly",  # after the parent copied, the child reuses the original
        "001-13": "true",
        "001-14": "partly",  # dup_mmap() charges VM_ACCOUNT VMAs, COW takes no page
        "001-15": "true",    # one write fault per page per writing process
        # seed 002
        "002-1": "true",
        "002-2": "partly",
        "002-3": "true",
        "002-4": "partly",   # the first writer copies, the last sharer reuses
        "002-5": "partly",
        "002-6": "false",    # the parent's write to a shared page copies too
        "002-7": "true",
        "002-8": "true",
        "002-9": "true",
        "002-10": "false",   # the old text is neither overwritten nor copied at exec
        "002-11": "true",    # after mprotect(), a write copies the page-cache page
        "002-12": "true" if strict else "undecided",
        # seed 003
        "003-1": "true",
        "003-2": "partly",   # kernel_clone() -> copy_process(); no do_fork since 5.10
        "003-3": "true",     # copy_mm(): CLONE_VM shares (mm_users 2), else dup_mm()
        "003-4": "true",
        "003-5": "partly",
        "003-6": "false",    # wp_page_copy() makes only the writer's new PTE writable
        "003-7": "true",     # CLONE_VM: the child's writes are plain stores, no fault
        "003-8": "true",     # wait_for_vfork_done(): state D until the child exits
        "003-9": "true",     # CLONE_VM: copy_page_range() never runs
        "003-10": "false",   # nothing stops a vfork child's writes: they are the parent's
        "003-11": "true",
        "003-12": "partly",  # fork copies nothing; vfork shares
        "003-13": "false",   # vfork copies nothing; fork copies one page, not the parent
        # seed 004
        "004-1": "true",
        # 5.10 copies a page only one process maps when a pipe holds it too
        "004-2": "false on this kernel only" if refcount else "true on this kernel only",
        "004-3": "true",
        "004-4": "true",     # dup_mm(): allocate_mm, memcpy, dup_mmap
        "004-5": "partly",   # dup_mmap() skips VM_DONTCOPY
        "004-6": "partly",   # VM_WIPEONFORK VMAs are copied empty
        "004-7": "partly",   # true only for VMAs without an anon_vma
        "004-8": "true",
        "004-9": "false",    # copy_present_pte(s) write-protects the parent's PTE too
        "004-10": "true",
        "004-11": "true",
        "004-12": "true",    # __handle_mm_fault() -> pte_alloc(): VmPTE grows
        "004-13": "true",
        "004-14": "true",
        # the refcount rule is 5.8 to 5.18's; from 5.19 PageAnonExclusive decides first
        "004-15": "true on this kernel only" if refcount else "false on this kernel only",
        "004-16": "true",
        "004-17": "true",
        "004-18": "true",
    }


def claims(*ids):
    d = cowtrace_json("run", "--claims", *ids)
    expect(d["kind"] == "claims" and d["kernel"] == os.uname().release, f"claims header: {d['kernel']}")
    expect(d["source"] == "module" and d["traced"], f"the module's snapshots and events: {d['source']}")
    return d, {c["id"]: c for c in d["claims"]}


@test
def claims_verdicts_are_the_kernels():
    """Every claim of the seed articles, judged by `cowtrace run --claims` from what this
    kernel did, against the verdict the kernel's rules predict for this kernel."""
    d, got = claims()
    want = expected_claim_verdicts()
    expect(set(got) == set(want), f"the catalogue: {sorted(set(got) ^ set(want))}")
    wrong = [f"{i}: {got[i]['verdict']!r}, want {want[i]!r} ({got[i]['verdict_text']}; "
             f"observed: {got[i]['observed']})" for i in sorted(want) if got[i]["verdict"] != want[i]]
    expect(not wrong, "\n".join(wrong))
    expect(all(c["kernel"] == os.uname().release for c in d["claims"]), "each claim names the kernel")
    ev = {i: c["evidence"] for i, c in got.items()}
    expect(ev["004-9"] == {**ev["004-9"], "parent_write": 0, "child_write": 0},
           f"fork write-protects both PTEs: {ev['004-9']}")
    expect(ev["000-2"]["private_ptes_copied"] == 4 and ev["000-2"]["shared_ptes_copied"] == 0
           and ev["000-2"]["shared_parent_only"] == 4, f"fork copies the private PTEs only: {ev['000-2']}")
    expect(ev["003-11"]["vfork_ptes"] == 0 and ev["003-11"]["fork_ptes"] >= 256,
           f"vfork copies no PTE, fork all 256 and more: {ev['003-11']}")
    expect(ev["004-15"]["pinned_refcount"] == 2 and ev["004-15"]["pinned_copied"] == reuse_rule_is_refcount(),
           f"the page the pipe holds, refcount 2: copied before 5.19 only: {ev['004-15']}")
    expect(ev["000-8"]["parent_reads"] == 10, f"the parent still reads 10: {ev['000-8']}")
    expect(ev["003-10"]["parent_reads"] == ev["003-10"]["child_wrote"] == 7 * 64,
           f"the parent reads what its vfork child wrote: {ev['003-10']}")
    expect(ev["003-8"]["parent_state"] == ord("D"), f"a vfork parent waits in state D: {ev['003-8']}")
    expect(ev["004-12"]["pgtables_grew_bytes"] >= 4096, f"a first touch adds a page table: {ev['004-12']}")
    expect(ev["001-11"]["parent_copied"] == 1 and ev["001-11"]["child_kept"] == 1,
           f"the parent, writing first, copies: {ev['001-11']}")
    expect(ev["001-9"]["parent_mm_users"] == 1 and ev["001-9"]["child_mm_users"] == 1
           and ev["001-9"]["child_pgtables_bytes"] > 0, f"two mm's: {ev['001-9']}")
    expect(ev["001-14"]["committed_delta_bytes"] >= ev["001-14"]["region_bytes"] == 128 << 20
           and ev["001-14"]["child_new_pages"] == 0, f"fork charges 128 MiB, takes no page: {ev['001-14']}")
    for i in ("004-2", "004-15"):
        expect("5.19" in got[i]["verdict_text"] and got[i]["changes_at"], f"{i} names the change")
    expect(overcommit_mode() != 0 or "sysctl vm.overcommit_memory=2" in got["002-12"]["verdict_text"],
           f"002-12 says how to play it: {got['002-12']['verdict_text']}")
    for i, c in got.items():
        expect(c["verdict"] != "undecided" or want[i] == "undecided", f"{i}: {c['verdict_text']}")
        expect(c["verdict"] in ("untested", "undecided") or c["observed"], f"{i}: a verdict without numbers")


@test
def claims_fail_past_commit_limit():
    """Under vm.overcommit_memory=2 a parent that maps 3/4 of the commit headroom, touching
    none of it, cannot fork: dup_mmap()'s charge for the child fails with ENOMEM, and the
    tracer's fork hooks see a fork that failed half-way."""
    old = overcommit_mode()
    try:
        with open("/proc/sys/vm/overcommit_memory", "w") as f:
            f.write("2")
        d, got = claims("002-12", "001-14")
    finally:
        with open("/proc/sys/vm/overcommit_memory", "w") as f:
            f.write(str(old))
    ev = got["002-12"]["evidence"]
    expect(got["002-12"]["verdict"] == "true", got["002-12"]["verdict_text"])
    expect(ev["fork_errno"] == errno.ENOMEM and 0 < ev["second_region_bytes"] < ev["headroom_bytes"],
           f"the parent's own mmap fits, the child's charge does not: {ev}")
    expect(got["001-14"]["verdict"] == "partly" and got["001-14"]["evidence"]["child_new_pages"] == 0,
           got["001-14"]["verdict_text"])


@test
def claims_one_at_a_time():
    """One claim plays only its own scenarios, and is judged as in the full run."""
    d, got = claims("004-2")
    expect(list(got) == ["004-2"], f"one claim: {list(got)}")
    expect(d["played"] == ["last_sharer", "pinned_write"], f"its scenarios, each once: {d['played']}")
    expect(got["004-2"]["verdict"] == expected_claim_verdicts()["004-2"], got["004-2"]["verdict_text"])
    d, got = claims("003")
    expect(sorted(got) == sorted(i for i in expected_claim_verdicts() if i.startswith("003-")),
           f"a seed's claims: {sorted(got)}")
    text = cowtrace("run", "--claims", "004-15").stdout
    expect("claim 004-15" in text and "verdict:" in text and "5.19" in text, text)


# ---- live processes: snap, show, diff, compare, watch ----

class Forked:
    """A parent with 64 written pages and its fork; the child writes 16 on cue.

    The story's parent maps the buffer itself, after leaving this process:
    memory mapped here would be shared with us too (a third mapping).
    """

    def __init__(self, npages=64, child_writes=16):
        self.npages = npages
        r, w = os.pipe()
        self.go_r, self.go_w = os.pipe()
        self.parent_pid = os.fork()
        if self.parent_pid == 0:
            try:
                buf = mmap.mmap(-1, npages * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
                buf.write(b"p" * (npages * PAGE))
                addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
                child = os.fork()
                if child == 0:
                    os.read(self.go_r, 1)
                    for i in range(child_writes):
                        buf[i * PAGE] = ord("c")
                    os.write(w, b"w")
                    signal.pause()
                os.write(w, f"{child} {addr}\n".encode())
                signal.pause()
            finally:
                os._exit(0)
        child, addr = os.read(r, 64).split(b"\n")[0].split()
        self.child_pid, self.addr = int(child), int(addr)
        self.done_r = r

    def child_write(self):
        os.write(self.go_w, b"g")
        os.read(self.done_r, 1)

    def close(self):
        for p in (self.child_pid, self.parent_pid):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(self.parent_pid, 0)


def region_vma(d, addr):
    for v in d["vmas"]:
        if v["start"] <= addr < v["end"]:
            return v
    raise AssertionError(f"no VMA at {addr:#x}")


@test
def live_compare_and_diff():
    f = Forked()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            before = os.path.join(tmp, "before.snap")
            after = os.path.join(tmp, "after.snap")
            cowtrace("snap", f.child_pid, "-o", before, "--freeze")
            c = region_vma(cowtrace_json("compare", f.parent_pid, f.child_pid), f.addr)
            expect(c["shared_pages"] == 64 and c["diverged_pages"] == 0, f"after fork: {c}")
            f.child_write()
            cowtrace("snap", f.child_pid, "-o", after, "--freeze")
            c = region_vma(cowtrace_json("compare", f.parent_pid, f.child_pid), f.addr)
            expect(c["shared_pages"] == 48 and c["diverged_pages"] == 16 and c["copied_anon_pages"] == 16,
                   f"after the child wrote 16 pages: {c}")
            d = cowtrace_json("diff", before, after)
            v = [v for v in d["vmas"] if v["start"] <= f.addr < v["end"]][0]["classes"]
            expect(v["cow-copied"]["pages"] == 16 and v["unchanged"]["pages"] == 48,
                   f"the child's diff: 16 copied, 48 untouched: {v}")
            expect(v["cow-copied"]["bytes"] == 16 * PAGE, "bytes are pages * 4096")
            # the same through the human output and show
            out = cowtrace("compare", f.parent_pid, f.child_pid).stdout
            expect("copied by COW:" in out, out)
            shown = cowtrace_json("show", after)
            pages = [p for p in shown["pages"] if f.addr <= p["addr"] < f.addr + 64 * PAGE]
            expect(len(pages) == 64, "show lists the region's 64 pages")
            written = [p for p in pages if p["addr"] < f.addr + 16 * PAGE]
            # PageAnonExclusive exists from 5.19; before it the JSON says null, not false
            exclusive = None if kernel_version() < (5, 19) else True
            expect(all(p["write"] and p["anon_exclusive"] is exclusive and p["mapcount"] == 1
                       for p in written),
                   f"the child's written pages are its own and writable (anon_exclusive {exclusive})")
            expect(all(not p["write"] and p["mapcount"] == 2 for p in pages[16:]),
                   "the rest are shared read-only")
            only = cowtrace_json("show", after, "--only", "shared")
            expect(all(p["mapcount"] > 1 for p in only["pages"]), "--only shared filters")
            rng = f"{f.addr:x}-{f.addr + 4 * PAGE:x}"
            expect(len(cowtrace_json("show", after, "--range", rng)["pages"]) == 4, "--range filters")
    finally:
        f.close()


@test
def live_watch_until_exit():
    f = Forked()
    try:
        out = cowtrace("watch", f.parent_pid, f.child_pid, "--interval", "0.1", "--count", "2",
                       "--json").stdout.splitlines()
        expect(len(out) == 2, f"two samples: {out}")
        first = json.loads(out[0])
        expect(first["shared_pages"] >= 64, f"the region is shared: {first}")
        os.kill(f.child_pid, signal.SIGKILL)
        time.sleep(0.2)
        p = cowtrace("watch", f.parent_pid, f.child_pid, "--interval", "0.1")
        expect(p.returncode == 0 and "exited" in p.stdout, f"watch stops when one exits: {p.stdout}")
    finally:
        f.close()


@test
def procfs_fallback_marks_unavailable():
    f = Forked()
    try:
        d = cowtrace_json("snap", f.child_pid, "--source", "procfs")
        expect(d["source"] == "procfs", "procfs source")
        expect(set(d["unavailable"]) >= {"write", "dirty", "young", "refcount"}, d["unavailable"])
        pages = [p for p in d["pages"] if f.addr <= p["addr"] < f.addr + 64 * PAGE]
        expect(len(pages) == 64, "all pages seen through pagemap")
        expect(all(p["write"] is None and p["refcount"] is None and p["mapcount"] == 2 for p in pages),
               "unavailable fields are null, mapcount comes from kpagecount")
        m = cowtrace_json("snap", f.child_pid, "--source", "module")
        mp = {p["addr"]: p for p in m["pages"]}
        expect(all(mp[p["addr"]]["pfn"] == p["pfn"] for p in pages), "the two sources agree on PFNs")
        with open(f"/proc/{f.child_pid}/comm") as c:
            comm = c.read().strip()
        expect(comm and d["comm"] == m["comm"] == comm,
               f"both sources name the process {comm!r}: {d['comm']!r} {m['comm']!r}")
    finally:
        f.close()


@test
def scenario_steps_carry_their_events():
    d, s = steps("shared_variable")
    child = d["child"]
    forks = [e for e in s[1]["events"] if e["kind"] == "fork"]
    expect(len(forks) == 1 and forks[0]["child"] == child, f"one fork event: {s[1]['events']}")
    copies = [e for e in s[2]["events"] if e["kind"] == "wp-copy"]
    expect(len(copies) == 1 and copies[0]["pid"] == child and copies[0]["old_pfn"] != copies[0]["new_pfn"],
           f"the child's write is one copy: {s[2]['events']}")
    expect(s[3]["events"] == [], f"reading faults nothing: {s[3]['events']}")
    d, s = steps("last_sharer")
    reuses = [e for e in s[3]["events"] if e["kind"] == "wp-reuse"]
    expect(len(reuses) == 1 and reuses[0]["pid"] == d["parent"] and reuses[0]["old_pfn"] == reuses[0]["new_pfn"],
           f"the last sharer's write is one reuse: {s[3]['events']}")


# Words of a step sentence that say a page was copied, or that nothing was.
COPY_WORDS = ("the kernel copied", "copied it into", "a private copy")
NO_COPY_WORDS = ("nothing was copied", "nothing is copied", "without a copy", "no copy")


@test
def scenario_sentences_agree_with_their_events():
    names = [ln.split()[0] for ln in cowtrace("run", "--list").stdout.splitlines()]
    expect(len(names) >= 10, f"the scenarios: {names}")
    focused = 0
    for name in names:
        _, s = steps(name)
        for st in s:
            x = st["explanation"]
            where = f"{name} step {st['step']}: {x!r}"
            expect("events" in st, f"{where}: no events (is the module loaded?)")
            copies = [e for e in st["events"] if e["kind"] == "wp-copy"]
            if "focus" not in st:
                # a fixed sentence: if it says nothing was copied, nothing was
                if any(w in x for w in NO_COPY_WORDS):
                    expect(not copies, f"{where}: but {copies}")
                continue
            focused += 1
            expect(st.get("events_agree") is True,
                   f"{where}: {st.get('disagreement')}: {st['events']}")
            mine = [e for e in st["events"] if e.get("addr") == st["focus"] and e["pid"] == st["actor"]]
            my_copies = [e for e in mine if e["kind"] == "wp-copy"]
            if my_copies:
                expect(any(w in x for w in COPY_WORDS) and not any(w in x for w in NO_COPY_WORDS),
                       f"{where}: the step's events copied the page: {my_copies}")
                if any(e["file"] for e in my_copies):
                    expect("page cache" in x, f"{where}: copied from the page cache: {my_copies}")
            else:
                expect(not any(w in x for w in COPY_WORDS), f"{where}: no copy in the events: {mine}")
            if any(e["kind"] == "wp-reuse" for e in mine):
                expect("without a copy" in x, f"{where}: a reuse: {mine}")
            if [e["kind"] for e in mine] == ["anon-zero"]:
                expect("zero page" in x, f"{where}: the zero page was mapped: {mine}")
    expect(focused >= 10, f"only {focused} steps had a focus page")
    # the first write to shared_variable, initialised data: a page-cache page copied
    _, s = steps("shared_variable")
    first = [e for e in s[0]["events"] if e.get("addr") == s[0]["focus"]]
    expect(s[0]["story"] == "file-copied" and len(first) == 1 and first[0]["kind"] == "wp-copy"
           and first[0]["file"], f"{s[0]['explanation']}: {first}")


# A parent fills 32 pages and forks; the child writes 8 of them and exits 0;
# the parent waits and exits 3.  The region's address goes to a file.
FORK_WRITER = """
import mmap, os, sys
m = mmap.mmap(-1, 32 * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
m.madvise(mmap.MADV_NOHUGEPAGE)
import ctypes
open(sys.argv[1], "w").write(str(ctypes.addressof(ctypes.c_char.from_buffer(m))))
for i in range(32):
    m[i * 4096] = 1
pid = os.fork()
if pid == 0:
    for i in range(8):
        m[i * 4096] = 2
    os._exit(0)
os.waitpid(pid, 0)
sys.exit(3)
"""


@test
def trace_command_counts_the_copies():
    with tempfile.NamedTemporaryFile("r") as addr_file:
        p = cowtrace("trace", "--json", "--", "/usr/bin/python3", "-c", FORK_WRITER, addr_file.name,
                     check=False)
        expect(p.returncode == 3, f"trace -- CMD exits as CMD did: {p.returncode} {p.stderr}")
        region = int(addr_file.read())
    d = json.loads(p.stdout)
    expect(d["kind"] == "trace" and d["totals"]["lost"] == 0, "a trace document, nothing lost")
    forks = [e for e in d["events"] if e["kind"] == "fork"]
    expect(len(forks) == 1, f"one fork: {forks}")
    child, parent = forks[0]["child"], forks[0]["pid"]
    procs = {pr["pid"]: pr for pr in d["processes"]}
    cv = [v for v in procs[child]["vmas"] if v["start"] == region]
    expect(len(cv) == 1 and cv[0]["wp-copy"] == 8 and cv[0]["bytes_copied"] == 8 * PAGE
           and cv[0]["wp-reuse"] == 0, f"the child copied exactly its 8 pages: {cv}")
    pv = [e for e in d["events"] if e["pid"] == parent and e["kind"] == "anon-new"
          and region <= e["addr"] < region + 32 * PAGE]
    expect(len(pv) == 32, f"the parent's fill is 32 first touches: {len(pv)}")
    expect(not [v for v in procs[parent]["vmas"] if v["start"] == region],
           "the parent, which wrote nothing after the fork, copied nothing there")
    kinds = {}
    for e in d["events"]:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    for k, n in kinds.items():
        expect(d["totals"][k] == n, f"totals match the events for {k}: {d['totals'][k]} vs {n}")


@test
def trace_pid_text_summary():
    victim = subprocess.Popen(["/usr/bin/python3", "-c",
                               "import mmap, time; time.sleep(2); "
                               "m = mmap.mmap(-1, 16 * 4096); "
                               "[m.__setitem__(i * 4096, 1) for i in range(16)]"])
    try:
        p = cowtrace("trace", "-p", victim.pid, "--only", "anon-new")
    finally:
        victim.wait()
    lines = p.stdout.splitlines()
    events = [ln for ln in lines if re.match(r"^\d+ \d+\.\d{9} \d+/\d+ cpu\d+ ", ln)]
    expect(events and all(ln.split()[4] == "anon-new" for ln in events),
           f"--only prints only that kind: {events[:5]}")
    expect(len(events) >= 16, f"16 first touches at least: {p.stdout}")
    expect(any(ln.startswith("total: ") for ln in lines) and "lost: 0 events" in lines,
           f"a summary and a loss count: {p.stdout[-400:]}")


@test
def trace_errors_tell_the_user_what_to_do():
    p = cowtrace("trace", check=False)
    expect(p.returncode == 1 and "-p PID" in p.stderr, f"no target: {p.stderr}")
    p = cowtrace("trace", "--only", "bogus", "-p", 1, check=False)
    expect(p.returncode == 1 and "unknown kind" in p.stderr, p.stderr)
    p = cowtrace("trace", "-p", 99999999, check=False)
    expect(p.returncode == 2 and "no process" in p.stderr, p.stderr)
    sleeper = subprocess.Popen(["sleep", "30"])
    first = subprocess.Popen([TOOL, "trace", "-q", "-p", str(sleeper.pid)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        p = cowtrace("trace", "-p", sleeper.pid, check=False)
        expect(p.returncode == 2 and "another trace session" in p.stderr, p.stderr)
    finally:
        first.send_signal(signal.SIGINT)
        out, _ = first.communicate(timeout=60)
        sleeper.kill()
        sleeper.wait()
    expect(first.returncode == 0 and "total: " in out, f"Ctrl-C ends with a summary: {out}")


# A process that reads untouched memory: 16 zero pages and, where THP allows,
# a 2 MiB region mapped by the huge zero page.  Prints both addresses.
ZERO_READER = """
import ctypes, mmap, signal, sys
huge = mmap.mmap(-1, 4 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
base = ctypes.addressof(ctypes.c_char.from_buffer(huge))
off = -base % (2 << 20)
huge.madvise(mmap.MADV_HUGEPAGE, off, 2 << 20)
huge[off]
small = mmap.mmap(-1, 16 * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
small.madvise(mmap.MADV_NOHUGEPAGE)
for i in range(16):
    small[i * 4096]
print(base + off, ctypes.addressof(ctypes.c_char.from_buffer(small)), flush=True)
signal.pause()
"""


class ZeroReader:
    def __init__(self):
        self.p = subprocess.Popen(["/usr/bin/python3", "-c", ZERO_READER], stdout=subprocess.PIPE, text=True)
        self.huge, self.small = map(int, self.p.stdout.readline().split())

    def close(self):
        self.p.kill()
        self.p.wait()


def human(n):
    """ct_human_bytes() of tools/output.c."""
    units, v, u = ["B", "KiB", "MiB", "GiB", "TiB"], float(n), 0
    while v >= 1024 and u < 4:
        v, u = v / 1024, u + 1
    return f"{v:.0f} {units[u]}" if u == 0 or v >= 100 or v == int(v) else f"{v:.1f} {units[u]}"


def smaps_rss(pid):
    rss, start = {}, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-[0-9a-f]+ ", line)
            if m:
                start = int(m.group(1), 16)
            elif line.startswith("Rss:"):
                rss[start] = int(line.split()[1]) * 1024
    return rss


@test
def show_rss_is_smaps_rss():
    z = ZeroReader()
    try:
        for source in ("module", "procfs"):
            out = cowtrace("show", z.p.pid, "--no-pages", "--source", source).stdout
            rss = smaps_rss(z.p.pid)
            rows = 0
            for line in out.splitlines():
                m = re.match(r"^([0-9a-f]+) [0-9a-f]+ +\S+ \S+ \S+ +\d+ +(\S+ \S+) ", line)
                if not m:
                    continue
                rows += 1
                start = int(m.group(1), 16)
                expect(m.group(2) == human(rss[start]),
                       f"{source}: RSS {m.group(2)} where smaps says {rss[start]} bytes: {line}")
            expect(rows == len([a for a in rss if a < 1 << 56]), f"{source}: every VMA: {out}")
            small = [ln for ln in out.splitlines() if ln.startswith(f"{z.small:012x} ")]
            expect(len(small) == 1 and " 16 " in small[0] and " 0 B " in small[0],
                   f"{source}: 16 zero pages, 0 B resident: {small}")
    finally:
        z.close()


@test
def huge_zero_page_records_are_what_abi_md_says():
    z = ZeroReader()
    try:
        rng = f"{z.huge:x}-{z.huge + (2 << 20):x}"
        pages = cowtrace_json("show", z.p.pid, "--range", rng, "--source", "module")["pages"]
        if not pages or not pages[0]["zero"]:
            raise Skip(f"no huge zero page in this guest: {pages[:1]}")
        expect(len(pages) == 512, f"one record per 4 KiB page: {len(pages)}")
        expect(all(p["zero"] and p["thp"] and p["order"] == 9 and p["level"] == "pmd"
                   and not p["anon"] for p in pages),
               f"zero, thp, order 9, PMD-mapped: {pages[0]}")
        expect(all(p["mapcount"] is None and p["folio_mapcount"] is None and p["refcount"] is None
                   for p in pages), f"no counts (no PG_PAGE): {pages[0]}")
        expect([p["pfn"] - pages[0]["pfn"] for p in pages] == list(range(512)),
               "the PFNs of the 2 MiB page, in order")
        proc = cowtrace_json("show", z.p.pid, "--range", rng, "--source", "procfs")["pages"]
        expect(all(p["zero"] and p["thp"] and p["order"] is None for p in proc),
               f"procfs: zero and thp, no order: {proc[:1]}")
    finally:
        z.close()


@test
def errors_tell_the_user_what_to_do():
    p = cowtrace("snap", 2, check=False)
    expect(p.returncode == 2 and "no such process" in p.stderr, f"kernel thread: {p.stderr}")
    p = cowtrace("snap", 99999999, check=False)
    expect(p.returncode == 2 and "no such process" in p.stderr, p.stderr)


def module_view_pages(lo, hi):
    """The module's 'pages' view of the target, [lo, hi): {addr: (pte, flags)}."""
    pages = {}
    with open("/sys/kernel/debug/cowtrace/pages") as f:
        for line in f:
            if line.startswith("#"):
                continue
            col = line.split()
            addr = int(col[0], 16)
            if lo <= addr < hi:
                pages[addr] = (col[4], col[-1])
    return pages


def tool_show_pages(pid, lo, hi):
    """'cowtrace show PID' of [lo, hi): {addr: (pte, flags)}."""
    pages = {}
    out = cowtrace("show", pid, "--range", f"{lo:x}-{hi:x}").stdout
    rows = out.split("\nADDR ")[1].splitlines()[1:]
    for line in rows:
        col = line.split()
        if len(col) >= 8:
            pages[int(col[0], 16)] = (col[3], col[-1])
    return pages


def flag_set(names, leave_out=()):
    return set(names.split(",")) - {"-", "lru", *leave_out}


@test
def tool_and_module_name_flags_alike():
    """The tool and the module's 'pages' view print the flags from one table
    (the UAPI header's): for every page of a region, small pages and a THP's
    head and tails, the same PTE letters and the same names.  The view leaves
    out the names its KIND column says; PG_LRU changes on its own between the
    two reads, so neither is compared."""
    npages = 1024
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            buf = mmap.mmap(-1, npages * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            if hasattr(buf, "madvise") and hasattr(mmap, "MADV_HUGEPAGE"):
                buf.madvise(mmap.MADV_HUGEPAGE)
            buf.write(b"t" * (npages * PAGE))
            addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
            os.write(w, f"{addr}\n".encode())
            signal.pause()
        finally:
            os._exit(0)
    try:
        lo = int(os.read(r, 64).split(b"\n")[0])
        hi = lo + npages * PAGE
        os.kill(pid, signal.SIGSTOP)
        with open("/sys/kernel/debug/cowtrace/target", "w") as f:
            f.write(f"{pid}\n")
        view = module_view_pages(lo, hi)
        tool = tool_show_pages(pid, lo, hi)
        expect(len(view) == npages and set(view) == set(tool),
               f"both list the region's {npages} pages: {len(view)} and {len(tool)}")
        kinds = ("swap", "migration", "device", "marker")
        for addr in sorted(view):
            (vpte, vflags), (tpte, tflags) = view[addr], tool[addr]
            expect(vpte == tpte, f"{addr:#x}: PTE {vpte} in the view, {tpte} from the tool")
            expect(flag_set(vflags) == flag_set(tflags, kinds),
                   f"{addr:#x}: flags {vflags} in the view, {tflags} from the tool")
        if not any("tail" in flags for _, flags in view.values()):
            print("# no THP here: only small pages were compared")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def main():
    print("TAP version 13")
    print(f"1..{len(results)}")
    failed = 0
    for n, fn in enumerate(results, 1):
        try:
            fn()
            print(f"ok {n} {fn.__name__}")
        except Skip as e:
            print(f"ok {n} {fn.__name__} # SKIP {e}")
        except Exception as e:  # a failure of any kind is one not-ok line
            failed += 1
            for line in str(e).splitlines() or [repr(e)]:
                print(f"# {line}")
            print(f"not ok {n} {fn.__name__}")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
