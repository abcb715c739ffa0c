"""A server started under a low hard limit of open files (ulimit -Hn 64):
each environment's max_open_files is clamped to it with a warning, runs work
and get the clamped limit, --list-envs and --doctor say so, and running out
of descriptors is reported as the server's limit, not the kernel's."""
import json
import os
import subprocess
import sys

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
LIMIT = 64
low = ["prlimit", "--nofile=%d:%d" % (LIMIT, LIMIT), "--"]

envs = json.loads(subprocess.run(low + [BIN, "--list-envs"], capture_output=True, check=True).stdout)
sh = next(e for e in envs["environments"] if e["name"] == "shell")
t.ok(sh["limits"]["max_open_files"] > LIMIT and sh["limits"]["max_open_files_effective"] == LIMIT,
     "--list-envs shows the configured and the clamped limit", sh["limits"])
envs = json.loads(subprocess.run([BIN, "--list-envs"], capture_output=True, check=True).stdout)
sh = next(e for e in envs["environments"] if e["name"] == "shell")
t.ok(sh["limits"]["max_open_files_effective"] == sh["limits"]["max_open_files"],
     "without a low limit nothing is clamped", sh["limits"])

doc = subprocess.run(low + [BIN, "--doctor"], capture_output=True, text=True)
t.ok("warn max_open_files: environment shell asks for" in doc.stdout and "hard limit is 64" in doc.stdout,
     "--doctor reports the clamp", doc.stdout)

s = Server(low[0], low[1:] + [BIN])
s.initialize()
r = s.run("ulimit -n; ulimit -Hn; echo ok", "shell")
sc = (r or {}).get("structuredContent", {})
t.ok(sc.get("exit_code") == 0 and sc.get("stdout") == "64\n64\nok\n",
     "a run works and gets the clamped limit (64)", r)
s._fill(0.2)
t.ok(b"environment shell: max_open_files" in s.err and b"hard limit of 64" in s.err,
     "the start-up log names the environment and the limit", s.err[-2000:])
# Sessions hold descriptors: open them until the server runs out; the error
# must name the server's own limit.
msgs = []
for i in range(30):
    r = s.run("echo hi", "shell", session="fd-%d" % i)
    text = "".join(c.get("text", "") for c in (r or {}).get("content", []))
    if (r or {}).get("isError"):
        msgs.append(text)
        break
t.ok(msgs and "RLIMIT_NOFILE" in msgs[0] and "ulimit -n" in msgs[0] and "Too many open files" not in msgs[0],
     "out of descriptors: the error names the server's limit", msgs)
t.ok(s.alive(), "the server still answers")
t.ok(s.close() == 0, "clean exit")
sys.exit(t.done())
