"""Memory limits hold for the whole sandbox in cgroup mode (v1 memory and
pids hierarchies on hybrid hosts, v2 where delegated): each way of taking
memory that per-process rlimits miss is stopped, and the result says the
memory limit was hit. In rlimit-only mode these print SKIP lines (that mode's
limits are listed in the README's honest limits)."""
import os
import sys

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
s = Server(BIN)
s.initialize()
s._fill(0.3)
mode = "cgroup v1" if b"enforcing with cgroup v1" in s.err else "cgroup v2" if b"enforcing with cgroup v2" in s.err else None

# python: memory_mb 512, workspace_mb 256 (the defaults)
TECHNIQUES = [
    ("1.5 GiB of mmap(MAP_SHARED|MAP_ANONYMOUS)",
     "import mmap\nm = mmap.mmap(-1, 1536 << 20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)\n"
     "for i in range(0, 1536 << 20, 4096): m[i] = 1\nprint('held')"),
    # (A root server also caps SysV shm at memory_mb in all, test_ipc_limits.py:
    # 450 MiB of it plus 200 MiB of heap is what only the cgroup can stop.)
    ("450 MiB of SysV shared memory and 200 MiB of heap",
     "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.shmat.restype = ctypes.c_void_p\n"
     "i = libc.shmget(0, 450 << 20, 0o1600)\nassert i >= 0, ctypes.get_errno()\np = libc.shmat(i, None, 0)\n"
     "ctypes.memset(p, 1, 450 << 20)\nm = bytearray(200 << 20)\nfor k in range(0, len(m), 4096): m[k] = 1\n"
     "print('held')"),
    ("1.2 GiB in memfds",
     "import os\nb = b'x' * (1 << 20)\nfds = []\nfor k in range(20):\n    fd = os.memfd_create('m%d' % k)\n"
     "    fds.append(fd)\n    for i in range(60): os.write(fd, b)\nprint('held')"),
    ("/workspace and /tmp filled (tmpfs pages)",
     "import os\nb = b'x' * (1 << 20)\nfor d in ('/workspace', '/tmp'):\n    for k in range(5):\n"
     "        try:\n            with open('%s/f%d' % (d, k), 'wb') as f:\n                for i in range(60): f.write(b)\n"
     "        except OSError: pass\n"
     "m = bytearray(300 << 20)\nfor i in range(0, len(m), 4096): m[i] = 1\nprint('held')"),
]

def v1_available():
    """Root on a host with the v1 memory and pids hierarchies mounted."""
    if os.geteuid() != 0:
        return False
    with open("/proc/self/mountinfo") as f:
        opts = [l.split(" - ")[1].split()[2].split(",") for l in f if " - cgroup " in l]
    return any("memory" in o for o in opts) and any("pids" in o for o in opts)


if not mode and v1_available():
    t.ok(False, "the v1 memory and pids hierarchies are usable here, but the server uses rlimits", s.err[-800:])
if not mode:
    for what, _ in TECHNIQUES:
        t.ok(True, "%s is stopped # SKIP no usable cgroup here (rlimit-only mode)" % what)
else:
    for what, code in TECHNIQUES:
        for sess in (None, "mem"):
            r = s.run(code, "python", session=sess, timeout=120)
            sc = (r or {}).get("structuredContent", {})
            text = "".join(c.get("text", "") for c in (r or {}).get("content", []))
            t.ok(r and r.get("isError") and "held" not in sc.get("stdout", "") and "out of memory" in text
                 and "512 MB" in text,
                 "%s: %s is stopped and the result names the memory limit%s"
                 % (mode, what, " (session)" if sess else ""), (sc, text[-300:]))
            if sess:
                r = s.run("print('fresh')", "python", session=sess)
                t.ok((r or {}).get("structuredContent", {}).get("stdout") == "fresh\n",
                     "the session works again after it", r)
# The stack: the hard RLIMIT_STACK is finite (at most memory_mb), in every mode.
r = s.run("import resource\nprint(resource.getrlimit(resource.RLIMIT_STACK)[1])", "python")
hard = (r or {}).get("structuredContent", {}).get("stdout", "").strip()
t.ok(hard.isdigit() and 0 < int(hard) <= 512 << 20, "the hard stack limit is finite and at most memory_mb (%s)" % hard, r)
t.ok(s.alive(), "the server still answers")
t.ok(s.close() == 0, "clean exit")
sys.exit(t.done())
