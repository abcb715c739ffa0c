"""SysV IPC inside a sandbox is bounded by its own IPC namespace's limits
(issue #9 item 3, rlimit-only mode): with a root server each sandbox sets
kernel.shmmax/shmall to its memory limit, shmmni to 64 and msgmni to 16
before it drops to the sandbox uid; the code cannot raise them. Without a
memory cgroup nothing else would bound SysV shared memory (1 GiB was held
under memory_mb = 512). A server that is not root cannot set them: then the
start-up log says the kernel's defaults apply (checked as uid 43210)."""
import json
import os
import shutil
import subprocess
import sys

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()

PROBE = r'''
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.restype = ctypes.c_int
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
IPC_PRIVATE, IPC_CREAT = 0, 0o1000
out = {}
for k in ("shmmax", "shmall", "shmmni", "msgmni"):
    out[k] = int(open("/proc/sys/kernel/" + k).read())
mem = MEM << 20
def shmget(size):
    r = libc.shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600)
    return "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]
out["over"] = shmget(mem + 4096)          # one segment above the limit
out["first"] = shmget(mem * 6 // 10)      # 60 % of it
out["second"] = shmget(mem * 6 // 10)     # another 60 %: past the total
try:
    open("/proc/sys/kernel/shmall", "w").write("999999999")
    out["raise"] = "ok"
except OSError as e:
    out["raise"] = errno.errorcode[e.errno]
print(json.dumps(out))
'''


def memory_mb(env):
    r = subprocess.run([BIN, "--list-envs"], capture_output=True, text=True)
    return {e["name"]: e["limits"]["memory_mb"] for e in json.loads(r.stdout)["environments"]}[env]


mem = memory_mb("python")
if os.geteuid() != 0:
    t.ok(True, "SysV IPC limits per sandbox # SKIP they need a root server")
else:
    s = Server(BIN, ["--project", os.environ["NSM_PROJECT"]])
    s.initialize()
    page = os.sysconf("SC_PAGE_SIZE")
    for where, sess in (("one-shot", None), ("session", "ipc")):
        r = s.run(PROBE.replace("MEM", str(mem)), "python", session=sess)
        try:
            o = json.loads(r["structuredContent"]["stdout"])
        except (KeyError, TypeError, ValueError):
            o = {"error": r}
        t.ok(o.get("shmmax") == mem << 20 and o.get("shmall") == (mem << 20) // page and o.get("shmmni") == 64
             and o.get("msgmni") == 16, "%s: shmmax/shmall follow memory_mb = %d, shmmni 64, msgmni 16" % (where, mem), o)
        t.ok(o.get("over") == "EINVAL", "%s: a shm segment larger than the memory limit is refused (EINVAL)" % where, o)
        t.ok(o.get("first") == "ok" and o.get("second") == "ENOSPC",
             "%s: segments past the limit in all are refused (ENOSPC)" % where, o)
        t.ok(o.get("raise") in ("EROFS", "EACCES"), "%s: the code cannot raise them (%s)" % (where, o.get("raise")), o)
    s._fill(0.3)
    t.ok(b"SysV IPC limits per sandbox" in s.err, "the start-up log says the limits are set", s.err[-800:])
    t.ok(s.close() == 0, "the server exits cleanly")

    # A server that is not root: the kernel's defaults, and the log says so.
    if shutil.which("setpriv"):
        s = Server("setpriv", ["--reuid=43210", "--regid=43210", "--clear-groups", BIN,
                               "--project", os.environ["NSM_PROJECT"]])
        s.initialize()
        r = s.run("print(open('/proc/sys/kernel/shmmni').read(), end='')", "python")
        out = (r or {}).get("structuredContent", {}).get("stdout")
        s._fill(0.3)
        t.ok(out not in (None, "64") and b"kernel's defaults: the server is not root" in s.err,
             "a server that is not root leaves the defaults (shmmni %s) and says so" % (out or "").strip(), (r, s.err[-600:]))
        s.close()
    else:
        t.ok(True, "a server that is not root says so # SKIP setpriv (util-linux) is not installed")
sys.exit(t.done())
