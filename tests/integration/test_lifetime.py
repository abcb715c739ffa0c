"""Session max lifetime: a session in use is still closed once it is older
than max_lifetime_seconds (4 s in this server; its idle timeout is 10 s), and
the next call gets a fresh interpreter."""
import os
import sys
import time

from mcp import Server, Tap, Watch

t = Tap()
BIN = os.environ.get("NSM_SERVER_SHORT_LIFE")
if not BIN:
    t.ok(False, "the short-lifetime test server was built (see build.log)")
    sys.exit(t.done())
s = Server(BIN)
s.initialize()


def sc(res):
    return (res or {}).get("structuredContent", {})


r = s.run("x=kept; echo $x", "shell", session="life")
t.ok(sc(r).get("stdout") == "kept\n", "the session starts", r)
first = Watch(s.p.pid)
first.record(busy_only=True)   # the session's first sandbox: init and the agent
seen = []
t0 = time.monotonic()
while time.monotonic() - t0 < 3.0:   # busy every half second: never idle for long
    seen.append(sc(s.run('echo "${x-gone}"', "shell", session="life")).get("stdout"))
    time.sleep(0.5)
t.ok(set(seen) == {"kept\n"}, "state persists while the session is younger than 4 s", seen)
time.sleep(1.5)                      # now older than its lifetime, idle only 1.5 s
r = s.run('echo "${x-gone}"', "shell", session="life")
text = "".join(c.get("text", "") for c in r.get("content", []))
t.ok(sc(r).get("stdout") == "gone\n", "past max_lifetime_seconds the session is closed: a fresh interpreter", r)
t.ok("previous state lost (it reached the maximum session lifetime of 4 s)" in text,
   "and the call says the session's state was lost, and why", text)
left = first.wait_gone(5)
t.ok(len(first.fds) >= 2 and not left, "the first sandbox is gone (%d recorded)" % len(first.fds), left)
first.close()
w = Watch(s.p.pid)
w.record()   # the fresh session's sandbox: init and the agent
t.ok(s.close() == 0, "clean exit")
left = w.after_exit(orderly=True)   # gone, and reaped by the server itself
t.ok(len(w.fds) >= 2 and not left, "no process left (%d recorded while the server ran)" % len(w.fds), left)
sys.exit(t.done())
