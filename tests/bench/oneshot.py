#!/usr/bin/env python3
"""Benchmark (not a test): one-shot `run` latency through the server for each
environment, beside bwrap running the same interpreter on the same code with
equivalent mounts (every closure path read-only, fresh /proc, /dev, tmpfs
/tmp and /workspace, all namespaces unshared), measured in the same run.

usage: oneshot.py [SERVER] [N] [GAP_MS]

GAP_MS (default 0): think time between calls, for both tools. A client that
waits a little between calls (an LLM always does) lets the server prepare the
next sandbox ahead (csrc/pool.c); with 0 the calls come back to back."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import CODE, Server, env_table, pct

BIN = sys.argv[1] if len(sys.argv) > 1 else "result/bin/nix-sandbox-mcp"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 100
GAP = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.0

table = env_table(BIN)


def server_times(env, code):
    s = Server(BIN)
    s.initialize()
    for _ in range(5):
        s.run(code, env)
    times = []
    for _ in range(N):
        time.sleep(GAP)
        t0 = time.perf_counter()
        r = s.run(code, env)
        times.append((time.perf_counter() - t0) * 1000)
        assert r["structuredContent"]["exit_code"] == 0, r
    s.close()
    return times


def bwrap_times(e, code):
    if not shutil.which("bwrap"):
        return None
    d = tempfile.mkdtemp()
    path = os.path.join(d, "main")
    with open(path, "w") as f:
        f.write(code)
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for p in e["closure"]:
        args += ["--ro-bind", p, p]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/workspace",
             "--ro-bind", path, "/run/code", "--symlink", e["sh"], "/bin/sh",
             "--chdir", "/workspace", "--clearenv", "--setenv", "PATH", e["root"] + "/bin",
             "--setenv", "HOME", "/workspace"]
    args += e["argv"] + ["/run/code"]
    for _ in range(5):
        subprocess.run(args, check=True, stdin=subprocess.DEVNULL)
    times = []
    for _ in range(N):
        time.sleep(GAP)
        t0 = time.perf_counter()
        subprocess.run(args, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - t0) * 1000)
    shutil.rmtree(d)
    return times


print("| environment | server run p50 | server p90 | bwrap p50 | bwrap p90 | server / bwrap |")
print("|---|---|---|---|---|---|")
for e in table["environments"]:
    code = CODE[e["interpreter_type"]]
    st = server_times(e["name"], code)
    bt = bwrap_times(e, code)
    if bt:
        print("| %s (`%s`) | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f |" % (
            e["name"], code, statistics.median(st), pct(st, 0.9), statistics.median(bt), pct(bt, 0.9),
            statistics.median(st) / statistics.median(bt)))
    else:
        print("| %s (`%s`) | %.2f ms | %.2f ms | n/a | n/a | n/a |" % (
            e["name"], code, statistics.median(st), pct(st, 0.9)))
print("\n%d runs each after 5 warm-up runs, %.0f ms between calls; server times are whole MCP "
      "round trips over stdio." % (N, GAP * 1000))
