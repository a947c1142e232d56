#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""End-to-end tests of the cowtrace tool in a guest with the module loaded.

Every subcommand and every scenario runs on real processes, and what the tool
reports is checked against what the kernel is known to do at that step (the
numbers are stated here, not taken from the tool).  Prints TAP.
"""
import ctypes
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
