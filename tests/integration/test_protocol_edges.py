"""The protocol's exact edges, read as raw bytes (a JSON parser would hide
them): ids and progress tokens echoed digit for digit, every byte written
valid UTF-8, two messages on one line, U+0000 and lone surrogates in
arguments, and a client that stops reading while work goes on."""
import json
import sys
import os
import select
import subprocess
import time

from mcp import Tap, descendants

BIN = os.environ["NSM_SERVER"]
t = Tap()


class Raw:
    """A client that writes bytes and reads raw reply lines."""

    def __init__(self):
        self.p = subprocess.Popen([BIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        os.set_blocking(self.p.stdout.fileno(), False)
        os.set_blocking(self.p.stderr.fileno(), False)
        self.buf = b""
        self.err = b""
        self.lines = []

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data if data.endswith(b"\n") else data + b"\n")
        self.p.stdin.flush()

    def fill(self, timeout):
        r, _, _ = select.select([self.p.stdout, self.p.stderr], [], [], timeout)
        for f in r:
            chunk = f.read() or b""
            if f is self.p.stderr:
                self.err += chunk
            else:
                self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.lines.append(line)

    def line(self, pred, timeout=20.0):
        """First raw line (bytes) for which pred(parsed) is true."""
        end = time.monotonic() + timeout
        while True:
            for i, l in enumerate(self.lines):
                try:
                    m = json.loads(l)
                except ValueError:
                    continue
                if pred(m):
                    return self.lines.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.fill(min(left, 0.5))

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            return self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


def init(c):
    c.send(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                       "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                  "clientInfo": {"name": "edges", "version": "0"}}}))
    c.line(lambda m: m.get("id") == 0)
    c.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')


def has_id(text):
    return lambda m: ("result" in m or "error" in m) and json.dumps(m.get("id")) != "null" \
        and m.get("id") == json.loads(text)


c = Raw()
init(c)

# -- ids echoed as sent ------------------------------------------------------
for text in ["9007199254740993", "12345678901234567890", "0.1", "-0", "1e2", "1.50", "-17"]:
    c.send('{"jsonrpc":"2.0","id":%s,"method":"ping"}' % text)
    raw = c.line(lambda m, v=json.loads(text): "result" in m and m.get("id") == v)
    t.ok(raw is not None and (b'"id":' + text.encode() + b",") in raw,
         "id %s is echoed digit for digit" % text, raw)

# Two ids that only differ beyond a double's precision stay two requests:
# cancelling one leaves the other running.
c.send('{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{"name":"run",'
       '"arguments":{"env":"shell","code":"sleep 2; echo done"}}}')
time.sleep(0.3)
c.send('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9007199254740992}}')
raw = c.line(lambda m: "result" in m and isinstance(m.get("id"), int) and m["id"] > 2 ** 53, timeout=30)
t.ok(raw is not None and b'"id":9007199254740993,' in raw and b"done" in raw,
     "a cancel naming 9007199254740992 does not cancel request 9007199254740993", raw)
c.send('{"jsonrpc":"2.0","id":9007199254740995,"method":"tools/call","params":{"name":"run",'
       '"arguments":{"env":"shell","code":"sleep 30"}}}')
time.sleep(0.3)
c.send('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9007199254740995}}')
c.send('{"jsonrpc":"2.0","id":"after-cancel","method":"ping"}')
c.line(lambda m: m.get("id") == "after-cancel")
raw = c.line(lambda m: isinstance(m.get("id"), int) and m["id"] > 2 ** 53, timeout=2)
t.ok(raw is None, "a cancel naming 9007199254740995 exactly cancels it (no reply follows)", raw)

# Progress tokens too.
c.send('{"jsonrpc":"2.0","id":"prog","method":"tools/call","params":{"_meta":{"progressToken":'
       '12345678901234567891},"name":"run","arguments":{"env":"shell","code":"sleep 1.6"}}}')
raw = c.line(lambda m: m.get("method") == "notifications/progress", timeout=20)
t.ok(raw is not None and b'"progressToken":12345678901234567891,' in raw,
     "a numeric progress token is echoed digit for digit", raw)
c.line(lambda m: m.get("id") == "prog", timeout=20)

# -- every byte written is valid UTF-8 --------------------------------------
c.send(b'{"jsonrpc":"2.0","id":"a\xffb\xc3","method":"ping"}')
raw = c.line(lambda m: "result" in m and isinstance(m.get("id"), str) and m["id"].startswith("a"))
ok = False
try:
    ok = raw is not None and json.loads(raw.decode("utf-8"))["id"] == "a\ufffdb\ufffd"
except (UnicodeDecodeError, ValueError):
    pass
t.ok(ok, "an id with invalid UTF-8 comes back repaired (U+FFFD), as valid UTF-8", raw)

# -- two messages on one line -----------------------------------------------
c.send('{"jsonrpc":"2.0","id":"first","method":"ping"} {"jsonrpc":"2.0","id":"second","method":"ping"}')
first = c.line(lambda m: m.get("id") == "first")
rest = c.line(lambda m: m.get("error", {}).get("code") == -32700)
second = c.line(lambda m: m.get("id") == "second", timeout=1)
t.ok(first is not None and rest is not None and b"more than one JSON value" in rest and second is None,
     "two messages on one line: the first is answered, the rest gets -32700", (first, rest, second))

# -- U+0000 in arguments ----------------------------------------------------
for where, args in [("code", '{"env":"shell","code":"echo a\\u0000b"}'),
                    ("env", '{"env":"shell\\u0000x","code":"echo hi"}'),
                    ("session", '{"env":"shell","code":"echo hi","session":"s\\u0000x"}')]:
    c.send('{"jsonrpc":"2.0","id":"nul-%s","method":"tools/call","params":{"name":"run","arguments":%s}}'
           % (where, args))
    m = c.line(lambda m, w=where: m.get("id") == "nul-" + w)
    m = json.loads(m) if m else {}
    res = m.get("result", {})
    text = "".join(x.get("text", "") for x in res.get("content", []))
    t.ok(res.get("isError") is True and "U+0000" in text,
         "U+0000 in %s: a tool error that names it, not a run of the cut string" % where, m)

# -- lone surrogates --------------------------------------------------------
c.send('{"jsonrpc":"2.0","id":"sur","method":"tools/call","params":{"name":"run","arguments":'
       '{"env":"python","code":"import sys; print(len(\\"x\\ud800y\\"), ord(\\"\\udc01\\"))"}}}')
m = c.line(lambda m: m.get("id") == "sur", timeout=30)
m = json.loads(m) if m else {}
sc = m.get("result", {}).get("structuredContent", {})
t.ok(sc.get("exit_code") == 0 and sc.get("stdout") == "3 65533\n",
     "lone surrogates in code are answered with the request's id, replaced by U+FFFD", m)
c.send('{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}')
m = c.line(lambda m: "result" in m and m.get("id") == "\ufffd")
t.ok(m is not None, "a lone surrogate in an id comes back as U+FFFD", m)

c.send('{"jsonrpc":"2.0","id":"alive","method":"ping"}')
t.ok(c.line(lambda m: m.get("id") == "alive") is not None, "the server still answers")
t.ok(c.close() == 0, "clean exit")

# -- a client that stops reading --------------------------------------------
# It asks for runs whose replies (about 2 MiB each) fill its pipe and then the
# server's queue, plus one run that sleeps past its timeout (probe: 5 s), and
# reads nothing for a while. The sleeping sandbox must still be killed on
# time; replies beyond the queue's bound are replaced by short errors; once the
# client reads again, every request has exactly one answer and the server
# still works.
c = Raw()
init(c)
big = "head -c 1000000 /dev/zero | tr '\\\\0' a; head -c 1000000 /dev/zero | tr '\\\\0' b >&2"
n_big = 50
for i in range(n_big):
    c.send('{"jsonrpc":"2.0","id":"big-%d","method":"tools/call","params":{"name":"run","arguments":'
           '{"env":"shell","code":"%s"}}}' % (i, big))
c.send('{"jsonrpc":"2.0","id":"sleeper","method":"tools/call","params":{"name":"run","arguments":'
       '{"env":"probe","code":"exec sleep 1000"}}}')
start = time.monotonic()
# Find the sleeper while nobody reads: a process running "sleep 1000".
sleeper = None
while time.monotonic() - start < 5 and sleeper is None:
    for pid, _ in descendants(c.p.pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if f.read().startswith(b"sleep\0" + b"1000"):
                    sleeper = pid
        except OSError:
            pass
    time.sleep(0.1)
t.ok(sleeper is not None, "the sleeping run started while the client was not reading")
gone_at = None
while time.monotonic() - start < 20:
    if sleeper is None or not os.path.exists("/proc/%d" % sleeper):
        gone_at = time.monotonic() - start
        break
    time.sleep(0.1)
t.ok(gone_at is not None and gone_at < 12,
     "its sandbox is killed at its 5 s timeout though the client reads nothing (gone after %s s)"
     % (None if gone_at is None else round(gone_at, 1)))
answers = {}
end = time.monotonic() + 60
while len(answers) < n_big + 1 and time.monotonic() < end:
    c.fill(0.5)
    while c.lines:
        raw = c.lines.pop(0)
        m = json.loads(raw)
        if "id" in m:
            answers.setdefault(m["id"], []).append(m)
ids = ["big-%d" % i for i in range(n_big)] + ["sleeper"]
t.ok(all(len(answers.get(i, [])) == 1 for i in ids), "every request has exactly one answer",
     {i: len(answers.get(i, [])) for i in ids if len(answers.get(i, [])) != 1})
full = [i for i in ids[:-1] if "result" in answers.get(i, [{}])[0]]
dropped = [i for i in ids[:-1] if answers.get(i, [{}])[0].get("error", {}).get("code") == -32603]
t.ok(len(full) >= 8 and len(dropped) >= 1 and len(full) + len(dropped) == n_big,
     "replies past the queue's bound are replaced by a short error (%d full, %d replaced)"
     % (len(full), len(dropped)))
sl = answers.get("sleeper", [{}])[0]
t.ok(sl.get("result", {}).get("structuredContent", {}).get("timed_out") is True
     or sl.get("error", {}).get("code") == -32603, "the sleeper's answer says it timed out", sl)
c.fill(0.5)
t.ok(b"replaced by an error" in c.err, "the log says replies were replaced")
c.send('{"jsonrpc":"2.0","id":"alive","method":"ping"}')
t.ok(c.line(lambda m: m.get("id") == "alive") is not None, "the server answers once the client reads again")
t.ok(c.close() == 0, "clean exit")
sys.exit(t.done())
