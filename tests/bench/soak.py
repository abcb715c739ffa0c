#!/usr/bin/env python3
"""Soak (not a test of a bound, a measurement): many one-shot runs, then a
churn of sessions through the session table, checking every result and
printing the server's resident memory, open descriptors and processes at
fixed points, so growth (a leak of memory, fds, sandboxes or zombies) shows
as a difference between two rows that should be equal.

usage: soak.py [SERVER] [RUNS] [SESSIONS]    (defaults: result/bin/..., 2000, 300)

Rows: after the handshake and one run per environment (the pool then holds
one spare per environment), after RUNS/2 and RUNS one-shot runs (the same
spares), once max_sessions sessions are live, and after SESSIONS sessions
went through the table (max_sessions live again: each new one evicted the
least recently used). Every 50th run fails on purpose (exit 3, stderr).
Exits 1 when a result was wrong or a row differs from the one it should
equal in descriptors or processes."""
import os
import sys
import time

from benchlib import Server, env_table

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from mcp import descendants  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "result/bin/nix-sandbox-mcp"
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
SESSIONS = int(sys.argv[3]) if len(sys.argv) > 3 else 300

table = env_table(BIN)
ENVS = [e["name"] for e in table["environments"]]
KIND = {e["name"]: e["interpreter_type"] for e in table["environments"]}
MAX_SESSIONS = table["session"]["max_sessions"]

# Code per interpreter: print a number's double; SET/GET keep it in a session.
PRINT = {"bash": "echo $(( {n} * 2 ))", "python": "print({n} * 2)", "node": "console.log({n} * 2)"}
FAIL = {"bash": "echo oops >&2; exit 3", "python": "import sys; sys.stderr.write('oops\\n'); sys.exit(3)",
        "node": "process.stderr.write('oops\\n'); process.exit(3)"}
SET = {"bash": "x={n}", "python": "x = {n}", "node": "var x = {n}"}
GET = {"bash": "echo $x", "python": "print(x)", "node": "console.log(x)"}


def status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def sample(s, what):
    pid = s.p.pid
    procs = descendants(pid)
    return {"what": what, "rss": status(pid, "VmRSS"), "hwm": status(pid, "VmHWM"),
            "fds": len(os.listdir("/proc/%d/fd" % pid)), "procs": 1 + len(procs),
            "zombies": sum(1 for _, st in procs if st == "Z")}


def settle(s):
    """Let the pool finish preparing its spares before a sample."""
    time.sleep(1.0)
    assert s.request("ping") is not None


def sc(r):
    return (r or {}).get("structuredContent", {})


s = Server(BIN)
s.initialize()
bad = []
for env in ENVS:
    s.run(PRINT[KIND[env]].format(n=1), env)
settle(s)
rows = [sample(s, "after the handshake and one run per environment")]

t0 = time.monotonic()
for i in range(RUNS):
    env = ENVS[i % len(ENVS)]
    kind = KIND[env]
    if i % 50 == 49:
        st = sc(s.run(FAIL[kind], env))
        if st.get("exit_code") != 3 or st.get("stderr") != "oops\n":
            bad.append(("run", i, env, st))
    else:
        st = sc(s.run(PRINT[kind].format(n=i), env))
        if st.get("exit_code") != 0 or st.get("stdout") != "%d\n" % (2 * i):
            bad.append(("run", i, env, st))
    if i + 1 == RUNS // 2:
        settle(s)
        rows.append(sample(s, "after %d one-shot runs" % (i + 1)))
runs_s = time.monotonic() - t0
settle(s)
rows.append(sample(s, "after %d one-shot runs (%.0f s)" % (RUNS, runs_s)))


def session(k):
    env = ENVS[k % len(ENVS)]
    kind = KIND[env]
    sid = "soak-%d" % k
    a = sc(s.run(SET[kind].format(n=k), env, session=sid))
    b = sc(s.run(GET[kind], env, session=sid))
    if a.get("exit_code") != 0 or b.get("stdout") != "%d\n" % k:
        bad.append(("session", k, env, a, b))


t0 = time.monotonic()
for k in range(MAX_SESSIONS):
    session(k)
settle(s)
rows.append(sample(s, "%d sessions live (max_sessions)" % MAX_SESSIONS))
for k in range(MAX_SESSIONS, SESSIONS):
    session(k)
churn_s = time.monotonic() - t0
settle(s)
rows.append(sample(s, "after %d sessions (%d live; %.0f s)" % (SESSIONS, MAX_SESSIONS, churn_s)))
alive = s.alive()
rc = s.close()

print("server: %s (%d environments: %s)" % (BIN, len(ENVS), ", ".join(ENVS)))
print("| point | RSS | peak RSS | open fds | processes (server + sandboxes) | zombies |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| %s | %d KiB | %d KiB | %d | %d | %d |" % (r["what"], r["rss"], r["hwm"], r["fds"], r["procs"], r["zombies"]))
print("wrong results: %d; server alive at the end: %s; exit code %s" % (len(bad), alive, rc))
for b in bad[:10]:
    print("  %r" % (b,))
same = all(r[k] == rows[0][k] for r in rows[:-2] for k in ("fds", "procs", "zombies")) and \
    all(rows[-1][k] == rows[-2][k] for k in ("fds", "procs", "zombies"))
if not same:
    print("descriptors or processes differ between rows that should be equal")
sys.exit(0 if not bad and same and alive and rc == 0 else 1)
