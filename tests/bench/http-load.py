#!/usr/bin/env python3
"""Loopback load test of --http beside stdio: CLIENTS concurrent clients x
CALLS one-shot `run` calls each (shell, `echo N`), every answer checked.

HTTP: one server, each client a thread with its own keep-alive connection
and MCP session (initialize, calls, DELETE), holding the session's stream on
GET open meanwhile as the official SDK client does; half the clients take
their answers as SSE streams, half as JSON. stdio: the same clients, each
with a server process of its own (stdio has one client per process).
Prints per transport: calls, failures, wall time, p50/p99 latency; for HTTP
also the server's descriptors before and after (every session deleted) and
the processes left after SIGTERM (mcp.Watch). Exit status 1 on any failed
call, leaked descriptor or process.

  NSM_SERVER=result/bin/nix-sandbox-mcp python3 tests/bench/http-load.py [CLIENTS CALLS]
"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from mcp import Server, Watch  # noqa: E402

BIN = os.environ.get("NSM_SERVER", "result/bin/nix-sandbox-mcp")
CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 50
CALLS = int(sys.argv[2]) if len(sys.argv) > 2 else 100
INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "load", "version": "1"}}}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def fds(pid):
    """The server's descriptors, by what they are (socket, pipe, anon_inode:...)."""
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out.append(re.sub(r"\[\d+\]|\d+$", "", os.readlink("/proc/%d/fd/%s" % (pid, fd))))
        except OSError:
            pass
    return sorted(out)


def get_stream(port, sid):
    """The session's stream on GET, held open as the official SDK client
    does: a socket whose response has begun."""
    g = socket.create_connection(("127.0.0.1", port), timeout=10)
    g.sendall(("GET /mcp HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nMcp-Session-Id: %s\r\n\r\n"
               % sid).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = g.recv(4096)
        if not b:
            break
        head += b
    return g, head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head


def stream_ends(g):
    """The GET stream's response ends (DELETE ended the session)."""
    buf = b""
    try:
        while not buf.endswith(b"0\r\n\r\n"):
            b = g.recv(65536)
            if not b:
                return True
            buf += b
        return True
    except OSError:
        return False


def last_data(text):
    """The last SSE event's data (a call's answer on its stream)."""
    data = [l[5:].strip() for l in text.split("\n") if l.startswith("data:") and l[5:].strip()]
    return data[-1] if data else ""


def http_client(port, lat, fails, k):
    """Every client holds a stream on GET open; odd ones take JSON or SSE
    (as the SDK does: a tool call is answered on an SSE stream), even ones
    only JSON (Accept: application/json)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    g = None
    try:
        c.request("POST", "/mcp", json.dumps(INIT), h)
        r = c.getresponse()
        r.read()
        sid = r.getheader("Mcp-Session-Id")
        h = dict(h, **{"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"})
        if not k % 2:
            h["Accept"] = "application/json"
        g, ok = get_stream(port, sid)
        if not ok:
            fails.append((k, "GET stream"))
        for i in range(CALLS):
            body = {"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
                    "params": {"name": "run", "arguments": {"code": "echo %d-%d" % (k, i), "env": "shell"}}}
            t0 = time.monotonic()
            c.request("POST", "/mcp", json.dumps(body), h)
            r = c.getresponse()
            data = r.read()
            lat.append(time.monotonic() - t0)
            if k % 2:
                data = last_data(data.decode(errors="replace"))
            try:
                sc = json.loads(data)["result"]["structuredContent"]
                ok = r.status == 200 and sc["stdout"] == "%d-%d\n" % (k, i) and sc["exit_code"] == 0
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                fails.append((k, i, r.status, data[:200]))
        c.request("DELETE", "/mcp", headers={"Mcp-Session-Id": sid})
        c.getresponse().read()
        if g and not stream_ends(g):
            fails.append((k, "the GET stream did not end with the session"))
    except Exception as e:  # noqa: BLE001 - any failure is a failed client
        fails.append((k, "client", repr(e)))
    finally:
        c.close()
        if g:
            g.close()


def stdio_client(lat, fails, k):
    s = Server(BIN, ["--no-project"])
    try:
        s.initialize()
        for i in range(CALLS):
            t0 = time.monotonic()
            r = s.run("echo %d-%d" % (k, i), "shell")
            lat.append(time.monotonic() - t0)
            sc = (r or {}).get("structuredContent") or {}
            if sc.get("stdout") != "%d-%d\n" % (k, i):
                fails.append((k, i, r))
    except Exception as e:  # noqa: BLE001
        fails.append((k, "client", repr(e)))
    finally:
        s.close()


def run_threads(target, args):
    lat, fails = [], []
    ts = [threading.Thread(target=target, args=(*args, lat, fails, k)) for k in range(CLIENTS)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return lat, fails, time.monotonic() - t0


def report(name, lat, fails, wall):
    print("%-6s %5d calls  %3d failed  %6.1f s  %7.0f calls/s  p50 %6.1f ms  p99 %6.1f ms"
          % (name, len(lat), len(fails), wall, len(lat) / wall if wall else 0, pct(lat, 50) * 1000,
             pct(lat, 99) * 1000))
    for f in fails[:5]:
        print("  failed:", f)


bad = 0
p = subprocess.Popen([BIN, "--http", "127.0.0.1:0", "--no-project"], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
line = ""
while "listening on" not in line:
    line = p.stderr.readline()
    if not line:
        sys.exit("the server did not start")
port = int(re.search(r"127\.0\.0\.1:(\d+)/mcp", line).group(1))
threading.Thread(target=lambda: p.stderr.read(), daemon=True).start()
w = Watch(p.pid)
# One warm-up session first: the shell environment's spare sandbox (pool.c)
# is made after its first run, and belongs in the baseline.
http_client(port, [], [], -1)
time.sleep(2)
fd0 = fds(p.pid)
lat, fails, wall = run_threads(http_client, (port,))
w.record()
time.sleep(2)  # spares made again after the load
fd1 = fds(p.pid)
report("http", lat, fails, wall)
print("http   server descriptors: %d before, %d after every session ended%s"
      % (len(fd0), len(fd1), "" if fd0 == fd1 else ": %s -> %s" % (fd0, fd1)))
p.terminate()
rc = p.wait(30)
left = w.after_exit(orderly=True)
print("http   SIGTERM: exit %d; processes left: %d of %d recorded" % (rc, len(left), len(w.fds)))
bad |= bool(fails) or fd1 != fd0 or rc != 0 or bool(left)
w.close()

lat, fails, wall = run_threads(stdio_client, ())
report("stdio", lat, fails, wall)
bad |= bool(fails)
sys.exit(1 if bad else 0)
