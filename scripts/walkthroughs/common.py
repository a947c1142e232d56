# SPDX-License-Identifier: GPL-2.0
"""What the walkthroughs share: the cowtrace tool, and a forked child that
does one thing and then waits to be looked at."""
import json
import os
import signal
import subprocess

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(TOP, "tools", "cowtrace")
MIB = 1 << 20


def cowtrace_json(*args):
    p = subprocess.run([TOOL, *map(str, args), "--json"], capture_output=True, text=True,
                       timeout=600)
    if p.returncode:
        raise SystemExit(f"cowtrace {' '.join(map(str, args))} failed: {p.stderr.strip()}")
    return json.loads(p.stdout)


def compare(parent, child):
    """cowtrace compare's totals for two live processes."""
    return cowtrace_json("compare", parent, child)["totals"]


def fork_and_hold(action):
    """Fork a child that runs action(), then pauses; return its pid once done."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            action()
        finally:
            os.write(w, b"x")
        signal.pause()
        os._exit(0)
    os.close(w)
    os.read(r, 1)
    os.close(r)
    return pid


def reap(pid):
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def mib(pages):
    return f"{pages * 4096 / MIB:8.1f} MiB"
