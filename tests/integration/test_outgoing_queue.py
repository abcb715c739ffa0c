"""The outgoing queue's two limits, as the README's Protocol section states
them ("A client that stops reading"): at exit the server waits up to 2 s for
the client to take what is queued; past 64 MiB + 1 MiB queued the client is
dropped and the server shuts down as if stdout had closed, every sandbox
killed. The client here reads raw bytes (mcp.Server reads as it waits)."""
import json
import os
import re
import select
import subprocess
import sys
import time

from mcp import Tap, Watch

BIN = os.environ["NSM_SERVER"]
MIB = 1 << 20
t = Tap()

# One run whose reply is about 4 MiB: 1 MB on stdout and 1 MB on stderr, each
# in the text content and in structuredContent.
BIG = "head -c 1000000 /dev/zero | tr '\\0' a; head -c 1000000 /dev/zero | tr '\\0' b >&2"


class Client:
    def __init__(self, args=()):
        self.p = subprocess.Popen([BIN, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        os.set_blocking(self.p.stderr.fileno(), False)
        self.err = b""
        self.n = 0

    def send(self, obj):
        self.p.stdin.write((json.dumps(obj) + "\n").encode())
        self.p.stdin.flush()

    def call(self, code, env="shell", session=None, id=None):
        self.n += 1
        args = {"code": code, "env": env}
        if session:
            args["session"] = session
        self.send({"jsonrpc": "2.0", "id": id or self.n, "method": "tools/call",
                   "params": {"name": "run", "arguments": args}})
        return id or self.n

    def init(self):
        self.send({"jsonrpc": "2.0", "id": "init", "method": "initialize",
                   "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                              "clientInfo": {"name": "queue-test", "version": "1"}}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def stderr_until(self, pred, timeout):
        """Read stderr (only) until pred(text) holds or timeout; returns
        whether it held. Reads what is there even with timeout 0."""
        end = time.monotonic() + timeout
        while True:
            try:
                self.err += self.p.stderr.read() or b""
            except (OSError, ValueError):
                pass
            if pred(self.err.decode(errors="replace")):
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            select.select([self.p.stderr], [], [], min(left, 0.2))

    def wait(self, timeout):
        """Wait for the server to exit, reading its stderr meanwhile (a full
        stderr pipe would block its log writes); its exit code, or None after
        killing it at the timeout."""
        end = time.monotonic() + timeout
        while self.p.poll() is None and time.monotonic() < end:
            self.stderr_until(lambda e: False, 0.1)
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
            return None
        self.stderr_until(lambda e: False, 0.2)
        return self.p.returncode

    def read_replies(self, want, timeout):
        """Read stdout: {id: reply} until `want` ids are answered or EOF."""
        fd = self.p.stdout.fileno()
        buf, got = b"", {}
        end = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.5)
            if not r:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                m = json.loads(line)
                if "id" in m:
                    got[m["id"]] = m
        return got


def stdout_len(m):
    return len(m.get("result", {}).get("structuredContent", {}).get("stdout", ""))


# --- at exit: up to 2 s for the client to take what is queued ----------------
# Four big replies (about 16 MiB, far more than a pipe holds) and the end of
# input. The client reads nothing until the server has logged the last run's
# end, after which it leaves its loop for the shutdown: the replies still
# queued then must all arrive, whole, once the client reads.
N = 4
c = Client(["--log-level", "debug"])
c.init()
ids = [c.call(BIG, id="exit-%d" % i) for i in range(N)]
c.p.stdin.close()
ran = c.stderr_until(lambda e: e.count("run in shell: exit 0") >= N, 60)
t.ok(ran, "at exit: %d runs with about 4 MiB of reply each ended while the client read nothing" % N,
     c.err.decode(errors="replace")[-1500:])
got = c.read_replies(N + 1, 30)
rc = c.wait(30)
t.ok(all(stdout_len(got.get(i, {})) == 1000000 for i in ids) and "init" in got,
     "at exit: the client that reads after the server began to exit gets every queued reply whole",
     {i: stdout_len(got.get(i, {})) for i in ids})
t.ok(rc == 0, "at exit: the server exits 0 once the queue is written (rc %s)" % rc)

# The same with a client that never reads: the server waits for it 2 s, no
# longer (bounds: at least 1 s after the last run's end was logged, at most
# 10 s), and says what it could not write.
c = Client(["--log-level", "debug"])
c.init()
for i in range(N):
    c.call(BIG, id="never-%d" % i)
c.p.stdin.close()
ran = c.stderr_until(lambda e: e.count("run in shell: exit 0") >= N, 60)
t0 = time.monotonic()
rc = c.wait(10)
waited = time.monotonic() - t0
t.ok(ran and 1.0 <= waited < 10 and rc == 0,
     "at exit: a client that never reads is waited for about 2 s, then the server exits 0 (%.1f s, rc %s)"
     % (waited, rc))
t.ok(re.search(rb"stdout: \d+ bytes of replies not written at exit", c.err) is not None,
     "at exit: the log says how much was not written", c.err.decode(errors="replace")[-800:])
c.p.stdout.close()

# --- past 64 MiB + 1 MiB queued: the client is dropped -----------------------
# With a one-shot run and a session call in flight (sleeps far longer than the
# shell's 30 s timeout) and a session holding a background sleep, the client
# stops reading: 24 big replies fill the queue to its 64 MiB bound (the
# rest are replaced by short errors), then pings with 1000-byte ids fill the
# last of it and are replaced by errors (which carry the id) too, until more
# than 65 MiB is queued. The server must drop the
# client, kill every sandbox and exit as if stdout had closed.
c = Client()
c.init()
c.call("sleep 1000 &", session="q")
w = Watch(c.p.pid)
got = c.read_replies(2, 30)          # init and the session's start
t.ok(got.get(1, {}).get("result", {}).get("structuredContent", {}).get("exit_code") == 0,
     "drop: a session with a background sleep started", got.get(1))
c.call("sleep 1001", session="q")
c.call("sleep 1002")
end = time.monotonic() + 15
while time.monotonic() < end:
    w.record()
    names = sorted(n for _, n in w.fds.values() if n.startswith("sleep 100"))
    if names == ["sleep 1000", "sleep 1001", "sleep 1002"]:
        break
    time.sleep(0.05)
t.ok(names == ["sleep 1000", "sleep 1001", "sleep 1002"],
     "drop: a session call and a one-shot run in flight, a background sleep in the session", names)
t_start = time.monotonic()
for i in range(24):
    c.call(BIG, id="big-%d" % i)
full = c.stderr_until(lambda e: "replaced by an error" in e, 60)
t.ok(full, "drop: the queue reached its 64 MiB bound; replies are replaced by errors",
     c.err.decode(errors="replace")[-800:])
w.record()
PAD = "x" * 1000
pings = 0
try:
    while pings < 20000 and c.p.poll() is None:
        for _ in range(100):
            c.send({"jsonrpc": "2.0", "id": "p%d-%s" % (pings, PAD), "method": "ping"})
            pings += 1
        c.stderr_until(lambda e: False, 0)   # each replaced reply is logged
except BrokenPipeError:
    pass
rc = c.wait(30)
gone_after = time.monotonic() - t_start
err = c.err.decode(errors="replace")
m = re.search(r"stdout: the client stopped reading \((\d+) bytes of replies queued\); dropping the client", err)
queued = int(m.group(1)) if m else None
t.ok(queued is not None and 65 * MIB - 4096 < queued <= 65 * MIB,
     "drop: the client is dropped once more than 64 MiB + 1 MiB is queued (%s bytes, after %d pings)"
     % (queued, pings), err[-1000:])
t.ok(rc == 0 and gone_after < 25,
     "drop: the server then shuts down and exits 0 (rc %s, %.1f s after the big runs, before any 30 s timeout)"
     % (rc, gone_after))
left = w.wait_gone(10, cgroups=False)
t.ok(w.fds and left == [], "drop: every process of its sandboxes (%d recorded) is killed" % len(w.fds), left)
# An orderly exit also reaps every sandbox and removes its cgroup
# directories, one-shot runs in flight included (exec_shutdown).
left = w.after_exit(orderly=True, timeout=3)
t.ok(left == [], "drop: the server reaped every sandbox and removed its cgroup directories", left)
w.close()
c.p.stdout.close()
sys.exit(t.done())
