#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""fork+exec, vfork and posix_spawn, from a large parent.

A parent holding 256 MiB of written memory starts /bin/true, then at once
writes 16 MiB of its memory again, as a busy server does while its helper
starts.  Each way of starting runs in a fresh parent under
`cowtrace trace`, which counts what the kernel did: the page-table entries
fork copied and write-protected, and the parent's write faults afterwards
(copies, and reuses once the child has exec'd).

usage: spawn.py            (the walkthrough)
       spawn.py --as-parent METHOD   (one traced parent; internal)
"""
import json
import mmap
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TOOL  # noqa: E402

HELD = 256 << 20
REWRITE = 16 << 20
METHODS = {
    "fork+exec": "os.fork() in the parent, os.execv() in the child",
    "vfork+exec": "subprocess.Popen: vfork() (CLONE_VM|CLONE_VFORK) then exec",
    "posix_spawn": "os.posix_spawn(): glibc's clone(CLONE_VM|CLONE_VFORK) then exec",
}


def as_parent(method):
    # MAP_PRIVATE: Python's default, MAP_SHARED, is never copied on write
    m = mmap.mmap(-1, HELD, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_NOHUGEPAGE)     # 4 KiB pages: counts are per page
    for off in range(0, HELD, 4096):
        m[off] = 1
    t0 = time.perf_counter()
    if method == "fork+exec":
        pid = os.fork()
        if pid == 0:
            os.execv("/bin/true", ["true"])
    elif method == "vfork+exec":
        pid = subprocess.Popen(["/bin/true"]).pid
    else:
        pid = os.posix_spawn("/bin/true", ["true"], os.environ)
    spawn_s = time.perf_counter() - t0
    for off in range(0, REWRITE, 4096):
        m[off] = 2
    os.waitpid(pid, 0)
    print(f"spawn_ms {spawn_s * 1000:.1f}", file=sys.stderr)


def traced(method):
    p = subprocess.run([TOOL, "trace", "--json", "--no-children", "--", sys.executable,
                        os.path.abspath(__file__), "--as-parent", method],
                       capture_output=True, text=True, timeout=900)
    if p.returncode:
        raise SystemExit(f"cowtrace trace failed: {p.stderr.strip()}")
    out = json.loads(p.stdout)
    forks = [e for e in out["events"] if e["kind"] == "fork"]
    if not forks:
        return None, None, None
    # the parent's faults on anonymous memory from the spawn on (not its
    # start-up's writes to private file pages)
    after = [e for e in out["events"] if e["pid"] == forks[0]["pid"]
             and e["seq"] > forks[0]["seq"] and not e.get("file")]
    count = {k: sum(1 for e in after if e["kind"] == k) for k in ("wp-copy", "wp-reuse")}
    ms = next((l.split()[1] for l in p.stderr.splitlines() if l.startswith("spawn_ms")), "?")
    return forks[0], count, ms


def main():
    print(f"a parent with {HELD >> 20} MiB written starts /bin/true, then rewrites "
          f"{REWRITE >> 20} MiB ({REWRITE >> 12} pages)\n")
    print(f"{'method':12} {'vfork?':>6} {'PTEs copied':>12} {'write-protected':>16} "
          f"{'parent copies':>14} {'parent reuses':>14} {'spawn ms':>9}")
    for method in METHODS:
        fork, count, ms = traced(method)
        if not fork:
            print(f"{method:12} (no fork event: is the module loaded?)")
            continue
        print(f"{method:12} {'yes' if fork['vfork'] else 'no':>6} {fork['ptes']:>12} "
              f"{fork['wrprotected']:>16} {count['wp-copy']:>14} {count['wp-reuse']:>14} {ms:>9}")
    print("""
fork() copies the parent's page tables, entry by entry, and write-protects
every private page in both processes, so the parent's next write to each
page faults: a copy while the child still maps it, a reuse once the child
has exec'd and let go.  vfork() and posix_spawn() lend the child the
parent's mm until exec: no entries are copied, nothing is write-protected,
and the parent's writes take no fault at all.  (spawn ms is wall time under
whatever runs this; compare the methods, not the numbers.)""")
    for method, how in METHODS.items():
        print(f"  {method}: {how}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--as-parent":
        as_parent(sys.argv[2])
    else:
        main()
