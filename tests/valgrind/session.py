#!/usr/bin/env python3
"""Scripted MCP sessions for tests/valgrind/run.sh. Prints TAP.

    session.py eof  CMD...   initialize, tools/list, runs in every env, errors,
                             ping during a run, a cancelled run, then EOF
    session.py term CMD...   a run in flight, then SIGTERM

CMD is the server command line (valgrind ... nix-sandbox-mcp). The server's
exit status is printed last as `# server exit N` for run.sh to judge (it
carries valgrind's --error-exitcode).
"""
import json
import queue
import signal
import subprocess
import sys
import threading
import time

TIMEOUT = 90  # seconds per answer: valgrind makes everything ~20x slower


class Server:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        print(f"# server pid {self.p.pid}", flush=True)
        self.q = queue.Queue()
        self.pending = {}
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line)
        self.q.put(None)

    def send(self, obj):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.p.stdin.write(data + b"\n")
        self.p.stdin.flush()

    def start(self, method, params=None):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.next_id

    def wait(self, rid, timeout=TIMEOUT):
        end = time.time() + timeout
        while rid not in self.pending:
            try:
                line = self.q.get(timeout=max(0.1, end - time.time()))
            except queue.Empty:
                raise TimeoutError(f"no answer to request {rid!r} within {timeout} s")
            if line is None:
                raise EOFError("the server closed stdout")
            msg = json.loads(line)  # every line must be one JSON message
            self.pending.setdefault(msg.get("id"), []).append(msg)
        msg = self.pending[rid].pop(0)
        if not self.pending[rid]:
            del self.pending[rid]
        return msg

    def call(self, method, params=None, timeout=TIMEOUT):
        return self.wait(self.start(method, params), timeout)

    def run(self, code, env, **extra):
        return self.call("tools/call", {"name": "run", "arguments": {"code": code, "env": env, **extra}})

    def close(self, timeout=TIMEOUT):
        self.p.stdin.close()
        return self.p.wait(timeout)


n = 0
failed = 0


def check(name, fn):
    global n, failed
    n += 1
    try:
        fn()
        print(f"ok {n} - {name}", flush=True)
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        failed += 1
        print(f"not ok {n} - {name}", flush=True)
        for line in f"{type(e).__name__}: {e}".splitlines()[:8]:
            print(f"#   {line}", flush=True)


def sc(resp):
    assert "result" in resp, f"not a result: {resp}"
    return resp["result"].get("structuredContent")


def text(resp):
    return "".join(c.get("text", "") for c in resp["result"]["content"])


def session_eof(cmd):
    s = Server(cmd)

    def initialize():
        r = s.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                  "clientInfo": {"name": "valgrind", "version": "0"}})
        assert r["result"]["protocolVersion"] == "2025-11-25", r
        s.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    check("initialize", initialize)

    def tools_list():
        r = s.call("tools/list")
        assert [t["name"] for t in r["result"]["tools"]] == ["run"], r
    check("tools/list", tools_list)

    cases = {
        "shell": ("echo hello from shell; echo err >&2; exit 4", "hello from shell\n", 4),
        "python": ("import sys\nprint('hello from python')\nsys.exit(0)", "hello from python\n", 0),
        "node": ("console.log('hello from node')", "hello from node\n", 0),
    }
    for env, (code, out, status) in cases.items():
        def one(env=env, code=code, out=out, status=status):
            r = s.run(code, env)
            assert sc(r)["stdout"] == out and sc(r)["exit_code"] == status, r
        check(f"run in {env}", one)

    def big_output():
        # Past the 1 MiB cap: the output capture's truncation path.
        r = s.run("head -c 3000000 /dev/zero | tr '\\0' a; printf '\\377\\376 bad utf-8' >&2", "shell")
        assert sc(r)["truncated"] is True, r["result"]["structuredContent"]["truncated"]
        assert len(sc(r)["stdout"]) <= 1048576, len(sc(r)["stdout"])
        assert sc(r)["stderr"] == "\ufffd\ufffd bad utf-8", sc(r)["stderr"]
    check("run with output over the cap and invalid UTF-8", big_output)

    def errors():
        r = s.run("echo", "cobol")
        assert r["result"]["isError"] is True and "Unknown environment" in text(r), r
        r = s.call("tools/call", {"name": "nope", "arguments": {}})
        assert r["error"]["code"] == -32602, r
        r = s.call("no/such/method")
        assert r["error"]["code"] == -32601, r
        r = s.call("logging/setLevel", {"level": "loud"})
        assert r["error"]["code"] == -32602, r
        r = s.call("initialize", {})
        assert r["error"]["code"] == -32602, r
        s.send(b"this is not json")
        s.send(b'[{"jsonrpc":"2.0","id":"b","method":"ping"}]')
        s.send(b'{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}')
        for _ in range(3):
            r = s.wait(None)
            assert r["error"]["code"] in (-32700, -32600), r
        r = s.run("true", "cobol")
        assert r["result"]["isError"] is True, r
        r = s.run("", "shell")  # an empty program: exit 0
        assert r["result"]["structuredContent"]["exit_code"] == 0, r
        r = s.call("tools/call", {"name": "run", "arguments": {"code": "x", "env": "shell", "bogus": 1}})
        assert r["result"]["isError"] is True, r
    check("protocol and tool errors", errors)

    def ping_during_run():
        rid = s.start("tools/call", {"name": "run", "arguments": {"code": "sleep 2; echo done", "env": "shell"}})
        time.sleep(0.5)
        t0 = time.time()
        s.call("ping")
        assert rid not in s.pending, "the run answered before the ping"
        assert sc(s.wait(rid))["stdout"] == "done\n"
        assert time.time() - t0 < 60
    check("ping answered during a run", ping_during_run)

    def cancel():
        rid = s.start("tools/call", {"name": "run", "arguments": {"code": "sleep 60", "env": "shell"}})
        time.sleep(3)  # the sandbox is up (slowly, under valgrind)
        s.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": rid}})
        r = s.call("ping")
        assert r["result"] == {}, r
        assert rid not in s.pending, "a cancelled request was answered"
        r = s.run("echo after", "shell")
        assert sc(r)["stdout"] == "after\n", r
    check("cancelled run; the server goes on", cancel)

    # Every build has sessions (csrc/session.c): an error reply here, whatever
    # its text, is a failure.
    def sessions():
        r = s.run("x = 41", "python", session="vg-1")
        assert r["result"]["isError"] is False, r
        r = s.run("print(x + 1)", "python", session="vg-1")
        assert sc(r)["stdout"] == "42\n", r
    check("session call keeps state", sessions)

    def eof():
        rc = s.close()
        print(f"# server exit {rc}", flush=True)
    check("server exits after EOF", eof)


def session_term(cmd):
    s = Server(cmd)

    def run_then_term():
        s.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                              "clientInfo": {"name": "valgrind", "version": "0"}})
        s.start("tools/call", {"name": "run", "arguments": {"code": "sleep 60", "env": "shell"}})
        time.sleep(3)
        s.p.send_signal(signal.SIGTERM)
        rc = s.p.wait(TIMEOUT)
        print(f"# server exit {rc}", flush=True)
    check("SIGTERM with a run in flight: the server stops", run_then_term)


def main():
    mode, cmd = sys.argv[1], sys.argv[2:]
    {"eof": session_eof, "term": session_term}[mode](cmd)
    print(f"1..{n}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
