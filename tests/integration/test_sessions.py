"""Sessions through the real binary: state that persists, exit codes, output,
interrupts at the timeout, dead interpreters, the queue, the bound, the idle
timeout, cancellation, shutdown, and a soak that checks for leaked processes
and descriptors. Uses the test server's short-timeout environments (probe:
bash 5 s; pyshort, nodeshort: 3 s) and its session limits (24 sessions,
10 s idle)."""
import os
import signal
import subprocess
import sys
import time

from mcp import Server, Tap, Watch, descendants, session_spares, spare_processes, _cgroup_dirs, _cgroup_mounts

BIN = os.environ["NSM_SERVER"]
MAX_SESSIONS = 24
IDLE_S = 10
t = Tap()


def sc(res):
    return (res or {}).get("structuredContent", {})


def text_of(res):
    return "".join(c.get("text", "") for c in (res or {}).get("content", []))


def settle(pid, want, timeout=5.0, server=None):
    """Wait until pid has `want` descendants (with server: not counting the
    session spares' processes); return the last list."""
    end = time.monotonic() + timeout
    while True:
        spares = spare_processes(server) if server else set()
        d = [x for x in descendants(pid) if x[0] not in spares]
        if len(d) == want or time.monotonic() > end:
            return d
        time.sleep(0.05)


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def start():
    s = Server(BIN, ["--project", os.environ["NSM_PROJECT"], "--log-level", "debug"])
    s.initialize()
    return s


def send_run(s, code, env, session=None):
    """Send a run without waiting; returns its request id."""
    s.next_id += 1
    args = {"code": code, "env": env}
    if session is not None:
        args["session"] = session
    s.send({"jsonrpc": "2.0", "id": s.next_id, "method": "tools/call",
            "params": {"name": "run", "arguments": args}})
    return s.next_id


def wait_id(s, rid, timeout=30.0):
    m = s.read(timeout, lambda m: m.get("id") == rid)
    return m.get("result") if m else None


s = start()
R = s.run

# --- state persists ---------------------------------------------------------
r = R("import json\nx = 41\ndef inc(v): return v + 1", "python", session="py1")
t.ok(sc(r).get("exit_code") == 0 and not r.get("isError"), "a session's first call runs", r)
st = sc(R("print(json.dumps({'x': inc(x)}))", "python", session="py1"))
t.ok(st.get("stdout") == '{"x": 42}\n' and st.get("session") == "py1",
     "python: variables, functions and imports persist", st)
R("A=1; f() { echo \"f:$1\"; }; cd /tmp; export EXP=yes; declare -a arr=(p q)", "shell", session="sh1")
st = sc(R("f $A; pwd; sh -c 'echo $EXP'; echo ${arr[1]}", "shell", session="sh1"))
t.ok(st.get("stdout") == "f:1\n/tmp\nyes\nq\n", "bash: variables, functions, cwd, exported env persist", st)
R("let n = 20; const o = {k: 'v'}; var w = 2; function g() { return n + w; }", "node", session="js1")
st = sc(R("console.log(g(), o.k)", "node", session="js1"))
t.ok(st.get("stdout") == "22 v\n", "node: let/const/var/functions persist", st)
st = sc(R("const r = await Promise.resolve(n * 2); console.log(r)", "node", session="js1"))
t.ok(st.get("stdout") == "40\n", "node: top-level await works in a session", st)

R("open('/workspace/kept.txt', 'w').write('data')", "python", session="py1")
st = sc(R("print(open('/workspace/kept.txt').read())", "python", session="py1"))
t.ok(st.get("stdout") == "data\n", "/workspace persists across calls (python)", st)
R("echo hello > /workspace/w.txt", "shell", session="sh1")
st = sc(R("cat /workspace/w.txt", "shell", session="sh1"))
t.ok(st.get("stdout") == "hello\n", "/workspace persists across calls (bash)", st)
st = sc(R("cat /workspace/w.txt 2>&1; echo rc=$?", "shell", session="other-sh"))
t.ok("rc=1" in st.get("stdout", ""), "another session has its own /workspace", st)
st = sc(R("cat /workspace/w.txt 2>&1; echo rc=$?", "shell"))
t.ok("rc=1" in st.get("stdout", ""), "a one-shot run does not see a session's /workspace", st)

# --- environment binding ----------------------------------------------------
r = R("print(1)", "shell", session="py1")
t.ok(r.get("isError") and "python" in text_of(r) and "py1" in text_of(r),
     "a session is bound to its env: a mismatch is an error naming it", r)
st = sc(R("print(x)", "python", session="py1"))
t.ok(st.get("stdout") == "41\n", "the session survives a mismatched call", st)
r = R("echo", "shell", session="bad id!")
t.ok(r.get("isError") and "session" in text_of(r), "an invalid session id is refused", r)
rs = [R("echo in-%s" % i, "shell", session=i) for i in (".", "..", "...", ".a")]
t.ok([bool(r.get("isError")) for r in rs] == [True, True, False, False]
     and "not . or .." in text_of(rs[1]),
     "the ids . and .. (path segments of the files' URIs) are refused; ... and .a are ids",
     [text_of(r)[:80] for r in rs])

# --- exit codes ---------------------------------------------------------------
r = R("raise ValueError('boom')", "python", session="py1")
t.ok(sc(r).get("exit_code") == 1 and "ValueError: boom" in sc(r).get("stderr", "")
     and "Traceback" in sc(r).get("stderr", "") and r.get("isError"),
     "python: an exception → exit 1 with its traceback", r)
r = R("raise SystemExit(3)", "python", session="py1")
t.ok(sc(r).get("exit_code") == 3, "python: SystemExit(3) → 3", r)
st = sc(R("print(x)", "python", session="py1"))
t.ok(st.get("stdout") == "41\n" and "restarted" not in st.get("stdout"),
     "python: state survives exceptions and SystemExit", st)
r = R("false", "shell", session="sh1")
t.ok(sc(r).get("exit_code") == 1 and r.get("isError"), "bash: false → 1", r)
r = R("throw new Error('kaput')", "node", session="js1")
t.ok(sc(r).get("exit_code") == 1 and "kaput" in sc(r).get("stderr", ""), "node: throw → 1", r)
st = sc(R("console.log(n)", "node", session="js1"))
t.ok(st.get("stdout") == "20\n", "node: state survives a throw", st)

# --- output -------------------------------------------------------------------
st = sc(R("import subprocess\nprint('a')\nsubprocess.run(['echo', 'x'])\nprint('b')", "python", session="py1"))
t.ok(st.get("stdout") == "a\nx\nb\n", "python: a subprocess's output is captured in order", st)
st = sc(R("printf 'no newline'", "shell", session="sh1"))
t.ok(st.get("stdout") == "no newline", "bash: a last line without newline is kept", st)
st = sc(R("import sys; sys.stdout.write('tail'); sys.stderr.write('etail')", "python", session="py1"))
t.ok(st.get("stdout") == "tail" and st.get("stderr") == "etail", "python: unterminated lines kept on both streams", st)
st = sc(R("process.stdout.write('nl-less')", "node", session="js1"))
t.ok(st.get("stdout") == "nl-less", "node: a last line without newline is kept", st)
big = 2 * 1024 * 1024
t0 = time.monotonic()
r = R("import sys\nsys.stdout.write('o' * %d)\nsys.stderr.write('e' * %d)\nprint('end')" % (big, big),
      "python", session="py1", timeout=60)
st = sc(r)
t.ok(st.get("truncated") is True and len(st.get("stdout", "")) == 1048576 and len(st.get("stderr", "")) == 1048576
     and "of %d bytes" % (big + 4) in text_of(r) and time.monotonic() - t0 < 20,
     "2 MB on stdout and stderr at once: no deadlock, capped, counted (%.1f s)" % (time.monotonic() - t0),
     {k: (v if not isinstance(v, str) else len(v)) for k, v in st.items()})
st = sc(R("print(x)", "python", session="py1"))
t.ok(st.get("stdout") == "41\n", "the next call after a capped one is clean", st)
st = sc(R("head -c 3000000 /dev/zero | tr '\\0' o; echo; seq 3 >&2", "shell", session="sh1", timeout=60))
t.ok(st.get("truncated") is True and st.get("stderr") == "1\n2\n3\n", "bash: large output capped, stderr intact", st)
st = sc(R("printf '\\036not-a-marker\\036\\036'; echo", "shell", session="sh1"))
t.ok(st.get("stdout") == "\x1enot-a-marker\x1e\x1e\n", "output that looks like a marker is kept", st)

# --- timeouts: interrupted, state kept ---------------------------------------
R("kept = 'py'", "pyshort", session="pys")
t0 = time.monotonic()
r = R("import time\ntime.sleep(100)", "pyshort", session="pys")
dt = time.monotonic() - t0
t.ok(sc(r).get("timed_out") is True and r.get("isError") and "state is kept" in text_of(r) and dt < 5,
     "python: a call over its timeout is interrupted (%.1f s)" % dt, r)
st = sc(R("print(kept)", "pyshort", session="pys"))
t.ok(st.get("stdout") == "py\n" and st.get("exit_code") == 0, "python: state survives the interrupt", st)
R("KEPT=sh", "probe", session="shs")
t0 = time.monotonic()
r = R("sleep 100", "probe", session="shs")
dt = time.monotonic() - t0
t.ok(sc(r).get("timed_out") is True and "state is kept" in text_of(r) and dt < 7,
     "bash: sleep 100 is interrupted at the 5 s timeout (%.1f s)" % dt, r)
st = sc(R("echo $KEPT", "probe", session="shs"))
t.ok(st.get("stdout") == "sh\n", "bash: state survives the interrupt", st)
R("globalThis.kept = 'js'", "nodeshort", session="jss")
r = R("while (true) {}", "nodeshort", session="jss")
t.ok(sc(r).get("timed_out") is True and "state is kept" in text_of(r), "node: a busy loop is interrupted", r)
st = sc(R("console.log(kept)", "nodeshort", session="jss"))
t.ok(st.get("stdout") == "js\n", "node: state survives the interrupt", st)

# --- timeouts that ignore SIGINT: sandbox killed, state lost -------------------
t0 = time.monotonic()
r = R("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass", "pyshort", session="pys")
dt = time.monotonic() - t0
t.ok(sc(r).get("timed_out") is True and "state was lost" in text_of(r) and dt < 8,
     "python ignoring SIGINT: the sandbox is killed, the result says state lost (%.1f s)" % dt, r)
r = R("print(globals().get('kept'))", "pyshort", session="pys")
t.ok(sc(r).get("stdout") == "None\n" and "restarted: previous state lost" in text_of(r),
     "python: the next call runs in a fresh interpreter, with a note", r)
r = R("trap '' INT; while :; do :; done", "probe", session="shs")
t.ok(sc(r).get("timed_out") is True and "state was lost" in text_of(r), "bash ignoring SIGINT: sandbox killed", r)
r = R("echo \"[${KEPT-}]\"", "probe", session="shs")
t.ok(sc(r).get("stdout") == "[]\n" and "restarted" in text_of(r), "bash: fresh shell next, with a note", r)

# --- dead interpreters --------------------------------------------------------
deaths = [
    ("python", "py1", "import os\nprint('bye', flush=True)\nos._exit(7)", 7, "bye\n", "print('alive')"),
    ("shell", "sh1", "echo bye; exit 4", 4, "bye\n", "echo alive"),
    ("node", "js1", "console.log('bye'); process.exit(2)", 2, "bye\n", "console.log('alive')"),
]
for env, sess, code, rc, out, nxt in deaths:
    r = R(code, env, session=sess)
    t.ok(sc(r).get("exit_code") == rc and sc(r).get("stdout") == out and "interpreter died" in text_of(r),
         "%s: a dying interpreter is reported with its exit code %d and output" % (env, rc), r)
    r = R(nxt, env, session=sess)
    t.ok(sc(r).get("stdout") == "alive\n" and "restarted: previous state lost (its interpreter ended or was "
         "killed in an earlier call)" in text_of(r), "%s: the next call gets a fresh interpreter and a note that "
         "says why" % env, r)
r = R("echo pre; kill -SEGV $$", "shell", session="sh1")
t.ok(sc(r).get("exit_code") is None and "signal 11" in text_of(r) and sc(r).get("stdout") == "pre\n",
     "bash: a segfaulting interpreter is reported (signal 11)", r)
r = R("echo alive", "shell", session="sh1")
t.ok(sc(r).get("stdout") == "alive\n" and "restarted" in text_of(r), "bash: fresh after the segfault", r)
r = R("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "python", session="py1")
t.ok("signal 9" in text_of(r) and "interpreter died" in text_of(r), "python: SIGKILL of the interpreter reported", r)
R("print(1)", "python", session="py1")

# --- nothing blocks on a busy session -----------------------------------------
slow = send_run(s, "sleep 3; echo slow-done", "shell", session="slow")
time.sleep(0.3)
t0 = time.monotonic()
ok_ping = s.alive()
dt_ping = time.monotonic() - t0
t.ok(ok_ping and dt_ping < 1.0, "ping answered in %.3f s while a session sleeps" % dt_ping)
t0 = time.monotonic()
st = sc(R("echo other", "shell", session="other-sh"))
dt = time.monotonic() - t0
t.ok(st.get("stdout") == "other\n" and dt < 1.5, "another session's call answered in %.2f s meanwhile" % dt, st)
t0 = time.monotonic()
st = sc(R("echo oneshot", "shell"))
dt = time.monotonic() - t0
t.ok(st.get("stdout") == "oneshot\n" and dt < 1.5, "a one-shot run answered in %.2f s meanwhile" % dt, st)
r = wait_id(s, slow)
t.ok(sc(r).get("stdout") == "slow-done\n", "the slow call completes", r)

# --- calls to one session run in arrival order --------------------------------
R("rm -f /workspace/order", "shell", session="ord")
ids = [send_run(s, "sleep 0.%d; echo %d >> /workspace/order; tr '\\n' ' ' < /workspace/order" % (3 - i, i), "shell",
                session="ord") for i in range(1, 4)]
outs = [sc(wait_id(s, i)).get("stdout") for i in ids]
t.ok(outs == ["1 ", "1 2 ", "1 2 3 "], "three calls sent at once run in arrival order", outs)

# --- cancellation ------------------------------------------------------------
R("CANCEL_KEPT=1", "shell", session="can")
rid = send_run(s, "sleep 100", "shell", session="can")
time.sleep(0.5)
s.notify("notifications/cancelled", {"requestId": rid, "reason": "test"})
t0 = time.monotonic()
r = R("echo $CANCEL_KEPT", "shell", session="can")
dt = time.monotonic() - t0
t.ok(sc(r).get("stdout") == "1\n" and "restarted" not in text_of(r) and dt < 3,
     "a cancelled call is interrupted and the session kept (next call after %.2f s)" % dt, r)
late = s.drain(0.5)
t.ok(not [m for m in late if m.get("id") == rid], "no response is sent for the cancelled call", late)

# --- the bound ---------------------------------------------------------------
# Fill the table: the earliest-used idle sessions are evicted, one per new id.
R("LRU_MARK=1", "shell", session="lru-first")
for i in range(MAX_SESSIONS):
    R("true", "shell", session="fill%d" % i)
r = R("echo \"[${LRU_MARK-}]\"", "shell", session="lru-first")
t.ok(sc(r).get("stdout") == "[]\n", "at the bound the least recently used idle session was evicted", r)
t.ok("restarted: previous state lost (it was the least recently used of %d sessions and was closed for a new "
     "one)" % MAX_SESSIONS in text_of(r), "and its next call says it was evicted", text_of(r))
# Every session busy (fill0 was evicted by lru-first's return): a new one is
# refused.
table = ["fill%d" % i for i in range(1, MAX_SESSIONS)] + ["lru-first"]
busy = [send_run(s, "sleep 2", "shell", session=name) for name in table]
time.sleep(0.5)
r = R("echo", "shell", session="one-too-many")
t.ok(r.get("isError") and "busy" in text_of(r), "every session busy: a new session is refused", r)
res = [wait_id(s, b) for b in busy]
t.ok(all(sc(x).get("exit_code") == 0 for x in res), "the busy sessions' calls all complete")
r = R("echo now", "shell", session="one-too-many")
t.ok(sc(r).get("stdout") == "now\n", "once a session is idle, a new one evicts it", r)

# --- idle timeout -------------------------------------------------------------
R("IDLE=1", "shell", session="idle")
pid = s.p.pid
# Every session's sandbox (the spares stay: the one-shot runs' is not busy,
# the session spares are named in the log).
w = Watch(pid)
n_before = w.record(busy_only=True, exclude=spare_processes(s))
time.sleep(IDLE_S + 1)
left = w.wait_gone(3)
w.close()
# (A session spare still being made when the sandboxes were recorded is a
# spare now: it stays.)
spares_now = spare_processes(s)
spare_cgs = {d for p in spares_now for d in _cgroup_dirs(p, _cgroup_mounts())}
left = [x for x in left if not ((isinstance(x, tuple) and x[0] in spares_now) or x in spare_cgs)]
r = R("echo \"[${IDLE-}]\"", "shell", session="idle")
t.ok(sc(r).get("stdout") == "[]\n" and n_before > 0 and left == [],
     "idle sessions are closed after %d s and their processes gone (%d recorded, left: %s)"
     % (IDLE_S, n_before, left), r)
t.ok("restarted: previous state lost (it was closed after %d s without a call)" % IDLE_S in text_of(r),
     "and the next call says it was closed for being idle", text_of(r))
t.ok(s.alive() and not s.garbage, "the server still answers; stdout carried only protocol", s.garbage)

# --- end of input: running calls answered, every session's processes gone ----
R("import subprocess\np = subprocess.Popen(['sleep', '1000'])", "python", session="bg-py")
R("sleep 1000 &", "shell", session="bg-sh")
R("require('child_process').spawn('sleep', ['1000'], {stdio: 'ignore'})", "node", session="bg-js")
pid = s.p.pid
t.ok(len(descendants(pid)) >= 9, "sessions with background processes are running", descendants(pid))
inflight = send_run(s, "sleep 1; echo finished", "shell", session="bg-sh")
queued = send_run(s, "echo never", "shell", session="bg-sh")
time.sleep(0.2)
w = Watch(pid)
w.record()   # every session's processes, the call in flight's and the spare
t0 = time.monotonic()
rc = s.close(timeout=15)
dt = time.monotonic() - t0
while s._fill(0):
    pass
msgs = s.pending
by_id = {m.get("id"): m.get("result") for m in msgs}
t.ok(rc == 0 and dt < 6, "stdin EOF: the server exits (%.1f s, rc %s)" % (dt, rc))
t.ok(sc(by_id.get(inflight)).get("stdout") == "finished\n", "the call in flight at EOF was answered", by_id.get(inflight))
t.ok((by_id.get(queued) or {}).get("isError") and "not run" in text_of(by_id.get(queued)),
     "the call queued at EOF was answered without running", by_id.get(queued))
left = w.after_exit(orderly=True)
t.ok(len(w.fds) >= 10 and left == [],
     "no process of any session is left after EOF, none left for others to reap (%d recorded)" % len(w.fds), left)
w.close()

# --- SIGTERM, SIGINT, SIGKILL: every session's processes end with the server --
# Each session has a background process and a call in flight: its agent is
# busy, so it does not notice that its control channel closed when the server
# died (an idle agent would exit on that EOF, taking its sandbox with it).
bg = {"python": "import subprocess\np = subprocess.Popen(['sleep', '1000'])",
      "shell": "sleep 1000 &",
      "node": "require('child_process').spawn('sleep', ['1000'], {stdio: 'ignore'})"}
busy = {"python": "import subprocess\nsubprocess.run(['sleep', '1001'])",
        "shell": "sleep 1001",
        "node": "require('child_process').execSync('sleep 1001')"}
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
    name = signal.Signals(sig).name
    s = start()
    for env, code in bg.items():
        r = s.run(code, env, session="sig-" + env)
        t.ok(sc(r).get("exit_code") == 0, "%s: session in %s started" % (name, env), r)
    for env, code in busy.items():
        send_run(s, code, env, session="sig-" + env)
    w = Watch(s.p.pid)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        n = w.record()
        names = [c for _, c in w.fds.values()]
        if names.count("sleep 1000") == 3 and names.count("sleep 1001") == 3:
            break
        time.sleep(0.05)
    t.ok(names.count("sleep 1000") == 3 and names.count("sleep 1001") == 3,
         "%s: 3 sessions recorded with a background sleep and a call in flight each (%d processes)" % (name, n),
         names)
    s.p.send_signal(sig)
    try:
        rc = s.p.wait(10)
    except subprocess.TimeoutExpired:
        s.p.kill()
        rc = None
    t.ok(rc == (-9 if sig == signal.SIGKILL else 0), "%s: the server exits (rc %s)" % (name, rc))
    # SIGTERM and SIGINT: the server kills and reaps every sandbox before
    # it exits. SIGKILL: the sandboxes' parent-death signal ends them.
    left = w.after_exit(orderly=sig != signal.SIGKILL)
    t.ok(left == [], "%s: every process of the sessions is gone%s" % (
        name, ", reaped by the server" if sig != signal.SIGKILL else ""), left)
    w.close()

# --- soak: 20 sessions × 50 calls, some timing out, some crashing -------------
s = start()
pid = s.p.pid
envs = ["pyshort", "probe", "nodeshort"]
sessions = [("soak%02d" % i, envs[i % 3]) for i in range(20)]
ok_code = {"pyshort": "v = globals().get('v', 0) + 1\nprint(v)",
           "probe": "v=$(( ${v:-0} + 1 )); echo $v",
           "nodeshort": "globalThis.v = (globalThis.v || 0) + 1; console.log(v)"}
crash_code = {"pyshort": "import os; os._exit(9)", "probe": "exit 9", "nodeshort": "process.exit(9)"}
hang_code = {"pyshort": "import time; time.sleep(60)", "probe": "sleep 60",
             "nodeshort": "await new Promise(r => setTimeout(r, 60000))"}
stubborn_code = {"pyshort": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass",
                 "probe": "trap '' INT; while :; do :; done", "nodeshort": "await null; while (true) {}"}
expect = {name: 0 for name, _ in sessions}


def soak_round(k):
    """One call per session; returns the number of wrong results."""
    ids = {}
    for i, (name, env) in enumerate(sessions):
        if k in (15, 35) and i % 5 == 0:
            code, kind = crash_code[env], "crash"
        elif k == 25 and i % 4 == 1:
            code, kind = hang_code[env], "hang"
        elif k == 40 and i % 7 == 2:
            code, kind = stubborn_code[env], "stubborn"
        else:
            code, kind = ok_code[env], "ok"
        ids[name] = (send_run(s, code, env, session=name), kind)
    bad = []
    for name, (rid, kind) in ids.items():
        r = wait_id(s, rid, 60)
        st = sc(r)
        if kind == "ok":
            expect[name] += 1
            if st.get("stdout") != "%d\n" % expect[name]:
                bad.append((name, kind, expect[name], text_of(r)[:200]))
        elif kind == "crash":
            expect[name] = 0
            if st.get("exit_code") != 9:
                bad.append((name, kind, text_of(r)[:200]))
        elif kind == "hang":
            if not st.get("timed_out") or "state is kept" not in text_of(r):
                bad.append((name, kind, text_of(r)[:200]))
        elif kind == "stubborn":
            expect[name] = 0
            if not st.get("timed_out") or "state was lost" not in text_of(r):
                bad.append((name, kind, text_of(r)[:200]))
    return bad


t0 = time.monotonic()
bad = soak_round(0)  # every session created and live
# 20 sessions: init, interpreter and project refresher each (the session
# spares prepared beside them are not counted; their descriptors are, so
# both counts are taken with the same number of spares)
procs0 = settle(pid, 60, 5, s)
spares0 = len(session_spares(s))
fds0 = nfds(pid)
for k in range(1, 50):
    bad += soak_round(k)
procs1 = settle(pid, len(procs0), 5, s)
end = time.monotonic() + 5
while len(session_spares(s)) != spares0 and time.monotonic() < end:
    time.sleep(0.05)
fds1 = nfds(pid)
dt = time.monotonic() - t0
t.ok(not bad, "soak: 20 sessions × 50 calls with crashes, interrupts and kills give the right results (%.0f s)" % dt,
     bad[:10])
t.ok(len(procs0) == 60 and len(procs1) == len(procs0),
     "soak: the server's process count is the same before and after (%d → %d)" % (len(procs0), len(procs1)),
     (procs0, procs1))
t.ok(not [p for p in procs1 if p[1] == "Z"], "soak: no zombie", procs1)
t.ok(fds1 == fds0, "soak: the server's open descriptors are the same before and after (%d → %d)" % (fds0, fds1))
t.ok(s.alive() and not s.garbage, "soak: the server still answers; stdout carried only protocol", s.garbage)
w = Watch(pid)
w.record()
rc = s.close()
left = w.after_exit(orderly=True)
t.ok(rc == 0 and len(w.fds) >= 40 and left == [], "soak: clean exit, no process left (rc %s)" % rc, left)
w.close()
if rc not in (0, None) and s.err:
    print("# server stderr: " + s.err.decode(errors="replace")[-1500:].replace("\n", "\n# "))

sys.exit(t.done())
