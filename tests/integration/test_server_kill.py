"""SIGKILL of the server: nothing it started may outlive it. The server gets
no chance to clean up, so this is the sandbox's own doing: its init has
SIGKILL as its parent-death signal (csrc/jail_child.c). Cases: a one-shot
run, a double-forker, idle spares, and runs and sessions in flight at once.

The sandboxes are recorded while the server runs (mcp.Watch: pidfds, so pid
reuse cannot fool the check, and the cgroup directories, if any); after the
kill every recorded process must be gone within 10 s, well before the 30 s
timeout of the shell environment, whose own deadline would end them too.
The cgroup directories a killed server leaves must be gone once the next
server has started."""
import os
import signal
import sys
import time

from mcp import Server, Tap, Watch, _pid_ns, cmdline, descendants

BIN = os.environ["NSM_SERVER"]
BOUND_S = 10
t = Tap()


def sc(res):
    return (res or {}).get("structuredContent", {})


def start():
    s = Server(BIN, ["--project", os.environ["NSM_PROJECT"]])
    s.initialize()
    return s


def send_run(s, code, env):
    s.next_id += 1
    s.send({"jsonrpc": "2.0", "id": s.next_id, "method": "tools/call",
            "params": {"name": "run", "arguments": {"code": code, "env": env}}})
    return s.next_id


def record_until(w, ready, timeout=10.0):
    """Record the server's processes until ready(w) holds; returns it."""
    end = time.monotonic() + timeout
    while True:
        w.record()
        if ready(w) or time.monotonic() > end:
            return ready(w)
        time.sleep(0.05)


def kill_and_check(s, w, what):
    s.p.kill()
    rc = s.p.wait(10)
    t.ok(rc == -signal.SIGKILL, "%s: the server died of SIGKILL (rc %s)" % (what, rc))
    t0 = time.monotonic()
    left = w.after_exit(orderly=False, timeout=BOUND_S)
    t.ok(w.fds and left == [], "%s: all %d recorded processes are gone (%.1f s)"
         % (what, len(w.fds), time.monotonic() - t0), left)
    # A killed server cannot remove its cgroups (none in rlimit mode): the
    # next server removes those of servers that are gone when it starts.
    after_kill = w.cgroups_left()
    nxt = start()
    rc = nxt.close()
    left = w.cgroups_left()
    t.ok(rc == 0 and not left, "%s: its %d cgroup directories (%d left by the kill) are removed by the next "
         "server's start" % (what, len(w.cgroups), len(after_kill)), left)
    w.close()


def sleeps(w):
    return len([c for _, c in w.fds.values() if c == "sleep 1000"])


# --- a one-shot run in flight -------------------------------------------------
s = start()
send_run(s, "sleep 1000", "shell")
w = Watch(s.p.pid)
t.ok(record_until(w, lambda w: sleeps(w) == 1), "one-shot: the run's sleep 1000 is running",
     list(w.fds.values()))
kill_and_check(s, w, "one-shot sleep 1000")

# --- a one-shot run that ignores SIGTERM and double-forks ---------------------
s = start()
# (No setsid(1) in the shell environment: the subshell's two background
# sleeps are orphaned to the sandbox's init when it exits.)
send_run(s, "trap '' TERM HUP INT; (trap '' TERM HUP INT; sleep 1000 & sleep 1000 &); sleep 1000",
         "shell")
w = Watch(s.p.pid)
t.ok(record_until(w, lambda w: sleeps(w) == 3), "double-forker: its three sleeps are running",
     list(w.fds.values()))
kill_and_check(s, w, "one-shot double-forker")

# --- idle spare sandboxes, prepared ahead of their code -----------------------
s = start()
for env, code in (("shell", "true"), ("python", "pass"), ("node", ";")):
    t.ok(sc(s.run(code, env)).get("exit_code") == 0, "spares: a run in %s" % env)


def spares(w):
    """Inits of sandboxes waiting for code: alone in their pid namespace, or
    with the warm launcher of a Python or Node spare (agent/*_warm.*)."""
    by_ns = {}
    for p, _ in descendants(s.p.pid):
        by_ns.setdefault(_pid_ns(p), []).append(p)
    found = []
    for ns, ps in by_ns.items():
        inits = [p for p in ps if cmdline(p) == "sandbox-init"]
        rest = [cmdline(p) for p in ps if p not in inits]
        if ns and len(inits) == 1 and inits[0] in w.fds and len(rest) <= 1 and \
                all("_warm." in c for c in rest):
            found.append(inits[0])
    return found


w = Watch(s.p.pid)
t.ok(record_until(w, lambda w: len(spares(w)) == 3), "spares: one prepared per environment",
     list(w.fds.values()))
kill_and_check(s, w, "idle spares")

# --- all at once: one-shot runs and session calls in flight, spares ----------
# Each session also leaves a background process. Its agent is busy with the
# call, so it does not notice on its own that the server is gone.
s = start()
bg = {"python": "import subprocess\np = subprocess.Popen(['sleep', '1000'])",
      "shell": "sleep 1000 &",
      "node": "require('child_process').spawn('sleep', ['1000'], {stdio: 'ignore'})"}
busy = {"python": "import subprocess\nsubprocess.run(['sleep', '1001'])",
        "shell": "sleep 1001",
        "node": "require('child_process').execSync('sleep 1001')"}
for env, code in bg.items():
    t.ok(sc(s.run(code, env, session="k-" + env)).get("exit_code") == 0, "all at once: session in %s started" % env)
for env, code in busy.items():
    s.next_id += 1
    s.send({"jsonrpc": "2.0", "id": s.next_id, "method": "tools/call",
            "params": {"name": "run", "arguments": {"code": code, "env": env, "session": "k-" + env}}})
send_run(s, "sleep 1002", "shell")
send_run(s, "import subprocess\nsubprocess.run(['sleep', '1003'])", "python")
w = Watch(s.p.pid)
want = ["sleep 1000"] * 3 + ["sleep 1001"] * 3 + ["sleep 1002", "sleep 1003"]


def all_running(w):
    return sorted(c for _, c in w.fds.values() if c.startswith("sleep 100")) == want


t.ok(record_until(w, all_running), "all at once: 3 sessions with a call in flight and a background job each, "
     "2 one-shot runs", sorted(c for _, c in w.fds.values()))
kill_and_check(s, w, "runs and sessions in flight")

sys.exit(t.done())
