#!/usr/bin/env python3
"""Benchmark (not a test): one-shot runs per second with 1, 4 and 16 calls in
flight at once, per environment, through one server over stdio; beside bwrap
running the same interpreter on the same code with as many processes at once
(oneshot.py's bwrap command line).

usage: concurrency.py [SERVER] [SECONDS]

Each cell runs for SECONDS (default 5) after a warm-up: a new call is sent as
soon as one answers, so exactly C are in flight. Prints one table, and the
machine's core count: past the cores, more calls in flight only queue."""
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from benchlib import CODE, Server, bwrap_args, code_dir, env_table

BIN = sys.argv[1] if len(sys.argv) > 1 else "result/bin/nix-sandbox-mcp"
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
LEVELS = [1, 4, 16]

table = env_table(BIN)


def ours(env, code, c):
    s = Server(BIN, ["--no-project"])
    s.initialize()
    for _ in range(3):
        s.run(code, env)
    req = lambda i: json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {
        "name": "run", "arguments": {"code": code, "env": env}}}) + "\n"
    nid = 1000
    inflight = set()
    for _ in range(c):
        nid += 1
        inflight.add(nid)
        s.send_raw(req(nid))
    done = failed = 0
    t0 = time.perf_counter()
    end = t0 + SECONDS
    while True:
        m = s.read(30.0, lambda m: m.get("id") in inflight)
        if m is None:
            raise SystemExit("no answer in 30 s (%s, %d in flight)" % (env, c))
        inflight.discard(m["id"])
        sc = (m.get("result") or {}).get("structuredContent") or {}
        done += 1
        failed += sc.get("exit_code") != 0
        if time.perf_counter() < end:
            nid += 1
            inflight.add(nid)
            s.send_raw(req(nid))
        elif not inflight:
            break
    elapsed = time.perf_counter() - t0
    s.close()
    return done / elapsed, failed


def bwrap(e, code, c):
    if not shutil.which("bwrap"):
        return None
    d, path = code_dir(code)
    args = bwrap_args(e, path)
    end = time.perf_counter() + SECONDS

    def worker(_):
        n = 0
        while time.perf_counter() < end:
            subprocess.run(args, check=True, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            n += 1
        return n

    t0 = time.perf_counter()
    with ThreadPoolExecutor(c) as ex:
        n = sum(ex.map(worker, range(c)))
    elapsed = time.perf_counter() - t0
    shutil.rmtree(d)
    return n / elapsed


print("| environment | in flight | ours runs/s | bwrap runs/s | ours / bwrap |")
print("|---|---|---|---|---|")
for e in table["environments"]:
    code = CODE[e["interpreter_type"]]
    for c in LEVELS:
        r, failed = ours(e["name"], code, c)
        b = bwrap(e, code, c)
        print("| %s | %d | %.0f%s | %s | %s |" % (
            e["name"], c, r, " (%d failed)" % failed if failed else "",
            "%.0f" % b if b else "n/a", "%.2f" % (r / b) if b else "n/a"), flush=True)
print("\n%d cores; %.0f s per cell; ours: whole MCP round trips over stdio, C requests "
      "in flight; bwrap: C processes at a time." % (os.cpu_count(), SECONDS))
