"""A one-shot run is answered as soon as its init reports the interpreter's
exit, while the kernel may still be tearing the sandbox down (a background
process with a large heap takes a while to die). A client that closes its
input right after that answer must still get an orderly exit: the server
reaps that sandbox and removes its cgroup directories before it exits (the
CI run that left "orphan: sandbox-init" and a sandbox-N cgroup behind)."""
import os
import sys

from mcp import Server, Tap, Watch

BIN = os.environ["NSM_SERVER"]
t = Tap()

# The interpreter exits at once; a child keeps 300 MiB touched, so tearing
# the sandbox down takes some milliseconds after the exit report.
CODE = ("import os, subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time\\nb = bytearray(300 << 20)\\n"
        "for i in range(0, len(b), 4096): b[i] = 1\\nprint(\"held\", flush=True)\\ntime.sleep(1000)'],"
        " stdout=subprocess.PIPE).stdout.readline()\n"
        "print('done')\n")
bad = []
for attempt in range(5):
    s = Server(BIN, ["--project", os.environ["NSM_PROJECT"]])
    s.initialize()
    w = Watch(s.p.pid)
    s.next_id += 1
    s.send({"jsonrpc": "2.0", "id": s.next_id, "method": "tools/call",
            "params": {"name": "run", "arguments": {"code": CODE, "env": "python"}}})
    while True:
        w.record()
        r = s.read(0.02, lambda m: m.get("id") == s.next_id)
        if r is not None:
            break
    out = r.get("result", {}).get("structuredContent", {}).get("stdout")
    rc = s.close()
    left = w.after_exit(orderly=True, timeout=3)
    if out != "done\n" or rc != 0 or left:
        bad.append((attempt, out, rc, left))
    w.close()
t.ok(not bad, "closing input right after a run's answer: every sandbox reaped and its cgroups removed "
     "before the server exits (5 tries)", bad)
sys.exit(t.done())
