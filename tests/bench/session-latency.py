#!/usr/bin/env python3
"""Benchmark (not a test): latency of a trivial session call, per
interpreter, through the server (MCP request → answer, as a client sees it),
beside the same agent driven directly on the host over a socketpair with the
same framing (agent/PROTOCOL.md), i.e. the agent's own cost. The difference
is what the server adds: JSON-RPC, the sandbox's pipes, marker scanning,
the result. Prints a table (milliseconds).

usage: session-latency.py [SERVER] [N]"""
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time

from benchlib import CODE, Server, env_table, pct

BIN = sys.argv[1] if len(sys.argv) > 1 else "result/bin/nix-sandbox-mcp"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300

table = env_table(BIN)


def through_server(env, code):
    s = Server(BIN)
    s.initialize()
    first = time.monotonic()
    s.run(code, env["name"], session="bench")  # starts the sandbox
    start_ms = (time.monotonic() - first) * 1000
    xs = []
    for _ in range(N):
        t0 = time.perf_counter()
        r = s.run(code, env["name"], session="bench")
        xs.append((time.perf_counter() - t0) * 1000)
        assert r and not r.get("isError"), r
    s.close()
    return xs, start_ms


def direct(env, code):
    """The agent on the host: fd 3 a socketpair, stdout/stderr pipes."""
    token = secrets.token_hex(16)
    ours, theirs = socket.socketpair()
    e = dict(os.environ, NSM_AGENT_TOKEN=token, HOME="/tmp", PYTHONUNBUFFERED="1",
             PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.Popen(env["agent_argv"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, close_fds=False, env=e, cwd="/tmp",
                         preexec_fn=lambda: os.dup2(theirs.fileno(), 3))
    theirs.close()
    xs = []
    buf = b""
    for i in range(1, N + 2):
        body = code.encode()
        req = json.dumps({"id": i, "code_bytes": len(body)}).encode()
        t0 = time.perf_counter()
        ours.sendall(b"%d\n%s%s" % (len(req), req, body))
        marker = b"\x1e%s:%d\x1e" % (token.encode(), i)
        for f in (p.stdout, p.stderr):
            got = b""
            while not got.endswith(marker):
                got += os.read(f.fileno(), 65536)
        while True:
            nl = buf.find(b"\n")
            if nl >= 0 and len(buf) >= nl + 1 + int(buf[:nl]):
                n = int(buf[:nl])
                buf = buf[nl + 1 + n:]
                break
            buf += ours.recv(65536)
        if i > 1:
            xs.append((time.perf_counter() - t0) * 1000)
    ours.close()
    p.wait(5)
    return xs


rows = []
for env in table["environments"]:
    if env["name"] not in ("shell", "python", "node"):
        continue
    code = CODE[env["interpreter_type"]]
    srv, start_ms = through_server(env, code)
    dir_ = direct(env, code)
    rows.append((env["name"], start_ms, pct(srv, 0.5), pct(srv, 0.99), pct(dir_, 0.5), pct(dir_, 0.99),
                 statistics.median(srv) - statistics.median(dir_)))

print("session call latency, %d trivial calls per environment (ms)" % N)
print("| env | first call (sandbox start) | server p50 | server p99 | agent alone p50 | agent alone p99 | server overhead (p50) |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print("| %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f |" % r)
