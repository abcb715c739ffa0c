"""An idle session costs the server nothing (issue #9 item 7): a background
job that keeps writing to stdout between calls must not keep the server
reading. Between calls the server stops reading a session's output, so the
writer blocks on the full pipe; what it wrote between calls is dropped when
the next call starts, and the next call's output is its own."""
import os
import sys
import time

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()


def text_of(res):
    return "".join(c.get("text", "") for c in (res or {}).get("content", []))


def sc(res):
    return (res or {}).get("structuredContent", {})


def cpu_s(pid):
    """User + system CPU seconds of pid so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


s = Server(BIN, ["--project", os.environ["NSM_PROJECT"]])
s.initialize()
pid = s.p.pid

# A writer that never stops, started by a call that then returns.
flood = ("import subprocess, sys\n"
         "p = subprocess.Popen([sys.executable, '-c', "
         "'import sys\\nwhile True: sys.stdout.write(\"y\" * 65536); sys.stdout.flush()'])\n"
         "print('started', p.pid)\n")
r = s.run(flood, "python", session="idle-flood")
t.ok(r is not None and not r.get("isError") and "started" in sc(r).get("stdout", ""),
     "a session call starts a background writer and returns", r)

time.sleep(0.5)
c0 = cpu_s(pid)
time.sleep(3.0)
used = cpu_s(pid) - c0
# Reading and dropping the flood kept the server at ~70 % of a core (2+ s of
# the 3); a server that stops reading between calls uses almost none.
t.ok(used < 0.3, "the server uses < 10%% of a core while the session is idle "
     "with a writer running (used %.2f s of CPU in 3 s)" % used)

r = s.run("print('mine')", "python", session="idle-flood")
out = sc(r).get("stdout", "")
# (The writer runs on during the call: its bytes may fill the call's
# output cap before the code prints, which the result then says.)
# print() writes "mine" and "\n" apart: the writer's bytes may come between.
# The agent's end marker is one small write that the writer's 64 KiB writes
# can keep out of the pipe; past the runaway margin the call is then stopped
# as runaway output, which the result says (the session's state is lost).
text = r["content"][-1].get("text", "") if r else ""
runaway = bool(r and r.get("isError") and "ran on far past" in text and "state was lost" in text)
t.ok(r is not None and (runaway or (not r.get("isError") and (
    out.replace("y", "") == "mine\n" or sc(r).get("truncated")))),
     "the next call answers, with its own output, a cap filled by the writer, or "
     "stopped as runaway output saying so", (runaway, r and r["content"][-1].get("text", "")[-300:]))
t.ok(s.alive(), "the server answers pings")
s.run("import os, signal\nos.kill(p.pid, signal.SIGKILL)\np.wait()", "python", session="idle-flood")

# Output written between calls is not handed to the next call.
late = ("import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', "
        "'import time, sys\\ntime.sleep(0.4)\\nprint(\"between-calls\", flush=True)'])\n")
r = s.run(late, "python", session="idle-late")
t.ok(r is not None and not r.get("isError"), "a call leaves a job that prints after it returns", r)
time.sleep(1.0)
r = s.run("print('second')", "python", session="idle-late")
out = sc(r).get("stdout", "")
t.ok(out == "second\n", "the next call's stdout is exactly its own (nothing from between calls)", repr(out))

# Forged replies flooding the agent's control channel (fd 3, which the code
# can write): between calls the server does not read it either.
ctl_flood = ("import os, threading, json\n"
             "d = json.dumps({'id': 1, 'exit_code': 0, 'interrupted': False}).encode()\n"
             "fr = (str(len(d)).encode() + b'\\n' + d) * 200\n"
             "def flood():\n"
             "    while True: os.write(3, fr)\n"
             "threading.Thread(target=flood, daemon=True).start()\n"
             "kept = 'yes'\n")
r = s.run(ctl_flood, "python", session="idle-ctl")
t.ok(r is not None and not r.get("isError"), "a call starts a thread that floods the control channel", r)
time.sleep(0.5)
c0 = cpu_s(pid)
time.sleep(3.0)
used = cpu_s(pid) - c0
t.ok(used < 0.3, "the server uses < 10%% of a core while forged replies wait on the channel "
     "(used %.2f s of CPU in 3 s)" % used)
r = s.run("print(kept)", "python", session="idle-ctl")
t.ok(sc(r).get("stdout") == "yes\n" and sc(r).get("exit_code") == 0,
     "the next call still gets its own reply, and the state is kept", r)
t.ok(s.alive(), "the server answers pings")

t.ok(s.close() == 0, "the server exits cleanly at end of input")
sys.exit(t.done())
