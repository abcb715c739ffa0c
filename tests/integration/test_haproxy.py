"""Many hosts: examples/haproxy/haproxy.cfg in front of two --http servers on
loopback. 20 clients, each with an MCP session and a sandbox session whose
state (a counter in /workspace) must survive across its calls; sessions are
spread over both servers; then one server is SIGKILLed: its clients get a
clear error (404: the session is gone) and a new session works, on the
other server; the other server's clients keep their state."""
import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

from mcp import Tap

BIN = os.environ["NSM_SERVER"]
CFG = os.environ.get("NSM_HAPROXY_CFG") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                         "examples", "haproxy", "haproxy.cfg")
N = 20
t = Tap()
tmp = tempfile.mkdtemp(prefix="nsm-haproxy-")
INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "hp", "version": "1"}}}


def start_server(i):
    err = open(os.path.join(tmp, "server%d.err" % i), "w+")
    p = subprocess.Popen([BIN, "--http", "127.0.0.1:0", "--no-project"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=err)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        err.seek(0)
        m = re.search(r"listening on http://(127\.0\.0\.1:\d+)/mcp", err.read())
        if m:
            return p, m.group(1)
        time.sleep(0.05)
    return p, None


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def post(port, body, sid=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if sid:
        h["Mcp-Session-Id"] = sid
    try:
        c.request("POST", "/mcp", json.dumps(body), h)
        r = c.getresponse()
        data = r.read()
        if (r.getheader("Content-Type") or "").startswith("text/event-stream"):
            # A tool call's answer comes on an SSE stream: its last event.
            events = [l[5:].strip() for l in data.decode().splitlines() if l.startswith("data:")]
            data = next((e for e in reversed(events) if e), "").encode()
        return r.status, r.getheader("Mcp-Session-Id"), data
    finally:
        c.close()


def run(port, sid, code, id):
    st, _, data = post(port, {"jsonrpc": "2.0", "id": id, "method": "tools/call",
                              "params": {"name": "run", "arguments": {"code": code, "env": "shell", "session": "c"}}},
                       sid)
    try:
        return st, json.loads(data)["result"]["structuredContent"]["stdout"]
    except (ValueError, KeyError, TypeError):
        return st, data[:200]


def bump(port, sid, id):
    """Add one to the session's counter; its new value."""
    return run(port, sid, "n=$(cat /workspace/n 2>/dev/null || echo 0); echo $((n+1)) | tee /workspace/n", id)


servers = [start_server(1), start_server(2)]
t.ok(all(a for _, a in servers), "two servers listen on loopback")
front = free_port()
env = dict(os.environ, NSM_FRONTEND="127.0.0.1:%d" % front, NSM_BACKEND1=servers[0][1] or "127.0.0.1:1",
           NSM_BACKEND2=servers[1][1] or "127.0.0.1:1")
hp_err = open(os.path.join(tmp, "haproxy.err"), "w+")
hp = subprocess.Popen(["haproxy", "-db", "-f", CFG], env=env, stdin=subprocess.DEVNULL, stdout=hp_err, stderr=hp_err)
time.sleep(1.5)  # its first health checks (rise 2 x 500 ms)
t.ok(hp.poll() is None, "haproxy runs with examples/haproxy/haproxy.cfg", open(hp_err.name).read()[-500:])

# 20 clients, each its own MCP session through the proxy.
sids = [None] * N
for k in range(N):
    st, sid, _ = post(front, INIT)
    sids[k] = sid if st == 200 else None
t.ok(all(sids) and len(set(sids)) == N, "20 clients initialize through the proxy, 20 distinct session ids")

# Which server holds which session: each server's log names the sessions it started.
def owners():
    logs = [open(os.path.join(tmp, "server%d.err" % i)).read() for i in (1, 2)]
    return [next((i for i in (0, 1) if "MCP session %s..." % s[:8] in logs[i]), None) for s in sids]


own = owners()
t.ok(None not in own and 0 < own.count(0) < N, "the sessions are spread over both servers (%d and %d)"
     % (own.count(0), own.count(1)))

# Three rounds of calls from all clients at once: each counter goes 1, 2, 3.
results = {}


def client(k, rounds):
    got = []
    for r in rounds:
        got.append(bump(front, sids[k], 10 * r + 1))
    results[k] = got


ts = [threading.Thread(target=client, args=(k, (1, 2, 3))) for k in range(N)]
for th in ts:
    th.start()
for th in ts:
    th.join()
good = [k for k in range(N) if [r[1] for r in results.get(k, [])] == ["1\n", "2\n", "3\n"]]
t.ok(len(good) == N, "every client's state survives across its 3 calls (%d of %d)" % (len(good), N),
     {k: results.get(k) for k in range(N) if k not in good})

# A call's stream cut through the proxy is resumed through it: the GET with
# Last-Event-ID carries the session id, so it reaches the server that holds
# the stream (one client per server).
def resume_through_proxy(k):
    sid = sids[k]
    body = json.dumps({"jsonrpc": "2.0", "id": 50, "method": "tools/call",
                       "params": {"name": "run", "arguments": {"code": "sleep 1.5; echo resumed-%d" % k,
                                                               "env": "shell"}}})
    hs = ["-H", "Content-Type: application/json", "-H", "Mcp-Session-Id: " + sid]
    cut = subprocess.run(["curl", "-sS", "-N", "--max-time", "0.8", "-H", "Accept: text/event-stream", *hs,
                          "--data-binary", body, "http://127.0.0.1:%d/mcp" % front],
                         capture_output=True, text=True)
    m = re.search(r"^id: (\d+-\d+)$", cut.stdout, re.M)
    if not m or "resumed" in cut.stdout:
        return ("not cut after the priming event", cut.stdout)
    back = subprocess.run(["curl", "-sS", "-N", "--max-time", "10", "-H", "Accept: text/event-stream",
                           "-H", "Mcp-Session-Id: " + sid, "-H", "Last-Event-ID: " + m.group(1),
                           "http://127.0.0.1:%d/mcp" % front], capture_output=True, text=True)
    return "resumed-%d\\n" % k in back.stdout, back.stdout[-300:]


picks = [own.index(0), own.index(1)] if 0 in own and 1 in own else []
got = [resume_through_proxy(k) for k in picks]
t.ok(picks and all(g[0] is True for g in got),
     "a call's stream cut mid-call is resumed through the proxy (GET with Last-Event-ID), on each server", got)

# One server dies.
dead = 0
servers[dead][0].send_signal(signal.SIGKILL)
servers[dead][0].wait(10)
time.sleep(1.5)  # the proxy's health check marks it down (fall 1, inter 500 ms)
lost = [k for k in range(N) if own[k] == dead]
kept = [k for k in range(N) if own[k] != dead]
answers = {k: bump(front, sids[k], 41) for k in range(N)}
t.ok(lost and all(answers[k][0] == 404 for k in lost),
     "the dead server's %d clients get 404 (session gone) for their next call" % len(lost),
     {k: answers[k] for k in lost})
t.ok(all(answers[k] == (200, "4\n") for k in kept),
     "the other server's %d clients keep their state (counter 4)" % len(kept), {k: answers[k] for k in kept})
fresh = []
for k in lost:
    st, sid, _ = post(front, INIT)
    fresh.append((st, sid, bump(front, sid, 51) if sid else None))
t.ok(all(st == 200 and b == (200, "1\n") for st, _, b in fresh),
     "a new session of each of them works, on the live server, from a fresh state", fresh)

# Slowloris: a client that trickles its headers, a byte every 2 s (never
# silent for the server's own 30 s), is cut off by the proxy's
# `timeout http-request 10s`, and never reaches a server's connection slots.
import socket  # noqa: E402
slow = socket.create_connection(("127.0.0.1", front))
slow.settimeout(3)
slow.sendall(b"POST /mcp HTTP/1.1\r\nHost: x\r\n")
t0 = time.monotonic()
cut = None
while time.monotonic() - t0 < 25 and cut is None:
    try:
        slow.sendall(b"X")
        got = slow.recv(4096)
        cut = got  # an answer (408) or b"" (closed)
    except socket.timeout:
        continue
    except OSError as e:
        cut = repr(e)
took = time.monotonic() - t0
slow.close()
t.ok(cut is not None and 8 <= took <= 16,
     "a client trickling its headers through the proxy is cut off after %.1f s (timeout http-request 10s)"
     % took, cut)

hp.terminate()
hp.wait(10)
p = servers[1 - dead][0]
p.terminate()
rc = p.wait(20)
t.ok(rc == 0, "the live server exits 0 on SIGTERM (rc %s)" % rc)
raise SystemExit(t.done())
