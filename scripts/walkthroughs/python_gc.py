#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Python after fork: reading objects still copies the pages they live on.

The parent builds 300,000 small lists (about 40 MiB of GC-tracked objects)
and forks a child per experiment; the child only *reads* the data, then
cowtrace compares it with the parent.  Counting references is a write to
each object's header, and a garbage collection writes to every tracked
object's GC header, so "read-only" children copy most of the data anyway.
gc.freeze() (Python 3.7+) moves everything allocated so far into a
permanent generation that collections skip.

usage: python_gc.py
"""
import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import compare, fork_and_hold, mib, reap  # noqa: E402

N = 300_000


def main():
    gc.disable()            # no collection in the parent while it builds
    data = [[i, i + 1] for i in range(N)]
    gc.enable()

    def nothing():
        pass

    def iterate():
        for x in data:      # INCREF/DECREF of every list: a write to each
            pass

    def collect():
        gc.collect()        # a full collection writes every GC header

    experiments = [
        ("sleeps (touches nothing)", nothing, False),
        ("iterates the list (refcounts)", iterate, False),
        ("runs gc.collect()", collect, False),
        ("runs gc.collect(), parent called gc.freeze()", collect, True),
    ]
    print(f"parent {os.getpid()}: {N} lists built; each child forks from it and only reads\n")
    print(f"{'the child':48} {'copied by COW':>14} {'still shared':>14}")
    for what, action, freeze in experiments:
        if freeze:
            gc.freeze()
        child = fork_and_hold(action)
        t = compare(os.getpid(), child)
        reap(child)
        if freeze:
            gc.unfreeze()
        print(f"{what:48} {mib(t['copied_anon_pages']):>14} {mib(t['shared_pages']):>14}")
    print("""
Reading a Python object increments its reference count, a write to the page
it lives on, so iterating copied the pages holding the lists.  gc.collect()
writes the GC header of every tracked object, so it copies them all even
where the program never looks.  gc.freeze() before fork() moves the objects
to a generation collections skip: the child's collection then copies almost
nothing.  It does not help with reference counts: iterating still copies.""")


if __name__ == "__main__":
    main()
