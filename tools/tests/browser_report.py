#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The HTML reports in a real browser: headless Chromium (run on the host).

For each report report_fixtures.py made in DIR: Chromium loads it, its script
must finish (body data-ready) with no console message, the page cells of each
state, summed over every map, side and run (data-n), must equal the totals
the same view printed as --json, and a screenshot must come out.  The 16 GiB
report must stay small and show the numbers the kernel's rules predict; the
claims' report must give each claim the verdict its JSON gives.
Prints TAP.

usage: browser_report.py DIR
"""
import html.parser
import json
import os
import subprocess
import sys

CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--enable-logging=stderr", "--v=0", "--window-size=1280,1400"]
MAX_BYTES = 4 << 20          # "a few MB", for the 16 GiB process
results = []


def ok(cond, name, why=""):
    results.append(cond)
    if not cond and why:
        for line in str(why).splitlines()[:20]:
            print(f"# {line}")
    print(f"{'ok' if cond else 'not ok'} {len(results)} {name}")


class Cells(html.parser.HTMLParser):
    """Pages per map, side and state, from the drawn cells."""

    def __init__(self):
        super().__init__()
        self.maps = []
        self.ready = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.ready = a.get("data-ready")
        elif tag == "section" and "data-map" in a:
            self.maps.append({"parent": {}, "child": {}})
        elif tag == "rect" and "data-n" in a:
            side = {"p": "parent", "c": "child"}[a["data-s"]]
            state = a["class"].removeprefix("c-")
            cur = self.maps[-1][side]
            cur[state] = cur.get(state, 0) + int(a["data-n"])


class ClaimRows(html.parser.HTMLParser):
    """The cells of each row of the claims' table (table class="text")."""

    def __init__(self):
        super().__init__()
        self.rows, self.cell, self.in_table = [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("class") == "text":
            self.in_table = True
        elif self.in_table and tag == "tr":
            self.rows.append([])
        elif self.in_table and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_table = False
        elif self.in_table and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def check_claims(out):
    """The claims' report: it renders, draws the judged steps, and its table
    gives each claim the verdict the same run printed as --json."""
    path = os.path.join(out, "claims.html")
    p, console = chromium("file://" + path + "#all", "--dump-dom")
    ok(p.returncode == 0 and not console, "claims: Chromium renders it without console messages",
       "\n".join(console) or p.stderr[-2000:])
    cells, rows = Cells(), ClaimRows()
    cells.feed(p.stdout)
    rows.feed(p.stdout)
    data = json.load(open(os.path.join(out, "claims.json")))
    ok(cells.ready == "1" and len(cells.maps) >= 4,
       "claims: its script ran and it draws the steps the judges read",
       f"data-ready={cells.ready}, {len(cells.maps)} maps")
    want = [(c["id"], c["verdict_text"]) for c in data["claims"]]
    got = [(r[0].split(" ")[0], r[-1]) for r in rows.rows[1:]]
    ok(got == want and len(want) == 2, "claims: one row per claim, with its verdict",
       f"drawn {got}\njson {want}")


def chromium(url, *args):
    p = subprocess.run([*CHROMIUM, *args, url], capture_output=True, text=True, timeout=300)
    console = [l for l in p.stderr.splitlines() if "CONSOLE" in l]
    return p, console


def nonzero(totals):
    return {side: {k: v for k, v in states.items() if v} for side, states in totals.items()}


def check(out, name, expected_maps):
    path = os.path.join(out, name + ".html")
    url = "file://" + path + "#all"
    p, console = chromium(url, "--dump-dom")
    ok(p.returncode == 0 and not console, f"{name}: Chromium renders it without console messages",
       "\n".join(console) or p.stderr[-2000:])
    cells = Cells()
    cells.feed(p.stdout)
    ok(cells.ready == "1", f"{name}: its script ran to the end", f"body data-ready={cells.ready}")

    data = json.load(open(os.path.join(out, name + ".json")))
    want = [s["map"] for s in data["steps"]] if "steps" in data else [data["map"]]
    ok(len(cells.maps) == len(want) == expected_maps,
       f"{name}: {expected_maps} map(s), one per step",
       f"drawn {len(cells.maps)}, json {len(want)}")
    bad = [f"map {i + 1}: drawn {nonzero(got)} json {nonzero(w)}"
           for i, (got, w) in enumerate(zip(cells.maps, want)) if nonzero(got) != nonzero(w)]
    ok(not bad and cells.maps, f"{name}: drawn page cells per state match the JSON totals",
       "\n".join(bad))

    png = os.path.join(out, name + ".png")
    p, _ = chromium(url, f"--screenshot={png}")
    good = os.path.exists(png) and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n" \
        and os.path.getsize(png) > 5000
    ok(good, f"{name}: a screenshot is produced", p.stderr[-2000:])
    return data, cells


def main():
    out = sys.argv[1]
    print("TAP version 13")
    check(out, "last_sharer", 4)
    check(out, "thp", 3)
    check_claims(out)
    data, cells = check(out, "big", 1)

    size = os.path.getsize(os.path.join(out, "big.html"))
    ok(size < MAX_BYTES, f"big: a 16 GiB process's report is {size >> 10} KiB (< {MAX_BYTES >> 20} MiB)")
    # the kernel's rules, for the 16 GiB region: 65,536 pages touched before
    # fork, every 4th of them then written by the child: copied there, the
    # rest still shared
    region = [v for v in data["vmas"] if v["end"] - v["start"] == 16 << 30]
    ok(len(region) == 1 and region[0]["diverged_pages"] == 16384
       and region[0]["shared_pages"] == 49152 and region[0]["parent_only_pages"] == 0,
       "big: the 16 GiB region has 16384 pages copied and 49152 shared", region)
    m = cells.maps[0] if cells.maps else {"child": {}}
    ok(m["child"].get("copied", 0) >= 16384,
       "big: the map draws the child's 16384 copies", m)
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
