#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A pre-fork server: how much of the master's memory its workers still share.

The master loads its data (a dict of 200,000 records, as an app server loads
its models or a cache), opens a listening socket and forks workers that
accept() on it, gunicorn/Apache-prefork style.  A client sends requests that
each look up a few random records; after every batch, cowtrace compares the
master with each worker.

usage: prefork_server.py [WORKERS]
"""
import os
import random
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import compare, mib  # noqa: E402

RECORDS = 200_000
KEYS_PER_REQUEST = 8
BATCHES = (0, 10, 100, 1000)    # requests per worker, cumulative


def serve(listener, data):
    while True:
        conn, _ = listener.accept()
        with conn:
            keys = conn.recv(4096).decode().split()
            if not keys:
                continue
            # a lookup: reading the records is all a handler does
            body = sum(len(data[k]["name"]) + data[k]["hits"] for k in keys)
            conn.sendall(str(body).encode())


def request(path, keys):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(" ".join(keys).encode())
        s.recv(64)


def main():
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    data = {f"user{i}": {"name": f"user number {i}", "hits": i % 7, "tags": [i, i * 2]}
            for i in range(RECORDS)}
    keys = list(data)
    path = os.path.join(tempfile.mkdtemp(), "sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    pids = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            serve(listener, data)
            os._exit(0)
        pids.append(pid)

    rng = random.Random(1)
    done = 0
    print(f"master {os.getpid()}: {RECORDS} records loaded; {workers} workers forked; "
          f"each request reads {KEYS_PER_REQUEST} random records\n")
    print(f"{'requests':>9} {'copied per worker':>18} {'still shared per worker':>24}")
    try:
        for target in BATCHES:
            # the kernel hands connections to whichever worker accepts
            for _ in range((target - done) * workers):
                request(path, rng.sample(keys, KEYS_PER_REQUEST))
            done = target
            t = [compare(os.getpid(), pid) for pid in pids]
            copied = sum(x["copied_anon_pages"] for x in t) // workers
            shared = sum(x["shared_pages"] for x in t) // workers
            print(f"{done * workers:>9} {mib(copied):>18} {mib(shared):>24}")
    finally:
        for pid in pids:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.unlink(path)
    print("""
Every request only reads records, yet each lookup increments the reference
counts of the dict entries, names and numbers it touches, writing to their
pages; each written page is copied once into that worker.  With random
lookups the copies grow with requests until the workers hold private copies
of most of the data: the memory a pre-fork server saves is spent back as it
serves.  Restarting workers periodically (max_requests in gunicorn) returns
them to the shared state.""")


if __name__ == "__main__":
    main()
