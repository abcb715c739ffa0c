"""Spares follow demand (csrc/pool.c; README "Warm one-shot runs", `warm_pool`):
an environment keeps one spare, more while calls come back to back, never
more than its warm_pool, back to one once they wait unused; warm_pool = 0
makes none at all. From the outside: --list-envs says each environment's
bound; the spares are sandbox processes one can count; each serves exactly
one run."""
import json
import os
import re
import subprocess
import time

from mcp import Server, Tap, descendants, cmdline, one_shot_spares

t = Tap()
BIN = os.environ["NSM_SERVER"]
SHORT = os.environ.get("NSM_SERVER_SHORT_SPARE")


def sc(r):
    return (r or {}).get("structuredContent", {})


def inits(server):
    return [p for p, _ in descendants(server.p.pid) if cmdline(p).startswith("sandbox-init")]


# ---- what --list-envs says ---------------------------------------------------
out = subprocess.run([BIN, "--list-envs"], capture_output=True, text=True, timeout=30).stdout
pools = {e["name"]: e.get("warm_pool") for e in json.loads(out)["environments"]}
t.ok(pools.get("hostnet") == 0 and pools.get("pyshort") == 1 and pools.get("python") == 3
     and pools.get("shell") == 1,
     "--list-envs gives each environment's warm_pool: what mkSandbox (0, 1) or config.toml (3) said, else the default 1",
     pools)

# ---- warm_pool = 0: never a spare ------------------------------------------------
s = Server(BIN, ["--no-project", "--log-level", "debug"])
s.initialize()
outs = []
for i in range(6):
    outs.append(sc(s.run("echo run-%d" % i, "hostnet")).get("stdout"))
    if i % 2:
        time.sleep(0.3)
time.sleep(0.5)
s._fill(0.1)
err = s.err.decode(errors="replace")
t.ok(outs == ["run-%d\n" % i for i in range(6)], "hostnet (warm_pool = 0): every run works", outs)
t.ok("ready for hostnet" not in err and "in hostnet takes" not in err and not inits(s),
     "and no spare is ever made for it: none in the log, no sandbox process left between runs",
     (inits(s), [l for l in err.splitlines() if "hostnet" in l][-5:]))
s.close()

# ---- back to back: the pool grows, to warm_pool at most ---------------------------
s = Server(BIN, ["--no-project", "--log-level", "debug"])
s.initialize()
most = 0
pids = []
for i in range(16):
    r = s.run("import os; print(os.getpid(), %d)" % i, "python")
    pids.append(sc(r).get("stdout", "").split())
    most = max(most, len(one_shot_spares(s, "python")))
err = s.err.decode(errors="replace")
grown = [int(m) for m in re.findall(r"pool: python keeps up to (\d+) spares now", err)]
t.ok(all(len(p) == 2 and p[1] == str(i) for i, p in enumerate(pids)), "16 back-to-back runs all answer", pids)
# (How far it grows depends on how fast spares are made on this machine.)
t.ok(grown and max(grown) <= 3 and most <= 3,
     "back to back, python's pool grows, up to its warm_pool (3) and never past it (grew %s, at most %d ready)"
     % (grown, most))
want = max(grown or [1])
for _ in range(100):
    if len(one_shot_spares(s, "python")) == want:
        break
    time.sleep(0.05)
ready = one_shot_spares(s, "python")
t.ok(len(ready) == want and all(cmdline(p).startswith("sandbox-init") for p in ready),
     "then as many spares as it grew to wait (%d), each a live sandbox (%s)" % (want, sorted(ready)))
taken = re.findall(r"\(spare (\d+) taken\)", s.err.decode(errors="replace"))
t.ok(len(taken) == len(set(taken)) and len(taken) >= 3,
     "no spare was taken twice (%d taken, %d distinct)" % (len(taken), len(set(taken))))
t.ok(s.alive() and not s.garbage, "the server is up and wrote only protocol")
s.close()

# ---- sessions: new sessions back to back grow the session spares too ---------------
s = Server(BIN, ["--no-project", "--log-level", "debug"])
s.initialize()
firsts = []
for i in range(12):
    r = s.run("x = %d\nprint(x)" % i, "python", session="grow-%d" % i)
    firsts.append(sc(r).get("stdout"))
seconds = [sc(s.run("print(x)", "python", session="grow-%d" % i)).get("stdout") for i in range(12)]
err = s.err.decode(errors="replace")
grown = [int(m) for m in re.findall(r"pool: python keeps up to (\d+) session spares now", err)]
taken = re.findall(r"session spare (\d+) taken", err)
t.ok(firsts == ["%d\n" % i for i in range(12)] and seconds == firsts,
     "12 new python sessions back to back: each first call answers, each keeps its own state",
     (firsts, seconds))
t.ok(grown and max(grown) <= 3,
     "and the session spares grow, up to python's warm_pool (3) and never past it (grew %s)" % grown)
t.ok(len(taken) == len(set(taken)) and len(taken) >= 3,
     "no session spare was taken twice (%d taken, %d distinct)" % (len(taken), len(set(taken))))
s.close()

# ---- warm_pool = 1: back to back, still one -----------------------------------------
s = Server(BIN, ["--no-project", "--log-level", "debug"])
s.initialize()
most = 0
for i in range(10):
    s.run("pass", "pyshort")
    most = max(most, len(one_shot_spares(s, "pyshort")))
time.sleep(0.5)
err = s.err.decode(errors="replace")
t.ok(most <= 1 and len(one_shot_spares(s, "pyshort")) == 1 and "pyshort keeps up to" not in err,
     "pyshort (warm_pool = 1): back to back, never more than one spare (%d at most)" % most)
s.close()

# ---- idle: back to one -------------------------------------------------------------
if not SHORT:
    t.ok(True, "the pool shrinks when idle # SKIP no short-idle server built")
else:
    s = Server(SHORT, ["--no-project", "--log-level", "debug"])
    s.initialize()
    for i in range(16):
        s.run("pass", "python")
    for _ in range(100):
        if len(one_shot_spares(s, "python")) >= 2:
            break
        time.sleep(0.05)
    before = len(one_shot_spares(s, "python"))
    time.sleep(2.5 + 1.5)  # POOL_SPARE_IDLE_S=2 in this build, and their start-up
    after = one_shot_spares(s, "python")
    err = s.err.decode(errors="replace")
    t.ok(before >= 2 and len(after) == 1 and "a spare of python was not used in 2 s" in err,
         "unused for its idle time, the pool shrinks back to one spare (%d, then %d)" % (before, len(after)))
    n_inits = len(inits(s))
    t.ok(n_inits == 1, "and the others' sandboxes are gone (%d sandbox inits left)" % n_inits)
    r = s.run("print('after')", "python")
    t.ok(sc(r).get("stdout") == "after\n" and "takes a prepared sandbox" in s.err.decode(errors="replace")[len(err):],
         "the next run takes the one kept", r)
    s.close()

t.done()
