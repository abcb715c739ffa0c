"""A client that never reads the server's stderr (it pipes it and forgets
it) must not stall the server: log lines that do not fit in the full pipe
are dropped and counted, never waited for. With --log-level debug a few
hundred runs write far more than a pipe holds (64 KiB); every run must
still be answered, and once the client reads stderr again the server says
how many lines it dropped."""
import json
import os
import select
import subprocess
import sys
import time

from mcp import Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()

p = subprocess.Popen([BIN, "--project", os.environ["NSM_PROJECT"], "--log-level", "debug"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
buf = b""


def send(obj):
    p.stdin.write((json.dumps(obj) + "\n").encode())
    p.stdin.flush()


def answer(rid, timeout):
    """The reply to rid, reading stdout only (stderr is never read here)."""
    global buf
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line)
            if msg.get("id") == rid:
                return msg
        r, _, _ = select.select([p.stdout], [], [], max(0.0, end - time.monotonic()))
        if r:
            chunk = os.read(p.stdout.fileno(), 1 << 16)
            if not chunk:
                return None
            buf += chunk
    return None


send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
      "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
t.ok(answer(1, 30) is not None, "the server starts with stderr never read")
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
N = 800
t0 = time.monotonic()
done = 0
for i in range(N):
    rid = 100 + i
    send({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
          "params": {"name": "run", "arguments": {"code": "echo %d" % i, "env": "shell"}}})
    r = answer(rid, 30)
    if not r or r.get("result", {}).get("structuredContent", {}).get("stdout") != "%d\n" % i:
        break
    done += 1
dt = time.monotonic() - t0
t.ok(done == N, "all %d runs answered while nobody reads stderr (%d answered, %.1f s)" % (N, done, dt))
send({"jsonrpc": "2.0", "id": 2, "method": "ping"})
t.ok(answer(2, 10) is not None, "pings are answered")
# Read what stderr holds, then make the server log once more: the note of
# what was dropped comes with it.
os.set_blocking(p.stderr.fileno(), False)
err = b""
while True:
    try:
        chunk = os.read(p.stderr.fileno(), 1 << 16)
    except BlockingIOError:
        break
    if not chunk:
        break
    err += chunk
t.ok(len(err) >= 60000, "stderr had filled up (%d bytes waiting)" % len(err))
send({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
      "params": {"name": "run", "arguments": {"code": "true", "env": "shell"}}})
answer(3, 30)
p.stdin.close()
rc = p.wait(30)
rest = p.stderr.read() or b""
t.ok(b"log line(s) dropped: stderr was full" in rest and rc == 0,
     "once stderr is read again the server says how many lines it dropped; clean exit", rest[-600:])
sys.exit(t.done())
