"""A small line-level MCP client for the integration tests.

Starts the server binary, writes JSON-RPC lines to its stdin and reads lines
from its stdout with a deadline. Every line on stdout must be a JSON object:
anything else is recorded in `garbage` (stdout carries only protocol)."""
import json
import os
import select
import subprocess
import time


class Server:
    def __init__(self, binary, args=(), env=None):
        self.p = subprocess.Popen(
            [binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env)
        os.set_blocking(self.p.stdout.fileno(), False)
        os.set_blocking(self.p.stderr.fileno(), False)
        self.buf = b""
        self.err = b""
        self.garbage = []
        self.pending = []   # messages read but not yet consumed
        self.next_id = 1000

    # -- raw ----------------------------------------------------------------
    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, obj):
        self.send_raw(json.dumps(obj) + "\n")

    def _fill(self, timeout):
        r, _, _ = select.select([self.p.stdout, self.p.stderr], [], [], timeout)
        got = False
        for f in r:
            chunk = f.read()
            if f is self.p.stderr:
                self.err += chunk or b""
                continue
            if chunk:
                self.buf += chunk
                got = True
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            try:
                msg = json.loads(line)
                if not isinstance(msg, dict):
                    raise ValueError
                self.pending.append(msg)
            except ValueError:
                self.garbage.append(line)
        return got

    def read(self, timeout=10.0, match=None):
        """Next message (matching `match` if given) within timeout, or None."""
        end = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.pending):
                if match is None or match(m):
                    return self.pending.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                return None
            self._fill(min(left, 0.5))

    def drain(self, timeout=0.3):
        """Every message that arrives within timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._fill(end - time.monotonic())
        out, self.pending = self.pending, []
        return out

    # -- JSON-RPC -----------------------------------------------------------
    def request(self, method, params=None, timeout=30.0, id=None):
        if id is None:
            self.next_id += 1
            id = self.next_id
        msg = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.read(timeout, lambda m: m.get("id") == id and ("result" in m or "error" in m))

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def initialize(self, version="2025-06-18"):
        r = self.request("initialize", {"protocolVersion": version, "capabilities": {},
                                        "clientInfo": {"name": "tests", "version": "0"}})
        self.notify("notifications/initialized")
        return r

    def run(self, code, env, session=None, timeout=60.0, **extra):
        args = {"code": code, "env": env}
        if session is not None:
            args["session"] = session
        args.update(extra)
        r = self.request("tools/call", {"name": "run", "arguments": args}, timeout=timeout)
        return r["result"] if r and "result" in r else r

    def alive(self):
        r = self.request("ping", timeout=5)
        return r is not None and r.get("result") == {}

    def close(self, timeout=10):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = None
        self._fill(0)
        return rc


def descendants(pid):
    """(host pid, state) of every process whose ancestry reaches pid, less
    the spare sandboxes (they wait for code; pool shutdown kills them)."""
    parent, state = {}, {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    rest = f.read().rsplit(")", 1)[1].split()
                parent[int(d)] = int(rest[1])
                state[int(d)] = rest[0]
            except (OSError, IndexError, ValueError):
                pass
    spares = spare_sandboxes(parent)
    found = []
    for p in parent:
        if p in spares:
            continue
        q = p
        while q in parent and q > 1:
            q = parent[q]
            if q == pid:
                found.append((p, state[p]))
                break
    return found


def spare_sandboxes(parent):
    """Host pids of spare sandboxes: an init prepared ahead of its code
    (csrc/pool.c) is named sandbox-init and has no child yet."""
    spares = set()
    children = set(parent.values())
    for p in parent:
        if p in children:
            continue
        try:
            with open("/proc/%d/cmdline" % p, "rb") as f:
                if f.read().split(b"\0")[0] == b"sandbox-init":
                    spares.add(p)
        except OSError:
            pass
    return spares


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, desc), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, desc), flush=True)
            if detail is not None:
                for line in str(detail)[:2000].splitlines():
                    print("#   " + line, flush=True)
        return cond

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0
