"""Kernel budgets counted per user up the chain of user namespaces (inotify
instances and watches, pending signals, POSIX message queue bytes): every
sandbox draws on its server user's, host root's for a root server. One
sandbox must not take them all (red team: a session holding 128 inotify
instances left host root none). Each sandbox gets a small share: 1 inotify
instance, 2048 watches, 1024 pending signals, 8 KiB of message queues; the
host keeps working while a session holds its share."""
import ctypes
import json
import os
import sys

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
libc = ctypes.CDLL(None, use_errno=True)

GRAB = r'''
import ctypes, errno, json, resource, signal
libc = ctypes.CDLL(None, use_errno=True)
held = []
while len(held) < 200:
    fd = libc.inotify_init()
    if fd < 0:
        break
    held.append(fd)
err = errno.errorcode.get(ctypes.get_errno())
# Pending real-time signals: block one and queue it until the kernel refuses.
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN])
class sigval(ctypes.Union):
    _fields_ = [("sival_int", ctypes.c_int), ("sival_ptr", ctypes.c_void_p)]
libc.sigqueue.argtypes = [ctypes.c_int, ctypes.c_int, sigval]
queued = 0
import os
while queued < 5000 and libc.sigqueue(os.getpid(), signal.SIGRTMIN, sigval(0)) == 0:
    queued += 1
print(json.dumps({"instances": len(held), "err": err, "queued": queued,
                  "watches": open("/proc/sys/user/max_inotify_watches").read().strip(),
                  "msgqueue": resource.getrlimit(resource.RLIMIT_MSGQUEUE)[1]}))
'''

s = Server(BIN, ["--project", os.environ["NSM_PROJECT"]])
s.initialize()
r = s.run(GRAB, "python", session="budgets")
try:
    o = json.loads(r["structuredContent"]["stdout"])
except (KeyError, TypeError, ValueError):
    o = {"error": r}
t.ok(o.get("instances") == 1 and o.get("err") == "EMFILE", "a sandbox gets one inotify instance (EMFILE after)", o)
t.ok(o.get("watches") == "2048", "and 2048 inotify watches", o)
t.ok(0 < o.get("queued", 0) <= 1024, "at most 1024 pending signals (%s queued)" % o.get("queued"), o)
t.ok(o.get("msgqueue") == 8192, "8 KiB of POSIX message queues", o)
# While the session holds its share (its interpreter keeps the fds), the
# host's own user still has its budget.
fd = libc.inotify_init()
t.ok(fd >= 0, "the host's user can still create an inotify instance while the session holds its own",
     os.strerror(ctypes.get_errno()) if fd < 0 else "")
if fd >= 0:
    os.close(fd)
t.ok(s.close() == 0, "clean exit")
sys.exit(t.done())
