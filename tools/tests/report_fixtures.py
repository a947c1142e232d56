#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Make the HTML reports the browser test opens (run in a guest, module loaded).

Writes NAME.html and the same view's NAME.json into OUT:
  last_sharer, thp   cowtrace run SCENARIO --html/--json: one map per step
  claims             cowtrace run --claims 004-2 004-15: the maps, then the verdicts
  big                cowtrace compare of a 16 GiB process and its child:
                     65,536 pages scattered over 16 GiB, a quarter of them
                     copied by the child, so the map must fall back to runs
                     or blocks and compress the gaps

usage: report_fixtures.py OUT
"""
import mmap
import os
import signal
import subprocess
import sys

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cowtrace")
PAGE = 4096
BIG = 16 << 30
STRIDE = 64          # every 64th page of the 16 GiB is populated
CHILD_EVERY = 4      # ... and the child writes every 4th of those


def cowtrace(out, *args):
    with open(out, "w") as f:
        subprocess.run([TOOL, *args], stdout=f, check=True, timeout=600)


def big_process(out_dir):
    # MAP_NORESERVE (Python 3.13 names it; 0x4000 on x86): 16 GiB of
    # address space in a 2 GiB guest
    noreserve = getattr(mmap, "MAP_NORESERVE", 0x4000)
    m = mmap.mmap(-1, BIG, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | noreserve)
    # 4 KiB pages: with THP each touch would fault in 2 MiB
    m.madvise(mmap.MADV_NOHUGEPAGE)
    for off in range(0, BIG, STRIDE * PAGE):
        m[off] = 1
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        for off in range(0, BIG, STRIDE * PAGE * CHILD_EVERY):
            m[off] = 2
        os.write(ready_w, b"x")
        signal.pause()
        os._exit(0)
    os.read(ready_r, 1)
    try:
        parent = str(os.getpid())
        html = os.path.join(out_dir, "big.html")
        cowtrace(os.path.join(out_dir, "big.json"), "compare", parent, str(child), "--json",
                 "--html", html)
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def main():
    out_dir = sys.argv[1]
    for name in ("last_sharer", "thp"):
        cowtrace(os.path.join(out_dir, name + ".json"), "run", name, "--json",
                 "--html", os.path.join(out_dir, name + ".html"))
    # the claims' report: the maps of the steps their judges read, then the table
    cowtrace(os.path.join(out_dir, "claims.json"), "run", "--claims", "004-2", "004-15",
             "--json", "--html", os.path.join(out_dir, "claims.html"))
    big_process(out_dir)


if __name__ == "__main__":
    main()
