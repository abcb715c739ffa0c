"""Fault: a client that stops reading for a long while (15 s here, the issue
said 60 s: every deadline of this test server, the probe environment's 5 s
timeout and the 10 s session idle timeout, falls inside 15 s; longer would
only wait more). While it reads nothing, with 40 MiB of replies waiting for
it, the server must go on as if it read: a run is killed at its timeout, an
idle session is closed and its processes are gone, pings are answered, and
the server spends next to no CPU waiting for the client. When the client
reads again every request has exactly one answer, each as it would have been
(the timed-out run's duration is its timeout, not the stall)."""
import os
import sys
import time

from mcp import Server, Tap, Watch

BIN = os.environ["NSM_SERVER"]
STALL_S = 15
t = Tap()
BIG = "head -c 1000000 /dev/zero | tr '\\0' a; head -c 1000000 /dev/zero | tr '\\0' b >&2"


def sc(res):
    return (res or {}).get("structuredContent", {})


def text(res):
    return "".join(c.get("text", "") for c in (res or {}).get("content", []))


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def send_call(s, id, code, env, session=None):
    args = {"code": code, "env": env}
    if session:
        args["session"] = session
    s.send({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "run", "arguments": args}})


s = Server(BIN)
s.initialize()
r = s.run("sleep 1000 &", "shell", session="idle")
t.ok(sc(r).get("exit_code") == 0, "a session with a background job starts", r)
idle = Watch(s.p.pid)
idle.record_marked("sleep 1000")     # the session's sandbox: init, agent, sleep
t.ok(len(idle.fds) >= 3, "its processes are recorded (%d)" % len(idle.fds), list(idle.fds.values()))

# The stall: from here the client writes but reads nothing (not even through
# mcp.Server, which reads stdout whenever it waits).
t0 = time.monotonic()
cpu0 = cpu_s(s.p.pid)
ids = []
for i in range(10):
    send_call(s, "big-%d" % i, BIG, "shell")
    ids.append("big-%d" % i)
send_call(s, "sleeper", "exec sleep 1004", "probe")
ids.append("sleeper")
w = Watch(s.p.pid)
sleeper, sleeper_gone, idle_gone, pings = None, None, None, 0
while time.monotonic() - t0 < STALL_S:
    s.send({"jsonrpc": "2.0", "id": "ping-%d" % pings, "method": "ping"})
    ids.append("ping-%d" % pings)
    pings += 1
    w.record()
    if sleeper is None:
        sleeper = next((p for p, (_, c) in w.fds.items() if c == "sleep 1004"), None)
    if sleeper is not None and sleeper_gone is None and sleeper not in [p for p, _ in w.alive()]:
        sleeper_gone = time.monotonic() - t0
    if idle_gone is None and not idle.alive():
        idle_gone = time.monotonic() - t0
    time.sleep(0.5)
cpu = cpu_s(s.p.pid) - cpu0
t.ok(sleeper is not None and sleeper_gone is not None and sleeper_gone < 12,
     "a run is killed at its 5 s timeout while the client reads nothing (gone after %s s)"
     % (None if sleeper_gone is None else round(sleeper_gone, 1)))
t.ok(idle_gone is not None,
     "the idle session is closed at its 10 s idle timeout, every process of it gone (after %s s of stall)"
     % (None if idle_gone is None else round(idle_gone, 1)), idle.alive())
t.ok(cpu < 5, "the server waits for the client without spinning: %.1f s of CPU in a %d s stall "
     "(10 runs of 2 MB output included)" % (cpu, STALL_S))

# Reading again.
answers = {}
end = time.monotonic() + 60
while len(answers) < len(ids) and time.monotonic() < end:
    s._fill(0.5)
    while s.pending:
        m = s.pending.pop(0)
        if "id" in m:
            answers.setdefault(m["id"], []).append(m)
t.ok(all(len(answers.get(i, [])) == 1 for i in ids),
     "every request sent during the stall has exactly one answer (%d runs, %d pings)" % (11, pings),
     {i: len(answers.get(i, [])) for i in ids if len(answers.get(i, [])) != 1})
t.ok(all(len(sc(answers[i][0].get("result")).get("stdout", "")) == 1000000
         for i in ids if i.startswith("big-") and i in answers),
     "the big runs' results are whole")
t.ok(all(answers[i][0].get("result") == {} for i in ids if i.startswith("ping-") and i in answers),
     "the pings are answered")
sl = sc((answers.get("sleeper") or [{}])[0].get("result"))
t.ok(sl.get("timed_out") is True and 4000 <= sl.get("duration_ms", 0) < 8000,
     "the sleeper's result says it timed out after its 5 s, not after the stall (%s ms)" % sl.get("duration_ms"), sl)
r = s.run("echo ${x-fresh}", "shell", session="idle")
t.ok(sc(r).get("stdout") == "fresh\n" and "previous state lost" in text(r),
     "the idle session's id starts a fresh session that says its state was lost", r)
t.ok(s.alive() and not s.garbage, "the server still answers; stdout carried only protocol", s.garbage[:2])
rc = s.close()
left = w.after_exit(orderly=True)
t.ok(rc == 0 and left == [], "clean exit, nothing left (rc %s)" % rc, left)
idle.close()
w.close()
sys.exit(t.done())
