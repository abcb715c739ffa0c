"""Streamable HTTP's SSE streams (--http), from the client's side over raw
sockets: the stream on GET and what comes on it (resources/list_changed
when a call changes /workspace/out, a note when the server closes one of
the client's sessions, keep-alives), event ids and the priming event, a
POST's stream resumed with Last-Event-ID after its connection was lost
(the call goes on; what was missed is handed over, nothing twice), the
newest connection taking a stream over, bad ids refused without ending the
session, another MCP session unable to read a stream, a stream nobody
comes back for given up (its call cancelled), DELETE and SIGTERM ending
open streams."""
import atexit
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

from mcp import Tap, cmdline, descendants

BIN = os.environ["NSM_SERVER"]
t = Tap()
tmp = os.environ.get("NSM_KEEP_TMP") or tempfile.mkdtemp(prefix="nsm-streams-")
V = "2025-11-25"


class Server:
    def __init__(self, *args):
        self.errf = open(os.path.join(tmp, "server-%d.err" % time.monotonic_ns()), "w+b")
        atexit.register(self.stop)  # (also when a check raises)
        self.p = subprocess.Popen([BIN, "--http", "127.0.0.1:0", "--no-project", "--log-level", "debug", *args],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.errf)
        end = time.monotonic() + 20
        self.port = None
        while time.monotonic() < end and self.p.poll() is None and not self.port:
            self.errf.seek(0)
            m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)/mcp", self.errf.read())
            self.port = int(m.group(1)) if m else None
            time.sleep(0.05)

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read().decode(errors="replace")

    def stop(self, timeout=15):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()


class Http:
    """One HTTP/1.1 request on its own connection; the body is read as it
    comes (chunked or not) and parsed into SSE events."""

    def __init__(self, port, method, headers=(), body=None, wait_head=True):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        data = json.dumps(body).encode() if body is not None else b""
        req = "%s /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (method, port)
        req += "".join(h + "\r\n" for h in headers)
        if body is not None:
            req += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
        self.sock.sendall(req.encode() + b"\r\n" + data)
        self.inbuf, self.body, self.ended, self.closed = b"", b"", False, False
        self.status, self.headers, self.chunked, self.length = 0, {}, False, None
        if wait_head:
            self.head(20)

    def head(self, timeout):
        """Read the status line and headers (within timeout)."""
        end = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.inbuf and time.monotonic() < end and not self.closed:
            self._recv()
        if b"\r\n\r\n" not in self.inbuf:
            return False
        head, _, self.inbuf = self.inbuf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if lines and lines[0].startswith("HTTP/"):
            self.status = int(lines[0].split()[1])
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "")
        if "content-length" in self.headers:
            self.length = int(self.headers["content-length"])
        self._decode()
        return True

    def _recv(self):
        try:
            b = self.sock.recv(65536)
        except socket.timeout:
            return
        except OSError:
            b = b""
        if not b:
            self.closed = True
        self.inbuf += b

    def _decode(self):
        if not self.chunked:
            self.body += self.inbuf
            self.inbuf = b""
            if self.length is not None and len(self.body) >= self.length:
                self.ended = True
            return
        while True:
            i = self.inbuf.find(b"\r\n")
            if i < 0:
                return
            size = int(self.inbuf[:i].split(b";")[0] or b"0", 16)
            if size == 0:
                self.ended = True
                return
            if len(self.inbuf) < i + 2 + size + 2:
                return
            self.body += self.inbuf[i + 2:i + 2 + size]
            self.inbuf = self.inbuf[i + 2 + size + 2:]

    def events(self):
        """Every complete event so far: dicts of id, retry, data (parsed
        JSON or ""), comment."""
        out = []
        for block in self.body.decode(errors="replace").split("\n\n")[:-1]:
            ev = {"data": ""}
            data = []
            for line in block.split("\n"):
                if line.startswith(":"):
                    ev["comment"] = line[1:].strip()
                elif ":" in line:
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    if k == "data":
                        data.append(v)
                    else:
                        ev[k] = v
            joined = "\n".join(data)
            ev["data"] = json.loads(joined) if joined.strip() else ""
            out.append(ev)
        return out

    def wait(self, pred, timeout=10.0):
        """Read until pred(events) is true, the response ends, or timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred(self.events()):
                return True
            if self.ended or self.closed:
                return pred(self.events())
            self._recv()
            self._decode()
        return pred(self.events())

    def wait_end(self, timeout=10.0):
        end = time.monotonic() + timeout
        while not (self.ended or self.closed) and time.monotonic() < end:
            self._recv()
            self._decode()
        return self.ended or self.closed

    def close(self):
        self.sock.close()


def hdrs(sid=None, accept="text/event-stream", extra=()):
    h = ["Accept: " + accept, "MCP-Protocol-Version: " + V]
    if sid:
        h.append("Mcp-Session-Id: " + sid)
    return h + list(extra)


def init(s):
    r = Http(s.port, "POST", hdrs(accept="application/json, text/event-stream"),
             {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": V, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    r.wait_end()
    sid = r.headers.get("mcp-session-id")
    r.close()
    n = Http(s.port, "POST", hdrs(sid, "application/json, text/event-stream"),
             {"jsonrpc": "2.0", "method": "notifications/initialized"})
    n.wait_end()
    n.close()
    return sid, json.loads(r.body or b"{}")


def rpc(s, sid, method, params=None, id=2):
    r = Http(s.port, "POST", hdrs(sid, "application/json"),
             {"jsonrpc": "2.0", "id": id, "method": method, "params": params or {}})
    r.wait_end(60)
    r.close()
    return r.status, (json.loads(r.body) if r.body.strip() else None)


def run_args(code, env="shell", session=None):
    a = {"code": code, "env": env}
    if session:
        a["session"] = session
    return a


def sse_call(s, sid, id, code, env="shell", session=None, progress=None):
    params = {"name": "run", "arguments": run_args(code, env, session)}
    if progress:
        params["_meta"] = {"progressToken": progress}
    return Http(s.port, "POST", hdrs(sid), {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})


def answer(evs, id):
    return next((e["data"] for e in evs if isinstance(e["data"], dict) and e["data"].get("id") == id), None)


def sc_of(msg):
    return ((msg or {}).get("result") or {}).get("structuredContent")


def stdout_of(msg):
    return (sc_of(msg) or {}).get("stdout")


def procs(s, prefix):
    return [p for p, _ in descendants(s.p.pid) if cmdline(p).startswith(prefix)]


def wait_for(fn, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.05)
    return bool(fn())


s = Server()
t.ok(s.port is not None, "the server listens", s.stderr()[-500:])
sid, init_reply = init(s)
caps = (init_reply.get("result") or {}).get("capabilities", {})
t.ok(sid and caps.get("resources", {}).get("listChanged") is True,
     "initialize declares resources.listChanged (the GET stream carries it)", caps)

# An initialize answered as a stream that fails: an error on the stream, no session.
r = Http(s.port, "POST", hdrs(), {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": 5}})
r.wait_end()
r.close()
bad = answer(r.events(), 1)
t.ok(r.status == 200 and bad and "error" in bad and "mcp-session-id" not in r.headers and s.p.poll() is None,
     "a failed initialize answered as a stream: its error on the stream, no session id, the server up",
     (r.status, r.headers, r.body[:300]))

# ---- GET: refusals, then the stream ---------------------------------------------------------
r = Http(s.port, "GET", hdrs(sid, accept="application/json")); r.wait_end(); r.close()
t.ok(r.status == 406, "GET without text/event-stream in Accept is 406 (got %d)" % r.status)
r = Http(s.port, "GET", hdrs()); r.wait_end(); r.close()
t.ok(r.status == 400, "GET without Mcp-Session-Id is 400 (got %d)" % r.status)
r = Http(s.port, "GET", hdrs("f" * 64)); r.wait_end(); r.close()
t.ok(r.status == 404, "GET with an unknown Mcp-Session-Id is 404 (got %d)" % r.status)

g = Http(s.port, "GET", hdrs(sid))
t.ok(g.status == 200 and g.headers.get("content-type", "").startswith("text/event-stream"),
     "GET with the session id opens a text/event-stream (got %d)" % g.status, g.headers)
t.ok(g.wait(lambda ev: len(ev) >= 1) and g.events()[0].get("id") == "0-0" and g.events()[0]["data"] == ""
     and g.events()[0].get("retry") == "1000",
     "its first event primes the client: id 0-0, empty data, retry 1000", g.body[:200])

# Notes about its sessions come at info (logging/setLevel), on this stream.
st, _ = rpc(s, sid, "logging/setLevel", {"level": "info"}, id=9)
t.ok(st == 200, "logging/setLevel info (got %d)" % st)

# A second client, with its own stream, to see nothing of the first's.
sid_b, _ = init(s)
gb = Http(s.port, "GET", hdrs(sid_b))

# ---- resources/list_changed on the GET stream ------------------------------------------------
st, rep = rpc(s, sid, "tools/call", {"name": "run", "arguments": run_args(
    "mkdir -p /workspace/out && echo hi > /workspace/out/a.txt", session="files")}, id=10)
t.ok(stdout_of(rep) == "", "a session call writes /workspace/out/a.txt", rep)
changed = lambda ev: any(isinstance(e["data"], dict) and e["data"].get("method") ==
                         "notifications/resources/list_changed" for e in ev)
t.ok(g.wait(changed, 5), "the client's GET stream then carries notifications/resources/list_changed",
     g.events())
ev = [e for e in g.events() if e["data"]]
t.ok(ev and ev[0].get("id") == "0-1" and "id" not in ev[0]["data"],
     "as a notification (no JSON-RPC id) with event id 0-1", ev)
st, lst = rpc(s, sid, "resources/list", id=11)
t.ok(any(r_["uri"].endswith("/out/a.txt") for r_ in (lst.get("result") or {}).get("resources", [])),
     "and resources/list then shows the file", lst)
n_before = len(g.events())
rpc(s, sid, "tools/call", {"name": "run", "arguments": run_args("echo nothing", session="files")}, id=12)
time.sleep(1.0)
g.wait(lambda ev: False, 0.3)
t.ok(len(g.events()) == n_before, "a call that changes nothing in /workspace/out sends nothing",
     g.events()[n_before:])
t.ok(not gb.wait(changed, 0.5) and gb.status == 200,
     "another client's GET stream hears nothing of it", gb.events())

# ---- a POST's stream: ids, priming, resumption ------------------------------------------------
p = sse_call(s, sid, 20, "sleep 1.2; echo half; sleep 1.9; echo done", progress="tok")
t.ok(p.status == 200 and p.wait(lambda ev: len(ev) >= 1), "a tools/call answered as a stream (got %d)" % p.status)
first = p.events()[0]
num = first.get("id", "").split("-")[0]
t.ok(re.fullmatch(r"[1-9]\d*-0", first.get("id", "")) and first["data"] == "" and first.get("retry") == "1000",
     "its first event primes it: id <stream>-0, empty data, retry 1000", first)
t.ok(p.wait(lambda ev: any(e["data"] and e["data"].get("method") == "notifications/progress" for e in ev), 5),
     "a progress notification comes", p.events())
seen = [e for e in p.events() if e["data"]]
last_id = seen[-1]["id"]
t.ok(all(e.get("id", "").startswith(num + "-") for e in seen) and last_id == num + "-%d" % len(seen),
     "its events carry ids %s-1, %s-2, ... in order" % (num, num), [e.get("id") for e in seen])
p.close()  # the connection is lost mid-call
time.sleep(0.6)
t.ok(procs(s, "sleep 1.9"), "the call goes on after its client's connection is lost (not cancelled)")
rs = Http(s.port, "GET", hdrs(sid, extra=["Last-Event-ID: " + last_id]))
t.ok(rs.status == 200 and rs.wait(lambda ev: answer(ev, 20) is not None, 15),
     "GET with Last-Event-ID %s resumes the stream and the answer comes on it (got %d)" % (last_id, rs.status),
     rs.body[-500:])
again = [e for e in rs.events() if e["data"]]
t.ok(stdout_of(answer(again, 20)) == "half\ndone\n", "the answer is the call's, whole", answer(again, 20))
ids = [int(e["id"].split("-")[1]) for e in again]
t.ok(rs.events()[0].get("id") == last_id and ids and min(ids) == int(last_id.split("-")[1]) + 1
     and ids == sorted(set(ids)),
     "it is handed the events after %s only, each once, in order" % last_id, [e.get("id") for e in rs.events()])
t.ok(rs.wait_end(5), "the resumed response ends after the answer")
rs.close()

# The answer missed entirely: the call ends while nobody reads.
p = sse_call(s, sid, 21, "sleep 0.8; echo late")
p.wait(lambda ev: len(ev) >= 1)
prime = p.events()[0].get("id")
p.close()
t.ok(wait_for(lambda: not procs(s, "sleep 0.8"), 10), "a call whose client left still runs to its end")
rs = Http(s.port, "GET", hdrs(sid, extra=["Last-Event-ID: " + (prime or "x")]))
rs.wait_end(5)
t.ok(rs.status == 200 and stdout_of(answer(rs.events(), 21)) == "late\n" and rs.ended,
     "a client back after the call ended is handed its answer (Last-Event-ID %s), then the end" % prime,
     rs.body[-300:])
rs.close()

# A stream its connection carried to the end is kept for the grace too: its
# last bytes may sit in a kernel's buffer on a connection that then broke.
p = sse_call(s, sid, 23, "echo whole")
p.wait_end(10)
prime = p.events()[0].get("id") if p.events() else "x"
# A ping on the same connection: answered only once the server is done
# with the call's response (HTTP/1.1 answers in order).
ping = json.dumps({"jsonrpc": "2.0", "id": 24, "method": "ping"}).encode()
p.sock.sendall(("POST /mcp HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nMcp-Session-Id: %s\r\n"
                "MCP-Protocol-Version: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (sid, V, len(ping))).encode() + ping)
got, end = p.inbuf, time.monotonic() + 10
while b'"id":24' not in got and time.monotonic() < end:
    try:
        got += p.sock.recv(65536)
    except socket.timeout:
        pass
p.close()
rs = Http(s.port, "GET", hdrs(sid, extra=["Last-Event-ID: " + prime]))
rs.wait_end(5)
rs.close()
t.ok(stdout_of(answer(p.events(), 23)) == "whole\n" and b'"id":24' in got and rs.status == 200
     and stdout_of(answer(rs.events(), 23)) == "whole\n",
     "a stream written to its end is still kept: its client, back with Last-Event-ID %s, gets the "
     "answer again (got %d)" % (prime, rs.status), rs.body[:200])

# Kept answers are bounded in bytes too (8 MiB per MCP session, the newest
# kept whatever its size): six answers of about 2 MiB each, all missed.
sid_k, _ = init(s)
primes = []
for k in range(6):
    p = sse_call(s, sid_k, 60 + k, "head -c 1000000 /dev/zero | tr '\\0' %s; sleep 0.3" % "abcdef"[k])
    p.wait(lambda ev: len(ev) >= 1)
    primes.append(p.events()[0].get("id") if p.events() else "x")
    p.close()
    wait_for(lambda: not procs(s, "sleep 0.3"), 10)
time.sleep(0.3)  # (the server sees the last connection gone when it writes the answer)
back = []
for k in (5, 0):
    rs = Http(s.port, "GET", hdrs(sid_k, extra=["Last-Event-ID: " + primes[k]]))
    rs.wait_end(10)
    rs.close()
    back.append((rs.status, stdout_of(answer(rs.events(), 60 + k)) or "", len(rs.body)))
t.ok(back[0][0] == 200 and back[0][1] == "f" * 1000000,
     "of six missed answers of 2 MiB each, the newest is handed back whole", back[0][0])
t.ok(back[1][0] == 400,
     "the oldest was let go: past 8 MiB kept (not the 8-stream count), resuming it is 400 (got %d)"
     % back[1][0])

# The newest connection takes a stream over.
p = sse_call(s, sid, 22, "sleep 1.5; echo taken")
p.wait(lambda ev: len(ev) >= 1)
prime = p.events()[0].get("id")
r1 = Http(s.port, "GET", hdrs(sid, extra=["Last-Event-ID: " + prime]))
r2 = Http(s.port, "GET", hdrs(sid, extra=["Last-Event-ID: " + prime]))
t.ok(r1.wait_end(3) and answer(r1.events(), 22) is None and p.wait_end(3) and answer(p.events(), 22) is None,
     "a second resumption ends the responses of the connections that read the stream before")
t.ok(r2.wait(lambda ev: answer(ev, 22) is not None, 10) and stdout_of(answer(r2.events(), 22)) == "taken\n",
     "and the newest gets the answer", r2.body[-300:])
for c in (p, r1, r2):
    c.close()

# Bad ids: 400, and the session lives on.
for bad, why in (("garbage", "not an id"), ("999-0", "no such stream"), ("%s-99999" % num, "not sent yet"),
                 ("0-99999", "not sent yet on the GET stream")):
    r = Http(s.port, "GET", hdrs(sid, extra=["Last-Event-ID: " + bad]))
    r.wait_end()
    r.close()
    t.ok(r.status == 400, "Last-Event-ID %s (%s) is 400, not 404 (got %d)" % (bad, why, r.status), r.body[:200])
st, _ = rpc(s, sid, "ping", id=30)
t.ok(st == 200, "the session is still there after them (ping %d)" % st)

# Another MCP session cannot read this one's stream.
r = Http(s.port, "GET", hdrs(sid_b, extra=["Last-Event-ID: %s-0" % num]))
r.wait_end(3)
r.close()
t.ok(r.status == 400 and "half" not in r.body.decode(errors="replace"),
     "another MCP session naming this one's stream id gets 400 and none of its events (got %d)" % r.status)

# ---- promptly, on a quiet server: a stream ended from another request ----------------------
# (libmicrohttpd must be run again for a connection resumed inside its own
# callbacks; nothing else happens on the server to do it: the connection
# that carried the cancellation or the DELETE stays open, idle.)
held = []


def cancel_note(id_):
    r = Http(s.port, "POST", hdrs(sid, "application/json, text/event-stream"),
             {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id_}})
    r.wait_end()
    held.append(r)
    return r.status


p = sse_call(s, sid, 23, "sleep 60")
p.wait(lambda ev: len(ev) >= 1)
wait_for(lambda: procs(s, "sleep 60"), 10)
st = cancel_note(23)
t0 = time.monotonic()
t.ok(st == 202 and p.wait_end(5) and time.monotonic() - t0 < 3 and answer(p.events(), 23) is None,
     "notifications/cancelled for a call answered as a stream ends that stream at once (%.1f s)"
     % (time.monotonic() - t0))
p.close()
j = Http(s.port, "POST", hdrs(sid, "application/json"), {"jsonrpc": "2.0", "id": 24, "method": "tools/call",
                                                        "params": {"name": "run", "arguments": run_args("sleep 61")}},
         wait_head=False)
wait_for(lambda: procs(s, "sleep 61"), 10)
st = cancel_note(24)
t0 = time.monotonic()
t.ok(st == 202 and j.head(5) and j.status == 202 and time.monotonic() - t0 < 3,
     "and one answered as JSON gets its 202 at once (%.1f s, got %d)" % (time.monotonic() - t0, j.status))
j.close()

# A request pipelined behind a stream on the same connection is answered
# once that stream is ended from elsewhere.
ping = json.dumps({"jsonrpc": "2.0", "id": "piped", "method": "ping"})
p = sse_call(s, sid, 25, "sleep 63")
p.sock.sendall(("POST /mcp HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nContent-Type: application/json\r\n"
                "Mcp-Session-Id: %s\r\nMCP-Protocol-Version: %s\r\nContent-Length: %d\r\n\r\n%s"
                % (sid, V, len(ping), ping)).encode())
wait_for(lambda: procs(s, "sleep 63"), 10)
cancel_note(25)
p.wait_end(5)
end = time.monotonic() + 5
while b'"id":"piped"' not in p.inbuf and time.monotonic() < end and not p.closed:
    p._recv()
t.ok(p.ended and b'"id":"piped","result":{}' in p.inbuf,
     "a ping pipelined behind a stream is answered once the stream is ended by a cancellation", p.inbuf[-200:])
p.close()

# The request's id survives a takeover; a GET's body is no request.
sid_d, _ = init(s)
p = sse_call(s, sid_d, 77, "sleep 62")
p.wait(lambda ev: len(ev) >= 1)
prime = p.events()[0].get("id")
forged = json.dumps({"jsonrpc": "2.0", "id": "FORGED", "method": "ping"})
r1 = Http(s.port, "GET", hdrs(sid_d, extra=["Last-Event-ID: " + prime, "Content-Type: application/json",
                                            "Content-Length: %d" % len(forged)]))
r1.sock.sendall(forged.encode())
r1.close()
time.sleep(0.3)
r2 = Http(s.port, "GET", hdrs(sid_d, extra=["Last-Event-ID: " + prime]))
wait_for(lambda: procs(s, "sleep 62"), 10)
d = Http(s.port, "DELETE", hdrs(sid_d))
d.wait_end()
held.append(d)
t0 = time.monotonic()
ended = r2.wait(lambda ev: answer(ev, 77) is not None, 5)
t.ok(ended and time.monotonic() - t0 < 3 and "session ended" in json.dumps(answer(r2.events(), 77)),
     "DELETE answers a call's stream taken over by a resumption at once, with the request's own id "
     "(%.1f s), not a GET body's" % (time.monotonic() - t0), r2.body[-300:])
t.ok(p.wait_end(3) and not any("FORGED" in json.dumps(e["data"]) for e in r2.events()),
     "and the connection it was taken from has ended", r2.body[-300:])
for c in (p, r2, *held):
    c.close()

# ---- keep-alives and the server's notes, on a quiet GET stream -------------------------------
n0 = len(g.events())
t.ok(g.wait(lambda ev: any(e.get("comment") == "keep-alive" for e in ev[n0:]), 20),
     "a GET stream quiet for 15 s gets a keep-alive comment (proxies cut idle connections)", g.events()[n0:])
# The test server closes a sandbox session after 10 s without a call.
note = lambda ev: any(isinstance(e["data"], dict) and e["data"].get("method") == "notifications/message"
                      and "session files was closed" in e["data"]["params"]["data"] for e in ev)
t.ok(g.wait(note, 15), "when the server closes an idle sandbox session, a client that set a level is told "
     "on its GET stream", [e["data"] for e in g.events() if e["data"]][-3:])
at = next(i for i, e in enumerate(g.events()) if note([e])) if note(g.events()) else len(g.events())
t.ok(changed(g.events()[max(at - 1, 0):at + 2]), "with resources/list_changed beside it (its files are gone)",
     g.events()[max(at - 1, 0):at + 2])
t.ok(not gb.wait(note, 0.3) and not any(e["data"] for e in gb.events()[1:]),
     "the other client heard nothing", gb.events())

# ---- the GET stream: newest wins; DELETE ends it ---------------------------------------------
g2 = Http(s.port, "GET", hdrs(sid))
t.ok(g.wait_end(3) and g2.status == 200, "a second GET takes the session's stream over; the first ends")
g.close()
Http(s.port, "DELETE", hdrs(sid)).wait_end()
t.ok(g2.wait_end(3), "DELETE of the session ends its open GET stream")
g2.close()

# ---- nobody comes back: the call is given up ------------------------------------------------
s2 = Server("--http-idle-timeout", "3")
sid2, _ = init(s2)
p = sse_call(s2, sid2, 40, "sleep 987")
p.wait(lambda ev: len(ev) >= 1)
wait_for(lambda: procs(s2, "sleep 987"), 10)
p.close()
time.sleep(1.0)
alive = bool(procs(s2, "sleep 987"))
t0 = time.monotonic()
gone = wait_for(lambda: not procs(s2, "sleep 987"), 8)
t.ok(alive and gone, "a stream nobody resumes: its call runs on a while (%s at 1 s), then is cancelled "
     "(gone %.1f s later; grace: the idle timeout, 3 s here)" % (alive, time.monotonic() - t0))

# ---- SIGTERM with streams open ---------------------------------------------------------------
sid3, _ = init(s2)
g3 = Http(s2.port, "GET", hdrs(sid3))
p3 = sse_call(s2, sid3, 41, "sleep 30")
p3.wait(lambda ev: len(ev) >= 1)
wait_for(lambda: procs(s2, "sleep 30"), 10)
t0 = time.monotonic()
rc = s2.stop()
t.ok(rc == 0 and time.monotonic() - t0 < 5, "SIGTERM with a GET stream and a call's stream open: exit 0 in "
     "%.1f s (rc %s)" % (time.monotonic() - t0, rc))
a = answer(p3.events(), 41) if p3.wait_end(3) else None
t.ok(a and "error" in a and g3.wait_end(3), "the call's stream got an error answer and both ended", p3.body[-300:])
for c in (g3, p3, gb):
    c.close()

# ---- answers held for clients that do not read: bounded ------------------------------------
# (the integration suite's short-spare build holds 16 MiB instead of 256)
small = os.environ.get("NSM_SERVER_SHORT_SPARE")
if small:
    BIN, big_bin = small, BIN
    s3 = Server()
    BIN = big_bin
    sid_h, _ = init(s3)
    sid_i, _ = init(s3)

    def rss(p):
        for line in open("/proc/%d/status" % p.pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
        return 0

    before = rss(s3.p)
    hogs = []
    # Answers of 12.6 MB each (1 MiB of NUL bytes on stdout and on stderr:
    # each becomes U+FFFD, three bytes, and the output is in the answer
    # twice), more than a socket's buffer takes, never read.
    for k in range(20):
        h = Http(s3.port, "POST", hdrs(sid_h), {"jsonrpc": "2.0", "id": 100 + k, "method": "tools/call",
                 "params": {"name": "run", "arguments": run_args(
                     "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2")}},
                 wait_head=False)
        h.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hogs.append(h)
    wait_for(lambda: not procs(s3, "head -c"), 30)
    time.sleep(0.5)
    grown = rss(s3.p) - before
    st, rep = rpc(s3, sid_i, "tools/call", {"name": "run", "arguments": run_args("echo small")}, id=200)
    t.ok(st == 200 and stdout_of(rep) == "small\n",
         "meanwhile another client's small answer still gets through", rep)
    print("# the server grew by %d MiB for 20 unread answers of 12.6 MB (bound 16 MiB)" % grown)
    whole, dropped, other = [], [], []
    for k, h in enumerate(hogs):
        raw, end = bytearray(h.inbuf), time.monotonic() + 30
        h.sock.settimeout(1)
        while not raw.endswith(b"\r\n0\r\n\r\n") and time.monotonic() < end:
            try:
                b = h.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                break
            if not b:
                break
            raw += b
        h.close()
        tail = bytes(raw[-400:])
        if b'"id":%d,"result"' % (100 + k) in raw:
            whole.append(len(raw))
        elif b'"id":%d' % (100 + k) in tail and b"reply dropped" in tail:
            dropped.append(k)
        else:
            other.append((k, len(raw), tail[-120:]))
    time.sleep(1)  # (the server sees those connections gone)
    t.ok(whole and dropped and not other,
         "read later: %d answers came whole, %d were replaced by a short error with their own id "
         "(past the bound, which one answer may cross)" % (len(whole), len(dropped)), other)
    # An answer kept for a client that may come back (its connection cut
    # before the answer) gives way to a new answer that needs the room.
    BIGRUN = run_args("head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; sleep 0.5")
    sid_j, _ = init(s3)
    p = Http(s3.port, "POST", hdrs(sid_j), {"jsonrpc": "2.0", "id": 300, "method": "tools/call",
             "params": {"name": "run", "arguments": BIGRUN}})
    p.wait(lambda ev: len(ev) >= 1)
    prime = p.events()[0].get("id") if p.events() else "x"
    p.close()
    wait_for(lambda: not procs(s3, "sleep 0.5"), 20)
    time.sleep(0.5)
    big = rpc(s3, sid_i, "tools/call", {"name": "run", "arguments": BIGRUN}, id=301)[1]
    rs = Http(s3.port, "GET", hdrs(sid_j, extra=["Last-Event-ID: " + prime]))
    rs.wait_end(5)
    rs.close()
    t.ok(big and "result" in big and len((sc_of(big) or {}).get("stdout", "")) == 1048576 and rs.status == 400,
         "an answer kept for a client that may come back goes first: a new 12.6 MB answer for another "
         "client comes whole, and resuming the kept one is 400 (got %d)" % rs.status, json.dumps(big)[:300])
    t.ok(s3.stop() == 0, "that server exits 0")

rc = s.stop()
t.ok(rc == 0, "the first server exits 0 (rc %s)" % rc)
errs = [x.stderr() for x in (s, s2)]
t.ok(not any("Sanitizer" in e for e in errs), "no sanitizer report", [e[-1500:] for e in errs if "Sanitizer" in e])
raise SystemExit(t.done())
