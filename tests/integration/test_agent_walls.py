"""What a session's code does to its own stdout, stderr and shell cannot break
the session's agent (agent/*): each later call runs its own code, answers in
time with its own output, and finds the state kept. Found by a red team:
noclobber made the Bash agent run the first call's code again on every call;
a function named `read` made it loop until the timeout; closing fd 1 broke
every later call of a Bash session, and hung a Node call until its timeout
(reported as a timeout, the state lost); in Python it ended the session."""
import os
import time

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
s = Server(BIN, ["--no-project"])
s.initialize()


def call(code, env, session):
    t0 = time.monotonic()
    r = s.run(code, env, session=session, timeout=60)
    sc = (r or {}).get("structuredContent", {}) if isinstance(r, dict) else {}
    return sc, time.monotonic() - t0, r


# ---- Bash ---------------------------------------------------------------
sc, _, r = call("set -o noclobber; x=kept; echo first; echo side-effect >> /workspace/log", "shell", "nc")
t.ok(sc.get("stdout") == "first\n", "bash: a call turns noclobber on", r)
sc, _, r = call("echo second $x", "shell", "nc")
t.ok(sc.get("stdout") == "second kept\n" and sc.get("stderr") == "",
     "bash: under noclobber the next call runs its own code, not the first's again", r)
sc, _, r = call("cat /workspace/log", "shell", "nc")
t.ok(sc.get("stdout") == "side-effect\n", "bash: the first call's side effect happened once", r)

sc, _, r = call("read(){ :; }; printf(){ :; }; mkdir(){ :; }; head(){ :; }; y=5; echo a", "shell", "fn")
t.ok(sc.get("stdout") == "a\n", "bash: a call defines functions named read, printf, mkdir, head", r)
sc, took, r = call("echo b $y", "shell", "fn")
t.ok(sc.get("stdout") == "b 5\n" and took < 10 and not sc.get("timed_out"),
     "bash: the next call still answers at once with its own output (%.1f s)" % took, r)
sc, _, r = call("unset -f read printf mkdir head; head -c 3 <<< abcdef; echo", "shell", "fn")
t.ok(sc.get("stdout") == "abc\n", "bash: and the functions are the code's to remove", r)

sc, _, r = call("z=9; exec 1>&-; echo lost", "shell", "close")
t.ok(sc.get("stdout") == "" and "Bad file descriptor" in sc.get("stderr", ""),
     "bash: a call closes its stdout (exec 1>&-)", r)
sc, took, r = call("echo back $z", "shell", "close")
t.ok(sc.get("stdout") == "back 9\n" and sc.get("stderr") == "" and took < 10,
     "bash: the next call has its stdout back, state kept (%.1f s)" % took, r)
sc, _, r = call("exec >/workspace/redirected; echo to-file", "shell", "close")
sc, _, r = call("echo stdout-again; cat /workspace/redirected", "shell", "close")
t.ok(sc.get("stdout") == "stdout-again\nto-file\n",
     "bash: `exec >file` lasts its own call, as in Python and Node", r)

# ---- Python -------------------------------------------------------------
sc, _, r = call("k = 5\nimport os\nos.close(1)", "python", "pyclose")
t.ok(sc.get("exit_code") == 0 and "Traceback" not in sc.get("stderr", ""),
     "python: a call closes fd 1 and ends normally, with no agent traceback", r)
sc, _, r = call("print('after', k)", "python", "pyclose")
t.ok(sc.get("stdout") == "after 5\n" and "restarted" not in str(r),
     "python: the next call prints again, state kept", r)
sc, _, r = call("import sys\nsys.stdout.close()", "python", "pyclose")
sc, _, r = call("print('reopened', k)", "python", "pyclose")
t.ok(sc.get("stdout") == "reopened 5\n", "python: after sys.stdout.close(), the next call prints again", r)
sc, _, r = call("import os\nn = os.open('/dev/null', os.O_WRONLY)\nos.dup2(n, 1)\nprint('to-null')", "python", "pyclose")
sc, _, r = call("print('back', k)", "python", "pyclose")
t.ok(sc.get("stdout") == "back 5\n", "python: a stdout sent to /dev/null comes back at the next call", r)
sc, _, r = call("import subprocess\nprint(subprocess.run(['ls', '/proc/self/fd'], capture_output=True, text=True).stdout.split())",
                "python", "pyclose")
t.ok(sc.get("stdout") == "['0', '1', '2', '3']\n",
     "python: a program the code starts still inherits only stdio (the agent's copies are close-on-exec)", r)

# ---- Node ---------------------------------------------------------------
sc, _, r = call("globalThis.keep = 42; console.log('set')", "node", "nclose")
sc, took, r = call("require('fs').closeSync(1)", "node", "nclose")
t.ok(sc.get("exit_code") == 0 and not sc.get("timed_out") and took < 10
     and "stdout (fd 1) is closed" in sc.get("stderr", ""),
     "node: a call that closes fd 1 ends at once, not at its timeout, and the result says stdout is gone (%.1f s)" % took, r)
sc, took, r = call("console.error('still', keep)", "node", "nclose")
t.ok(sc.get("stderr", "").startswith("still 42\n") and took < 10 and "restarted" not in str(r),
     "node: the session lives on with its state (%.1f s)" % took, r)

t.ok(s.alive() and not s.garbage, "the server is up and wrote only protocol")
t.ok(s.close() == 0, "the server exits cleanly at end of input")
t.done()
