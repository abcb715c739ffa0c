"""MCP protocol over stdio, line by line: what SDK clients never send too."""
import json
import os
import random
import signal
import sys
import time

from mcp import Server, Tap, cmdline, descendants

BIN = os.environ["NSM_SERVER"]
t = Tap()


def text_of(res):
    return "".join(c.get("text", "") for c in res.get("content", []))


s = Server(BIN)
# Before initialize: ping is fine, other requests are refused.
r = s.request("ping", id="p0")
t.ok(r and r.get("result") == {}, "ping before initialize is answered", r)
r = s.request("tools/list", id=1)
t.ok(r and r.get("error", {}).get("code") == -32600, "tools/list before initialize is refused", r)

r = s.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                             "clientInfo": {"name": "t", "version": "0"}}, id=0)
res = r and r.get("result", {})
t.ok(res.get("protocolVersion") == "2025-06-18", "initialize echoes a supported version", r)
t.ok(res.get("serverInfo", {}).get("name") == "nix-sandbox-mcp" and res["serverInfo"].get("version"),
     "serverInfo has name and version", r)
t.ok("tools" in res.get("capabilities", {}) and "logging" in res.get("capabilities", {}),
     "capabilities: tools and logging", r)
ins = res.get("instructions", "")
t.ok(all(n in ins for n in ("shell", "python", "node")) and "session" in ins,
     "instructions list the environments and sessions", ins)
t.ok("prefer it to your own shell" in ins,
     "instructions tell the model to prefer the sandbox to the host, as the original's did", ins)
s.notify("notifications/initialized")

tl = s.request("tools/list")
tools = tl["result"]["tools"]
t.ok(len(tools) == 1 and tools[0]["name"] == "run", "tools/list has the run tool only", tl)
run = tools[0]
props = run["inputSchema"]["properties"]
import subprocess
baked = json.loads(subprocess.check_output([BIN, "--list-envs"]))["environments"]
t.ok(props["env"]["enum"] == [e["name"] for e in baked] and {"node", "python", "shell"} <= set(props["env"]["enum"]),
     "env is an enum of the baked names", props)
t.ok(set(run["inputSchema"]["required"]) == {"code", "env"}, "code and env are required")
t.ok(run["outputSchema"]["type"] == "object" and "exit_code" in run["outputSchema"]["properties"],
     "outputSchema declares the structured result")
ann = run.get("annotations", {})
networked = any(e["network"] == "host" for e in baked)
t.ok(ann.get("readOnlyHint") is False and ann.get("openWorldHint") is networked,
     "annotations: not read-only; open world exactly when an environment has network", ann)
cost = len(json.dumps(tl["result"])) + len(ins)
t.ok(cost < 2450, "fixed context cost (tools/list + instructions) is %d chars < 2450" % cost)
r = s.request("tools/list", {"cursor": "bogus"})
t.ok(r.get("error", {}).get("code") == -32602, "an invalid cursor is -32602", r)

# Version negotiation.
s2 = Server(BIN)
for v in ("2024-11-05", "2025-03-26", "2025-11-25"):
    r = s2.request("initialize", {"protocolVersion": v, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}})
    t.ok(r["result"]["protocolVersion"] == v, "version %s is accepted" % v, r)
r = s2.request("initialize", {"protocolVersion": "2099-01-01", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}})
t.ok(r["result"]["protocolVersion"] == "2025-11-25", "an unknown version gets our latest", r)
r = s2.request("initialize", {"capabilities": {}})
t.ok(r["error"]["code"] == -32602 and "2025-06-18" in r["error"]["data"]["supported"],
     "a missing version is -32602 with the supported list", r)
s2.close()

# Framing and envelope errors; after each, the server still answers.
cases = [
    ("{oops", -32700, "malformed JSON"),
    ('[{"jsonrpc":"2.0","id":1,"method":"ping"}]', -32600, "a batch"),
    ('{"jsonrpc":"2.0","id":5}', -32600, "no method"),
    ('{"jsonrpc":"1.0","id":6,"method":"ping"}', -32600, "wrong jsonrpc"),
    ('{"jsonrpc":"2.0","id":7,"method":"no/such"}', -32601, "unknown method"),
    ('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"nope","arguments":{}}}', -32602, "unknown tool"),
    ('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{}}', -32602, "tools/call without name"),
    ('"just a string"', -32600, "a non-object"),
]
for line, code, what in cases:
    s.send_raw(line + "\n")
    m = s.read(5)
    t.ok(m and m.get("error", {}).get("code") == code, "%s gives %d" % (what, code), m)
    t.ok(s.alive(), "still answers after %s" % what)

# Notifications are never answered, even unknown ones.
s.notify("notifications/whatever", {})
s.send_raw('{"jsonrpc":"2.0","method":"ping"}\n')
t.ok(s.drain(0.5) == [], "notifications get no response")

# Ids come back exactly.
for rid in ("abc", 0, -5, 1.5, "x\"y\\z", 2 ** 40):
    r = s.request("ping", id=rid)
    t.ok(r is not None and r["id"] == rid and type(r["id"]) == type(rid), "id %r comes back exactly" % (rid,), r)
s.send_raw('{"jsonrpc":"2.0","id":null,"method":"ping"}\n')
m = s.read(5)
t.ok(m and m.get("error", {}).get("code") == -32600 and m.get("id") is None, "a null id is -32600", m)

r = s.request("logging/setLevel", {"level": "debug"})
t.ok(r.get("result") == {}, "logging/setLevel debug", r)
r = s.request("logging/setLevel", {"level": "loud"})
t.ok(r.get("error", {}).get("code") == -32602, "logging/setLevel with a bad level is -32602", r)

# Invalid run arguments are tool results with isError, not protocol errors.
for args, what in ((None, "no arguments"), ({"env": "shell"}, "no code"),
                   ({"code": "true", "env": "cobol"}, "unknown env"),
                   ({"code": "true"}, "no env"),
                   ({"code": 5, "env": "shell"}, "non-string code"),
                   ({"code": "true", "env": "shell", "extra": 1}, "unknown argument"),
                   ({"code": "true", "env": "shell", "session": "bad id!"}, "bad session id"),
                   ({"code": "x" * (4 * 1024 * 1024 + 1), "env": "shell"}, "oversized code")):
    params = {"name": "run"}
    if args is not None:
        params["arguments"] = args
    r = s.request("tools/call", params)
    res = r.get("result", {}) if r else {}
    t.ok(res.get("isError") is True and text_of(res), "run with %s: isError with a message" % what, r)
r = s.run("true", "cobol")
t.ok("shell" in text_of(r) and "python" in text_of(r), "unknown env lists the available ones", r)
# Empty code is an empty program, as in the original: exit 0, no output.
for env in ("shell", "python", "node"):
    for sess in (None, "empty-" + env):
        r = s.run("", env, session=sess)
        sc = r.get("structuredContent", {}) if r else {}
        t.ok(r and not r.get("isError") and sc.get("exit_code") == 0 and sc.get("stdout") == ""
             and sc.get("stderr") == "", "empty code in %s%s: exit 0, no output"
             % (env, " (session)" if sess else ""), r)
s.drain(0.5)  # their debug log notifications

# A line over the documented maximum is rejected without killing the server.
s.send_raw(b"x" * (17 * 1024 * 1024) + b"\n")
m = s.read(10)
t.ok(m and m.get("error", {}).get("code") == -32600, "a 17 MiB line is rejected", m)
t.ok(s.alive(), "still answers after an over-long line")

t.ok(not s.garbage, "stdout carried only JSON-RPC messages", s.garbage[:3])
rc = s.close()
t.ok(rc == 0, "clean exit 0 at end of input", rc)

# A request whose line has no final newline is still handled at EOF.
s3 = Server(BIN)
s3.send_raw('{"jsonrpc":"2.0","id":1,"method":"ping"}')
s3.p.stdin.close()
m = s3.read(5)
t.ok(m and m.get("id") == 1 and m.get("result") == {}, "a last line without newline is answered", m)
t.ok(s3.p.wait(5) == 0, "then the server exits 0")

# The stateless revision (2026-07-28): server/discover and per-request _meta,
# with no initialize; a legacy client on the same server is unaffected.
s4 = Server(BIN)
r = s4.request("server/discover", {})
res = r and r.get("result", {})
t.ok(res.get("supportedVersions", [None])[0] == "2026-07-28" and "2025-06-18" in res["supportedVersions"]
     and res.get("resultType") == "complete" and res.get("serverInfo", {}).get("name") == "nix-sandbox-mcp"
     and "tools" in res.get("capabilities", {}) and res.get("instructions"),
     "server/discover lists versions, capabilities, identity and instructions", r)
meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}
r = s4.request("tools/list", {"_meta": meta})
t.ok(r and r.get("result", {}).get("resultType") == "complete" and r["result"]["tools"][0]["name"] == "run",
     "a stateless tools/list works without initialize and carries resultType", r)
r = s4.request("tools/call", {"_meta": meta, "name": "run", "arguments": {"code": "echo hi", "env": "shell"}})
res = r and r.get("result", {})
t.ok(res.get("resultType") == "complete" and res.get("structuredContent", {}).get("stdout") == "hi\n",
     "a stateless tools/call runs and its result carries resultType", r)
r = s4.request("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": "2031-01-01"}})
err = r and r.get("error", {})
t.ok(err.get("code") == -32022 and err.get("data", {}).get("requested") == "2031-01-01"
     and "2026-07-28" in err["data"].get("supported", []),
     "an unknown per-request version is -32022 with the supported list", r)
r = s4.request("tools/list")
t.ok(r and r.get("error", {}).get("code") == -32600, "a legacy request still needs initialize", r)
s4.close()

# Logging: nothing is sent until the client asks; then the server's own
# events at the level asked for, never the code's output.
s6 = Server(BIN)
s6.initialize()
s6.run("echo quiet-before", "shell")
t.ok(not [m for m in s6.drain(0.3) if m.get("method") == "notifications/message"],
     "no log notifications before logging/setLevel")
s6.request("logging/setLevel", {"level": "debug"})
s6.run("echo top-secret-output", "shell")
msgs = [m for m in s6.drain(0.5) if m.get("method") == "notifications/message"]
t.ok(msgs and all(m["params"]["level"] == "debug" and m["params"].get("logger") == "nix-sandbox-mcp" for m in msgs)
     and not any("top-secret-output" in json.dumps(m) for m in msgs),
     "after setLevel debug: the server's events, without the code's output", msgs)
s6.request("logging/setLevel", {"level": "error"})
s6.run("echo x", "shell")
t.ok(not [m for m in s6.drain(0.3) if m.get("method") == "notifications/message"],
     "after setLevel error: no debug events")
s6.close()

# Progress: a call with a progressToken hears notifications/progress while it
# runs, with increasing progress, and none after its result. The code waits
# in a sleep that the test ends (SIGTERM) once it has heard two
# notifications: the count depends on events, not on this machine's speed;
# without progress the run ends at its 30 s timeout and fails.
s5 = Server(BIN)
s5.initialize()
marker = "3600.%d" % random.randrange(1 << 30)
s5.send({"jsonrpc": "2.0", "id": 77, "method": "tools/call",
         "params": {"_meta": {"progressToken": "p-1"}, "name": "run",
                    "arguments": {"code": "echo a; sleep %s; echo b" % marker, "env": "shell"}}})
notes, final = [], None
end = time.monotonic() + 60
while final is None and time.monotonic() < end:
    m = s5.read(1, lambda m: m.get("id") == 77 or m.get("method") == "notifications/progress")
    if m and m.get("id") == 77:
        final = m
    elif m:
        notes.append(m)
        if len(notes) == 2:
            for pid, _ in descendants(s5.p.pid):
                if cmdline(pid) == "sleep " + marker:
                    os.kill(pid, signal.SIGTERM)
prog = [n["params"]["progress"] for n in notes]
t.ok(final and final["result"]["structuredContent"]["stdout"] == "a\nb\n", "the call with a progressToken completes", final)
t.ok(len(notes) >= 2 and all(n["params"]["progressToken"] == "p-1" for n in notes)
     and all(b > a for a, b in zip(prog, prog[1:]))
     and notes[1]["params"].get("message", "").endswith("; 2 bytes of output so far"),
     "notifications/progress carry the token, increase and report output (%d seen before the result)"
     % len(notes), notes)
later = s5.drain(1.5)
t.ok(not [m for m in later if m.get("method") == "notifications/progress"], "no progress after the result", later)
s5.send({"jsonrpc": "2.0", "id": 78, "method": "tools/call",
         "params": {"name": "run", "arguments": {"code": "sleep 1.5", "env": "shell"}}})
final = s5.read(30, lambda m: m.get("id") == 78)
t.ok(final and not [m for m in s5.pending if m.get("method") == "notifications/progress"],
     "no progress for a call without a token", s5.pending)
s5.close()

sys.exit(t.done())
