"""Streamable HTTP (--http), driven from outside with curl (a separate
process per request, as any HTTP client would be): the session id's life
(initialize, 400 without, 404 unknown, DELETE, idle expiry), the checks
before a message (bearer token, Origin, MCP-Protocol-Version, media types,
body and header limits, non-loopback without a token), JSON and SSE answers
(progress on the stream), isolation of two clients' "session": "a", a
stalled client that does not pin the loop, and SIGTERM with a run in flight:
answered, exit 0, no process left."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

from mcp import Tap, Watch

BIN = os.environ["NSM_SERVER"]
t = Tap()
tmp = tempfile.mkdtemp(prefix="nsm-http-")
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "curl-test", "version": "1"}}}
BOTH = "application/json, text/event-stream"


class HttpServer:
    def __init__(self, *args):
        self.errf = open(os.path.join(tmp, "server-%d.err" % time.monotonic_ns()), "w+b")
        self.p = subprocess.Popen([BIN, "--http", "127.0.0.1:0", "--no-project", "--log-level", "debug", *args],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.errf)
        end = time.monotonic() + 20
        self.url = None
        while time.monotonic() < end and self.p.poll() is None:
            m = re.search(rb"listening on (http://127\.0\.0\.1:\d+/mcp)", self.stderr())
            if m:
                self.url = m.group(1).decode()
                self.port = int(self.url.split(":")[2].split("/")[0])
                break
            time.sleep(0.05)

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()


def curl(url, body=None, method=None, headers=(), accept=BOTH, ctype="application/json", timeout=60, raw=None):
    """One request with curl: (status, {lower-case header: value}, body text)."""
    hf = os.path.join(tmp, "h")
    bf = os.path.join(tmp, "b")
    args = ["curl", "-sS", "--max-time", str(timeout), "-D", hf, "-o", bf, "-w", "%{http_code}"]
    if method:
        args += ["-X", method]
    if accept:
        args += ["-H", "Accept: " + accept]
    if ctype and (body is not None or raw is not None):
        args += ["-H", "Content-Type: " + ctype]
    for h in headers:
        args += ["-H", h]
    if raw is not None:
        args += ["--data-binary", "@" + raw]
    elif body is not None:
        args += ["--data-binary", body if isinstance(body, str) else json.dumps(body)]
    r = subprocess.run(args + [url], capture_output=True, text=True)
    try:
        status = int(r.stdout.strip() or 0)
    except ValueError:
        status = 0
    hdrs = {}
    try:
        for line in open(hf, encoding="latin-1").read().splitlines()[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        text = open(bf, encoding="utf-8", errors="replace").read()
    except OSError:
        text = ""
    return status, hdrs, text


def init(s, headers=()):
    st, h, b = curl(s.url, INIT, headers=headers)
    return st, h.get("mcp-session-id"), b


def call(s, sid, method, params=None, id=2, accept=BOTH, headers=(), timeout=60):
    msg = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        msg["params"] = params
    hs = ["Mcp-Session-Id: " + sid, "MCP-Protocol-Version: 2025-11-25", *headers]
    return curl(s.url, msg, headers=hs, accept=accept, timeout=timeout)


def run(s, sid, code, env="shell", session=None, **kw):
    args = {"code": code, "env": env}
    if session:
        args["session"] = session
    st, h, b = call(s, sid, "tools/call", {"name": "run", "arguments": args}, **kw)
    try:
        if h.get("content-type", "").startswith("text/event-stream"):
            return st, [e for e in sse_events(b) if "id" in e][-1]
        return st, json.loads(b)
    except (ValueError, IndexError):
        return st, {"raw": b}


def sc(reply):
    return ((reply or {}).get("result") or {}).get("structuredContent") or {}


def sse_events(text):
    """The data of each SSE event, parsed."""
    out = []
    for block in text.split("\n\n"):
        data = [l[5:].lstrip() for l in block.splitlines() if l.startswith("data:")]
        if data and "".join(data).strip():  # (a priming event's data is empty)
            out.append(json.loads("\n".join(data)))
    return out


# ---- start-up refusals ---------------------------------------------------------
r = subprocess.run([BIN, "--http", "0.0.0.0:0", "--no-project"], capture_output=True, text=True, timeout=30)
t.ok(r.returncode != 0 and "--token-file" in r.stderr,
     "a non-loopback address without --token-file refuses to start (exit %d)" % r.returncode, r.stderr[-500:])
r = subprocess.run([BIN, "--stdio", "--http", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
t.ok(r.returncode == 2, "--stdio and --http together are refused (exit %d)" % r.returncode)

s = HttpServer()
t.ok(s.url is not None, "the server listens and logs its URL", s.stderr()[-800:])
if not s.url:
    s.stop()
    raise SystemExit(t.done())

# ---- session ids -----------------------------------------------------------------
st, sid, b = init(s)
t.ok(st == 200 and sid and re.fullmatch(r"[\x21-\x7e]{32,}", sid) and '"protocolVersion":"2025-11-25"' in b,
     "initialize: 200, Mcp-Session-Id of visible ASCII (%d chars), version 2025-11-25" % len(sid or ""), b[:300])
st, sid2, _ = init(s)
t.ok(st == 200 and sid2 and sid2 != sid, "a second initialize gets another session id")
st, h, b = curl(s.url, {"jsonrpc": "2.0", "method": "notifications/initialized"},
                headers=["Mcp-Session-Id: " + sid])
t.ok(st == 202 and b == "", "a notification is accepted with 202 and no body (got %d)" % st)
st, _, b = curl(s.url, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
t.ok(st == 400, "a request without Mcp-Session-Id is 400 (got %d)" % st, b)
st, _, b = call(s, "0" * 64, "tools/list")
t.ok(st == 404, "an unknown Mcp-Session-Id is 404 (got %d)" % st, b)
st, _, b = call(s, sid, "tools/list")
t.ok(st == 200 and '"name":"run"' in b, "tools/list in the session: 200 with the run tool (got %d)" % st, b[:300])
st, _, b = curl(s.url, {"jsonrpc": "2.0", "id": 3, "method": "ping"},
                headers=["Mcp-Session-Id: " + sid, "MCP-Protocol-Version: 1999-01-01"])
t.ok(st == 400, "an unsupported MCP-Protocol-Version is 400 (got %d)" % st, b)
st, _, b = curl(s.url, {"jsonrpc": "2.0", "id": 3, "method": "ping"},
                headers=["Mcp-Session-Id: " + sid, "MCP-Protocol-Version: 2025-06-18"])
t.ok(st == 200, "a supported older MCP-Protocol-Version is accepted (got %d)" % st, b)

# ---- methods, media types, origin, limits -------------------------------------------
st, h, _ = curl(s.url, method="PUT", headers=["Mcp-Session-Id: " + sid], accept="text/event-stream")
t.ok(st == 405 and all(m in h.get("allow", "") for m in ("POST", "GET", "DELETE")),
     "PUT is 405 with Allow: POST, GET, DELETE (got %d, %s)" % (st, h.get("allow")))
st, _, _ = curl(s.url.replace("/mcp", "/other"), {"jsonrpc": "2.0", "id": 1, "method": "ping"})
t.ok(st == 404, "a path other than /mcp is 404 (got %d)" % st)
st, _, _ = call(s, sid, "ping", headers=["Origin: http://evil.example"])
t.ok(st == 403, "a foreign Origin is 403 (DNS rebinding) (got %d)" % st)
st, _, _ = call(s, sid, "ping", headers=["Origin: http://localhost:%d" % s.port])
t.ok(st == 200, "the server's own Origin is accepted (got %d)" % st)
st, _, _ = curl(s.url, {"jsonrpc": "2.0", "id": 4, "method": "ping"}, ctype="text/plain",
                headers=["Mcp-Session-Id: " + sid])
t.ok(st == 415, "Content-Type other than application/json is 415 (got %d)" % st)
st, _, _ = curl(s.url, {"jsonrpc": "2.0", "id": 4, "method": "ping"}, accept="text/html",
                headers=["Mcp-Session-Id: " + sid])
t.ok(st == 406, "an Accept without JSON or SSE is 406 (got %d)" % st)
big = os.path.join(tmp, "big.json")
with open(big, "w") as f:
    f.write('{"jsonrpc":"2.0","id":5,"method":"ping","params":{"x":"' + "a" * (9 << 20) + '"}}')
st, _, _ = curl(s.url, headers=["Mcp-Session-Id: " + sid], raw=big)
t.ok(st == 413, "a 9 MiB body is 413 (got %d)" % st)
st, _, b = curl(s.url, {"jsonrpc": "2.0", "id": 6, "method": "ping"},
                headers=["Mcp-Session-Id: " + sid, "X-Pad: " + "p" * 40000])
t.ok(400 <= st < 500, "40 KB of headers is refused with a 4xx (got %d)" % st)
st, _, b = call(s, sid, "ping")
t.ok(st == 200, "the server still answers after the refusals (got %d)" % st)
st, _, b = curl(s.url, "{not json", headers=["Mcp-Session-Id: " + sid])
t.ok(st == 400 and "-32700" in b, "a body that is not JSON is 400 with a parse error (got %d)" % st, b)
two = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                  "params": {"name": "run", "arguments": {"code": "echo first", "env": "shell"}}})
st, _, b = curl(s.url, two + " " + json.dumps({"jsonrpc": "2.0", "id": 8, "method": "ping"}),
                headers=["Mcp-Session-Id: " + sid])
t.ok(st == 400 and "-32700" in b and "first" not in b,
     "a body of two JSON values is 400 with a parse error, neither run (got %d)" % st, b)
nul = os.path.join(tmp, "nul.json")
with open(nul, "wb") as f:
    f.write(b'{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"a\x00b"}}')
st, _, b = curl(s.url, headers=["Mcp-Session-Id: " + sid], raw=nul)
t.ok(st == 400 and "-32700" in b, "a raw NUL byte in the body is 400, not read as U+FFFD (got %d)" % st, b)
st, _, _ = curl(s.url, {"jsonrpc": "2.0", "id": 4, "method": "ping"}, ctype="application/jsonfoo",
                headers=["Mcp-Session-Id: " + sid])
st2, _, _ = curl(s.url, {"jsonrpc": "2.0", "id": 4, "method": "ping"},
                 ctype="application/json; charset=utf-8", headers=["Mcp-Session-Id: " + sid])
t.ok(st == 415 and st2 == 200, "Content-Type is matched as a media type: application/jsonfoo 415, "
     "application/json with a charset 200 (got %d, %d)" % (st, st2))
codes = [curl(s.url, {"jsonrpc": "2.0", "id": 4, "method": "ping"}, accept=a,
              headers=["Mcp-Session-Id: " + sid])[0]
         for a in ("xapplication/jsonx", "application/json;q=0", "*/*", "application/*;q=0.5")]
t.ok(codes == [406, 406, 200, 200], "Accept is parsed as media ranges: a substring or q=0 is not "
     "acceptance, */* and application/* are (got %s)" % codes)


def smuggle(framing):
    """A ping whose framing is ambiguous, with a second ping behind it in the
    same bytes: (answers seen, the connection closed after the first)."""
    hidden_body = '{"jsonrpc":"2.0","id":99,"method":"ping"}'
    hidden = ("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nMcp-Session-Id: %s\r\n"
              "Content-Length: %d\r\n\r\n%s" % (sid, len(hidden_body), hidden_body))
    outer = '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    if framing == "two Content-Length":
        head = "Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(outer), len(outer) + len(hidden))
        data = head + outer + hidden
    else:
        head = "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        data = head + "%x\r\n%s\r\n0\r\n\r\n" % (len(outer), outer) + hidden
    c = socket.create_connection(("127.0.0.1", s.port))
    c.settimeout(5)
    c.sendall(("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nMcp-Session-Id: %s\r\n"
               % sid + data).encode())
    out = b""
    closed = False
    try:
        while True:
            d = c.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except socket.timeout:
        pass
    c.close()
    return out, closed


for framing in ("two Content-Length", "Content-Length and Transfer-Encoding"):
    out, closed = smuggle(framing)
    t.ok(out.startswith(b"HTTP/1.1 400") and out.count(b"HTTP/1.1 ") == 1 and b'"id":99' not in out and closed,
         "%s: 400, the connection closed, the request behind it never read (request smuggling)" % framing,
         out[:300])

# An MCP header twice: which one counts would be a guess.
st_o, sid_o, _ = init(s)
for name, vals, method in (("Mcp-Session-Id", (sid, sid_o), "POST"),
                           ("MCP-Protocol-Version", ("2025-11-25", "1999-01-01"), "POST"),
                           ("Last-Event-ID", ("1-0", "2-0"), "GET")):
    hs = ["%s: %s" % (name, v) for v in vals]
    if name != "Mcp-Session-Id":
        hs.append("Mcp-Session-Id: " + sid)
    if method == "POST":
        st, _, b = curl(s.url, {"jsonrpc": "2.0", "id": 98, "method": "ping"}, headers=hs)
    else:
        st, _, b = curl(s.url, method="GET", headers=hs, accept="text/event-stream", timeout=5)
    t.ok(st == 400 and name in b, "%s sent twice: 400 naming it (got %d)" % (name, st), b[:200])

# ---- runs: JSON, isolation, SSE with progress ------------------------------------------
msg = {"name": "run", "arguments": {"code": "echo hello-http", "env": "shell"}}
st, h, b = call(s, sid, "tools/call", msg, id=27)
ev = b.split("\n\n")
t.ok(st == 200 and h.get("content-type", "").startswith("text/event-stream")
     and ev[0].startswith("id: ") and "retry: " in ev[0] and "data: \n" in ev[0] + "\n"
     and sc(sse_events(b)[-1]).get("stdout") == "hello-http\n" and sse_events(b)[-1].get("id") == 27,
     "tools/call run, to a client that takes JSON or SSE, answers on an SSE stream: a priming event, "
     "then the answer (stdout hello-http)", b[:400])
st, h, b = call(s, sid, "tools/call", msg, id=28, accept="application/json")
t.ok(st == 200 and h.get("content-type", "").startswith("application/json")
     and sc(json.loads(b)).get("stdout") == "hello-http\n",
     "to a client that takes only JSON, it answers as JSON", b[:400])
st, rep = run(s, sid, "echo one > /workspace/state; echo set", session="a")
st2, rep2 = run(s, sid2, "cat /workspace/state 2>&1 || echo absent", session="a")
st3, rep3 = run(s, sid, "cat /workspace/state", session="a")
t.ok(sc(rep).get("stdout") == "set\n" and "absent" in sc(rep2).get("stdout", "x")
     and sc(rep3).get("stdout") == "one\n",
     "two MCP sessions both using session \"a\" do not share state",
     [rep, rep2, rep3])

# ... nor each other's kept files: client 2 knows client 1's link, and
# resources/read and resources/list of client 2 do not reach it.
def body_json(b):
    try:
        return json.loads(b)
    except ValueError:
        data = [l[5:].strip() for l in b.splitlines() if l.startswith("data:")]
        return json.loads(data[-1]) if data else {}


st, rep = run(s, sid, "head -c 100000 /dev/urandom > out/secret.bin; echo kept", session="a")
links = [c for c in rep.get("result", {}).get("content", []) if c.get("type") == "resource_link"]
uri = links[0]["uri"] if links else "sandbox://sessions/a/out/secret.bin"
_, _, b1 = call(s, sid, "resources/read", {"uri": uri})
_, _, b2 = call(s, sid2, "resources/read", {"uri": uri})
_, _, b3 = call(s, sid2, "resources/list", {})
r1, r2, r3 = body_json(b1), body_json(b2), body_json(b3)
t.ok(links and "result" in r1 and len(r1["result"]["contents"][0].get("blob", "")) > 100000,
     "a client reads its own session's kept file", str(r1)[:200])
t.ok(r2.get("error", {}).get("code") == -32002 and "result" not in r2 and
     uri not in json.dumps(r3.get("result", {})),
     "another client using the same session id neither reads nor lists it", (str(r2)[:200], str(r3)[:200]))

st, h, b = call(s, sid, "tools/call", {"name": "run", "arguments": {"code": "echo sse", "env": "shell"}},
                accept="text/event-stream")
ev = sse_events(b) if st == 200 else []
t.ok(st == 200 and h.get("content-type", "").startswith("text/event-stream") and len(ev) == 1
     and sc(ev[0]).get("stdout") == "sse\n",
     "Accept: text/event-stream only: the answer is one SSE event (got %d, %s)" % (st, h.get("content-type")), b[:400])
st, h, b = call(s, sid, "tools/call", {"name": "run", "arguments": {"code": "sleep 2.5; echo done", "env": "shell"},
                                         "_meta": {"progressToken": "tok-1"}})
ev = sse_events(b) if h.get("content-type", "").startswith("text/event-stream") else []
prog = [e for e in ev if e.get("method") == "notifications/progress"]
t.ok(st == 200 and len(prog) >= 2 and all(p["params"]["progressToken"] == "tok-1" for p in prog)
     and ev and sc(ev[-1]).get("stdout") == "done\n",
     "a call with a progressToken streams %d progress notifications then its answer over SSE" % len(prog), b[:600])

# ---- logging: each client hears about its own calls, on their streams ----------------------------
def sse_call_bg(sid_, code, env, id_):
    """A tools/call answered over SSE, in the background: its curl process."""
    return subprocess.Popen(["curl", "-sS", "--max-time", "30", "-H", "Accept: text/event-stream",
                             "-H", "Content-Type: application/json", "-H", "Mcp-Session-Id: " + sid_,
                             "-H", "MCP-Protocol-Version: 2025-11-25",
                             "--data-binary", json.dumps({"jsonrpc": "2.0", "id": id_, "method": "tools/call",
                                                          "params": {"name": "run", "arguments":
                                                                     {"code": code, "env": env}}}), s.url],
                            stdout=subprocess.PIPE, text=True)


st, sid_log, _ = init(s)
st_l, _, b_l = call(s, sid_log, "logging/setLevel", {"level": "debug"}, id=40)
t.ok(st_l == 200 and json.loads(b_l).get("result") == {}, "logging/setLevel over HTTP is accepted", b_l)
# The other client (sid) runs at the same time without asking for logs.
pa = sse_call_bg(sid_log, "sleep 0.5; echo mine", "shell", 41)
pb = sse_call_bg(sid, "import time; time.sleep(0.5); print('theirs')", "python", 42)
ea, eb = sse_events(pa.communicate(timeout=40)[0]), sse_events(pb.communicate(timeout=40)[0])
logs_a = [e["params"] for e in ea if e.get("method") == "notifications/message"]
logs_b = [e for e in eb if e.get("method") == "notifications/message"]
t.ok(ea and sc(ea[-1]).get("stdout") == "mine\n" and len(logs_a) >= 2
     and all(l["level"] == "debug" and l["logger"] == "nix-sandbox-mcp" for l in logs_a)
     and any("run in shell" in l["data"] and "exit 0" in l["data"] for l in logs_a),
     "a client that set a level gets notifications/message about its call on the call's stream, "
     "before the answer", [l.get("data") for l in logs_a])
t.ok(not any("python" in l["data"] for l in logs_a),
     "and nothing about another client's call running at the same time", [l.get("data") for l in logs_a])
t.ok(eb and sc(eb[-1]).get("stdout") == "theirs\n" and not logs_b,
     "a client that did not ask gets no log messages", logs_b)
st_l, _, b_l = call(s, sid_log, "logging/setLevel", {"level": "warning"}, id=43)
pa = sse_call_bg(sid_log, "echo quiet", "shell", 44)
ea = sse_events(pa.communicate(timeout=40)[0])
t.ok(ea and sc(ea[-1]).get("stdout") == "quiet\n"
     and not [e for e in ea if e.get("method") == "notifications/message"],
     "at level warning a call that went well sends none", ea)

# ---- a stalled client does not pin the loop ------------------------------------------------
stall = socket.create_connection(("127.0.0.1", s.port))
stall.sendall(b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"js")
t0 = time.monotonic()
st, _, _ = call(s, sid, "ping", timeout=10)
t.ok(st == 200 and time.monotonic() - t0 < 2, "a client stalled mid-body does not delay another's ping (%.2f s)"
     % (time.monotonic() - t0))

# ---- DELETE ends the session and kills its sandboxes ------------------------------------------
w = Watch(s.p.pid)
w.record(busy_only=True)   # sandboxes of other sessions: not this one's
base = set(w.fds)
st, rep = run(s, sid2, "import subprocess\nsubprocess.Popen(['sleep', '1001'])\nprint('started')",
              env="python", session="keep")
w.record_marked("sleep 1001")  # the session's sandbox, not the spares
mine = set(w.fds) - base
n_before = len(mine)
pending = subprocess.Popen(["curl", "-sS", "--max-time", "30", "-H", "Accept: application/json",
                            "-H", "Content-Type: application/json", "-H", "Mcp-Session-Id: " + sid2,
                            "--data-binary", '{"jsonrpc":"2.0","id":12345678901234567890,"method":"tools/call",'
                            '"params":{"name":"run","arguments":{"code":"sleep 30","env":"shell"}}}',
                            "-w", "\n%{http_code}", s.url], stdout=subprocess.PIPE, text=True)
time.sleep(1.0)
st, _, _ = curl(s.url, method="DELETE", headers=["Mcp-Session-Id: " + sid2], accept=None)
t.ok(st == 204, "DELETE with the session id: 204 (got %d)" % st)
out, _ = pending.communicate(timeout=20)
t.ok(out.endswith("404") and '"id":12345678901234567890,' in out and "session ended" in out,
     "a request still running is answered 404 with its own id, digit for digit", out[-300:])
st, _, _ = call(s, sid2, "ping")
t.ok(st == 404, "the deleted session's id is 404 afterwards (got %d)" % st)
st, _, _ = curl(s.url, method="DELETE", accept=None)
t.ok(st == 400, "DELETE without a session id: 400 (got %d)" % st)
# Within 3 s: well before the sandbox session's own 10 s idle timeout.
w.wait_gone(3, cgroups=False)
left = [p for p in w.alive() if p[0] in mine]
t.ok(n_before > 0 and not left, "the deleted session's sandbox (%d processes) is gone" % n_before, left)
stall.close()

# ---- a client that goes away before its answer: its call is cancelled ---------------------------
def sleepers():
    from mcp import cmdline
    return [p for p, _ in __import__("mcp").descendants(s.p.pid) if cmdline(p).startswith("sleep 987")]


# (An SSE stream's client may come back for it: test_http_streams.py.)
for mode, accept, how in (("a JSON answer", "application/json", "closes"),
                          ("a JSON answer", "application/json", "half-closes (shutdown for writing)")):
    body = json.dumps({"jsonrpc": "2.0", "id": 90, "method": "tools/call",
                       "params": {"name": "run", "arguments": {"code": "sleep 987", "env": "shell"}}})
    gone = socket.create_connection(("127.0.0.1", s.port))
    gone.sendall(("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: %s\r\n"
                  "Mcp-Session-Id: %s\r\nContent-Length: %d\r\n\r\n%s" % (accept, sid, len(body), body)).encode())
    for _ in range(100):
        if sleepers():
            break
        time.sleep(0.05)
    before = sleepers()
    if how == "closes":
        gone.close()
    else:
        gone.shutdown(socket.SHUT_WR)
    t0 = time.monotonic()
    while sleepers() and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    t.ok(before and not sleepers() and time.monotonic() - t0 < 3,
         "a client waiting for %s %s its connection: its run is cancelled, its sandbox gone in %.1f s"
         % (mode, how, time.monotonic() - t0), (before, sleepers()))
    gone.close()
t.ok(s.p.poll() is None, "the server is still up")

# ---- cancellation: only by the client that sent the request ------------------------------------
def bg_run(sid, id, code):
    return subprocess.Popen(["curl", "-sS", "--max-time", "30", "-H", "Accept: application/json",
                             "-H", "Content-Type: application/json", "-H", "Mcp-Session-Id: " + sid,
                             "--data-binary", json.dumps({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                                                          "params": {"name": "run", "arguments":
                                                                     {"code": code, "env": "shell"}}}),
                             "-w", "\n%{http_code}", s.url], stdout=subprocess.PIPE, text=True)


def cancel(sid, id):
    return curl(s.url, {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id}},
                headers=["Mcp-Session-Id: " + sid])[0]


st, sid3, _ = init(s)
bg = bg_run(sid, 77, "sleep 1.5; echo finished")
time.sleep(0.5)
st = cancel(sid3, 77)  # another client naming the same id
out, _ = bg.communicate(timeout=20)
t.ok(st == 202 and '"stdout":"finished\\n"' in out and out.endswith("200"),
     "notifications/cancelled from another MCP session does not cancel a request with that id", out[-300:])
bg = bg_run(sid, 78, "sleep 20")
time.sleep(0.5)
t0 = time.monotonic()
st = cancel(sid, 78)
out, _ = bg.communicate(timeout=20)
t.ok(st == 202 and out.strip() == "202" and time.monotonic() - t0 < 3,
     "notifications/cancelled from the same session ends the request with 202 and no answer (%.1f s)"
     % (time.monotonic() - t0), out[-300:])

# ---- SIGTERM with a run in flight -------------------------------------------------------------------
w = Watch(s.p.pid)
w.record(busy_only=True)
base = len(w.fds)
bg = subprocess.Popen(["curl", "-sS", "--max-time", "30", "-H", "Accept: application/json",
                       "-H", "Content-Type: application/json", "-H", "Mcp-Session-Id: " + sid,
                       "--data-binary", json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                                                    "params": {"name": "run", "arguments":
                                                               {"code": "sleep 20", "env": "shell"}}}),
                       "-w", "\n%{http_code}", s.url], stdout=subprocess.PIPE, text=True)
end = time.monotonic() + 10
while time.monotonic() < end and w.record(busy_only=True) == base:
    time.sleep(0.05)
w.record()
t0 = time.monotonic()
rc = s.stop()
out, _ = bg.communicate(timeout=20)
t.ok(rc == 0 and time.monotonic() - t0 < 5, "SIGTERM with a run in flight: exit 0 in %.1f s (rc %s)"
     % (time.monotonic() - t0, rc))
t.ok(out.strip().endswith(("404", "200", "503")) and "jsonrpc" in out,
     "the in-flight request was answered before the server exited", out[-300:])
left = w.after_exit(orderly=True)
t.ok(len(w.fds) > 0 and not left, "no process of the server is left (%d recorded)" % len(w.fds), left)
w.close()
err = s.stderr().decode(errors="replace")
t.ok("Sanitizer" not in err, "no sanitizer report", err[-1500:])

# ---- bearer token ---------------------------------------------------------------------------------------
tokf = os.path.join(tmp, "token")
secret = "s3cret-" + os.urandom(12).hex()
with open(tokf, "w") as f:
    f.write(secret + "\n")
s = HttpServer("--token-file", tokf, "--allow-origin", "https://app.example")
st, h, _ = curl(s.url, INIT)
t.ok(st == 401 and h.get("www-authenticate", "").startswith("Bearer"),
     "with --token-file: no Authorization is 401 with WWW-Authenticate: Bearer (got %d)" % st)
st, _, _ = curl(s.url, INIT, headers=["Authorization: Bearer " + secret[:-1] + "x"])
t.ok(st == 401, "a wrong token is 401 (got %d)" % st)
st, sid, _ = init(s, headers=["Authorization: Bearer " + secret])
t.ok(st == 200 and sid, "the right token initializes (got %d)" % st)
st, _, _ = init(s, headers=["Authorization: Bearer " + secret, "Origin: https://app.example"])
t.ok(st == 200, "an Origin given with --allow-origin is accepted (got %d)" % st)
st, _, _ = init(s, headers=["Authorization: Bearer " + secret, "Origin: https://app.example.evil"])
t.ok(st == 403, "an Origin that only starts like it is 403 (got %d)" % st)
s.stop()
t.ok(secret not in s.stderr().decode(errors="replace"), "the token never appears in the log")

# ---- idle expiry ------------------------------------------------------------------------------------------
s = HttpServer("--http-idle-timeout", "2")
st, sid, _ = init(s)
w = Watch(s.p.pid)
run(s, sid, "x = 1\nimport subprocess\nsubprocess.Popen(['sleep', '1002'])", env="python", session="idle")
w.record_marked("sleep 1002")
time.sleep(3.5)
st, _, _ = call(s, sid, "ping")
t.ok(st == 404, "a session unused past --http-idle-timeout is 404 (got %d)" % st)
left = w.wait_gone(3, cgroups=False)  # 6.5 s after its last call, before its own 10 s
t.ok(len(w.fds) > 0 and not left, "the expired session's sandbox is gone", left)
rc = s.stop()
t.ok(rc == 0, "the server exits 0 on SIGTERM (rc %s)" % rc)
w.close()

reports = [f for f in os.listdir(tmp) if f.startswith("server-")
           and b"Sanitizer" in open(os.path.join(tmp, f), "rb").read()]
t.ok(not reports, "no server of this test wrote a sanitizer report", reports)

raise SystemExit(t.done())
