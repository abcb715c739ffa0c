#!/usr/bin/env python3
"""Benchmark (not a test): one-shot `run` latency through the server for each
environment, beside bwrap running the same interpreter on the same code with
equivalent mounts (every closure path read-only, fresh /proc, /dev, tmpfs
/tmp and /workspace, all namespaces unshared) and beside the interpreter run
directly, unsandboxed (the floor), all measured in the same run; and beside
@anthropic-ai/sandbox-runtime (`srt`, npm; tests/bench/srt/setup.sh installs
it) running the same interpreter on the same code, where it runs (SRT_N runs:
at ~0.4 s a run, fewer than the others).

usage: oneshot.py [SERVER] [N] [GAP_MS]

GAP_MS: think time between calls, for all three. A client that waits a
little between calls (an LLM always does) lets the server prepare the next
sandbox, and in Python and Node its interpreter, ahead (csrc/pool.c); with 0
the calls come back to back. Without GAP_MS both are measured: 50 ms apart,
then back to back. Prints one table: medians, p99 and the ratios."""
import os
import shutil
import statistics
import subprocess
import sys
import time

from benchlib import CODE, Server, bwrap_args, code_dir, env_table, pct

BIN = sys.argv[1] if len(sys.argv) > 1 else "result/bin/nix-sandbox-mcp"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 100
GAPS = [float(sys.argv[3]) / 1000] if len(sys.argv) > 3 else [0.05, 0.0]
SRT_N = min(N, 30)

table = env_table(BIN)


def server_times(env, code, gap):
    s = Server(BIN)
    s.initialize()
    for _ in range(5):
        s.run(code, env)
    times = []
    for _ in range(N):
        time.sleep(gap)
        t0 = time.perf_counter()
        r = s.run(code, env)
        times.append((time.perf_counter() - t0) * 1000)
        assert r["structuredContent"]["exit_code"] == 0, r
    s.close()
    return times


def child_times(args, n, warm, gap, **kw):
    """n runs of args as a child process, waited for, after warm unmeasured
    ones, each after a pause of gap: milliseconds each."""
    run = lambda: subprocess.run(args, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, **kw)
    for _ in range(warm):
        run()
    times = []
    for _ in range(n):
        time.sleep(gap)
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def bwrap_times(e, code, gap):
    if not shutil.which("bwrap"):
        return None
    d, path = code_dir(code)
    times = child_times(bwrap_args(e, path), N, 5, gap)
    shutil.rmtree(d)
    return times


def direct_times(e, code, gap):
    """The interpreter on the host, no sandbox: what the code itself costs."""
    d, path = code_dir(code)
    env = {"PATH": e["root"] + "/bin", "HOME": d, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
    times = child_times(e["argv"] + [path], N, 5, gap, cwd=d, env=env)
    shutil.rmtree(d)
    return times


def srt_command():
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run(["bash", os.path.join(here, "srt", "setup.sh")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        print("(sandbox-runtime column left out: %s)" % r.stderr.strip().splitlines()[-1:],
              file=sys.stderr)
        return None
    return r.stdout.split()


SRT = srt_command()


def srt_times(e, code, gap):
    """srt with no network and writes to its own /tmp only: the host's file
    system read-only, bubblewrap inside (its Linux back end)."""
    if not SRT:
        return None
    d, path = code_dir(code)
    settings = os.path.join(d, "srt.json")
    with open(settings, "w") as f:
        f.write('{"network": {"allowedDomains": [], "deniedDomains": []}, '
                '"filesystem": {"denyRead": [], "allowWrite": ["%s"], "denyWrite": []}}' % d)
    args = SRT + ["-s", settings, "-c", " ".join(e["argv"] + [path])]
    env = {"PATH": e["root"] + "/bin:/usr/bin:/bin", "HOME": d}
    times = child_times(args, SRT_N, 2, gap, cwd=d, env=env)
    shutil.rmtree(d)
    return times


def cell(xs):
    return "%.1f / %.1f ms" % (statistics.median(xs), pct(xs, 0.99)) if xs else "n/a"


def ratio(a, b):
    return "%.2f" % (statistics.median(a) / statistics.median(b)) if a and b else "n/a"


print("| environment | calls | ours p50 / p99 | bwrap p50 / p99 | unsandboxed p50 / p99 "
      "| sandbox-runtime p50 / p99 | ours / bwrap | ours / unsandboxed | ours / sandbox-runtime |")
print("|---|---|---|---|---|---|---|---|---|")
for gap in GAPS:
    for e in table["environments"]:
        code = CODE[e["interpreter_type"]]
        st = server_times(e["name"], code, gap)
        bt = bwrap_times(e, code, gap)
        dt = direct_times(e, code, gap)
        rt = srt_times(e, code, gap)
        calls = "%.0f ms apart" % (gap * 1000) if gap else "back to back"
        print("| %s (`%s`) | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            e["name"], code, calls, cell(st), cell(bt), cell(dt), cell(rt), ratio(st, bt),
            ratio(st, dt), ratio(st, rt)), flush=True)
print("\n%d runs each after 5 warm-up runs (sandbox-runtime: %d after 2); ours: whole MCP round "
      "trips over stdio; bwrap, unsandboxed and sandbox-runtime: the interpreter as a child "
      "process, waited for." % (N, SRT_N))
