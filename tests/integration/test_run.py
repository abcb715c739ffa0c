"""One-shot runs through the real binary: each bundled environment, exit
codes, large code, output caps, timeouts, the result's shape."""
import os
import sys
import time

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
s = Server(BIN, ["--project", os.environ["NSM_PROJECT"]])
s.initialize()


def sc(res):
    return (res or {}).get("structuredContent", {})


def text_of(res):
    return "".join(c.get("text", "") for c in (res or {}).get("content", []))


# Hello world and exit codes in each interpreter.
cases = [
    ("shell", "echo hello; echo oops >&2", 0, "hello\n", "oops\n"),
    ("shell", "exit 3", 3, "", ""),
    ("python", "print('hello')", 0, "hello\n", ""),
    ("python", "import sys; sys.exit(4)", 4, "", ""),
    ("node", "console.log('hello')", 0, "hello\n", ""),
    ("node", "process.exitCode = 5", 5, "", ""),
]
for env, code, rc, out, err in cases:
    r = s.run(code, env)
    st = sc(r)
    t.ok(st.get("exit_code") == rc and st.get("stdout") == out and st.get("stderr") == err
         and r.get("isError") == (rc != 0) and st.get("env") == env,
         "%s: %r → exit %d" % (env, code, rc), r)

r = s.run("raise ValueError('boom')", "python")
t.ok(sc(r).get("exit_code") == 1 and "ValueError: boom" in sc(r).get("stderr", "") and r.get("isError"),
     "python: an exception exits 1 with its traceback", r)
r = s.run("throw new Error('boom')", "node")
t.ok(sc(r).get("exit_code") == 1 and "boom" in sc(r).get("stderr", ""), "node: an uncaught error exits 1", r)

st = sc(s.run("echo hi", "shell"))
t.ok(set(st) >= {"exit_code", "stdout", "stderr", "timed_out", "truncated", "duration_ms", "env"}
     and st["timed_out"] is False and st["truncated"] is False and isinstance(st["duration_ms"], int),
     "structuredContent has every declared field", st)
r = s.run("echo out; echo err >&2; exit 2", "shell")
txt = text_of(r)
t.ok("out" in txt and "--- stderr ---\nerr" in txt and "exit code 2" in txt, "the text block shows stdout, stderr and the status", txt)

# The code's stdin is /dev/null; its cwd is /workspace.
st = sc(s.run("cat; echo rc=$?; pwd; readlink /proc/self/fd/0", "shell"))
t.ok(st.get("stdout") == "rc=0\n/workspace\n/dev/null\n", "stdin is /dev/null and cwd /workspace", st)
st = sc(s.run("printf 'no newline'", "shell"))
t.ok(st.get("stdout") == "no newline", "a last line without newline is kept", st)

# 1 MiB of code in each interpreter (passed as a file, not argv).
pad = 1024 * 1024
big = {
    "shell": "#" + "x" * pad + "\necho big-ok",
    "python": "#" + "x" * pad + "\nprint('big-ok')",
    "node": "//" + "x" * pad + "\nconsole.log('big-ok')",
}
for env, code in big.items():
    st = sc(s.run(code, env))
    t.ok(st.get("stdout") == "big-ok\n", "%s: 1 MiB of code runs" % env, st.get("stderr", "")[:300])

# Non-UTF-8 output is repaired, not a broken JSON message.
st = sc(s.run("printf 'a\\377b\\000c'", "shell"))
t.ok(st.get("stdout") == "a\ufffdb\ufffdc", "invalid UTF-8 and NUL become U+FFFD", st)

# Output cap: captured up to the cap, the rest counted and reported.
r = s.run("yes 0123456789abcdef | head -c 3000000", "shell", timeout=60)
st = sc(r)
t.ok(st.get("truncated") is True and len(st.get("stdout", "")) == 1048576 and "truncated" in text_of(r),
     "3 MB of output: 1 MiB kept, truncated reported", {k: (v if k != "stdout" else len(v)) for k, v in st.items()})
r = s.run("while :; do echo flood; done", "shell", timeout=60)
st = sc(r)
t.ok(st.get("truncated") is True and st.get("exit_code") is None and r.get("isError"),
     "an endless output loop is stopped and reported", {k: (v if k not in ("stdout",) else len(v)) for k, v in st.items()})

# Timeout: every process killed, reported, and the next run works.
t0 = time.monotonic()
r = s.run("sleep 100", "shell", timeout=60)
st = sc(r)
t.ok(st.get("timed_out") is True and st.get("exit_code") is None and r.get("isError")
     and "timed out" in text_of(r), "sleep 100 times out after the env's limit", st)
elapsed = time.monotonic() - t0
t.ok(30 <= elapsed < 40 and st.get("duration_ms", 0) >= 30000,
     "the timeout is the environment's (30 s): not shorter, not longer (%.1f s, duration_ms %s)"
     % (elapsed, st.get("duration_ms")))
t.ok(sc(s.run("echo next", "shell")).get("stdout") == "next\n", "the next run works after a timeout")

# The project is mounted read-only.
st = sc(s.run("cat /project/hello.txt; touch /project/x 2>&1; echo rc=$?", "shell"))
t.ok(st.get("stdout", "").startswith("project file\n") and "rc=1" in st.get("stdout", ""),
     "/project is readable and read-only", st)

# Sandboxes prepared ahead (csrc/pool.c): after a run, the next one in the
# same environment takes a spare; a spare is a fresh sandbox, nothing of the
# previous run is in it.
s.request("logging/setLevel", {"level": "debug"})
s.drain(0.2)
st1 = sc(s.run("echo one > /workspace/mark; echo two > /workspace/out/o; ls -A /workspace", "shell"))
time.sleep(0.5)
s.drain(0.2)
r2 = s.run("ls -A /workspace; ls -A /workspace/out /tmp", "shell")
logs = [m["params"]["data"] for m in s.drain(0.3) if m.get("method") == "notifications/message"]
t.ok(st1.get("stdout") == "mark\nout\n" and sc(r2).get("stdout") == "out\n/tmp:\n\n/workspace/out:\n"
     and sc(r2).get("exit_code") == 0,
     "a run after a run sees an empty /workspace (but its empty out/) and an empty /tmp", (st1, r2))
t.ok(any("prepared sandbox" in l for l in logs), "the second run took a prepared sandbox", logs)
s.request("logging/setLevel", {"level": "error"})

t.ok(s.alive(), "the server still answers")
t.ok(not s.garbage, "stdout carried only JSON-RPC messages", s.garbage[:3])
t.ok(s.close() == 0, "clean exit")
sys.exit(t.done())
