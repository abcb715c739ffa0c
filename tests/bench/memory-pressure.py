#!/usr/bin/env python3
"""Benchmark-style check (not part of make check): 16 sandboxes at once,
each trying to take 2 GiB by four ways rlimits miss (shared mmap, SysV shm,
memfd, tmpfs), must leave the host's available memory within
16 x memory_mb + slack of where it started. Prints the figures; exits 1 when
the bound is broken. Meaningful in cgroup mode (the server's log says which).

usage: memory-pressure.py [SERVER] [N]"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from mcp import Server  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "result/bin/nix-sandbox-mcp"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 16
SLACK_MB = 1024
HOG = r'''
import ctypes, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
part = 512 << 20
m = mmap.mmap(-1, part, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
for i in range(0, part, 4096): m[i] = 1
i = libc.shmget(0, part, 0o1600); p = libc.shmat(i, None, 0); ctypes.memset(p, 1, part)
b = b"x" * (1 << 20)
for k in range(9):
    fd = os.memfd_create("m"); [os.write(fd, b) for _ in range(60)]
for d in ("/workspace", "/tmp"):
    for k in range(5):
        try:
            with open("%s/f%d" % (d, k), "wb") as f: [f.write(b) for _ in range(60)]
        except OSError: pass
print("held 2 GiB")
'''


def avail_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


s = Server(BIN)
s.initialize()
s._fill(0.3)
mode = next((l for l in s.err.decode().splitlines() if "enforcing with" in l), "?")
if "cgroup" not in mode:
    # Without cgroups nothing bounds these ways: 16 x 2 GiB could exhaust the host.
    print("skipped: the server enforces memory with rlimits only (%s)" % mode)
    s.close()
    sys.exit(0)
table = json.loads(os.popen("%s --list-envs" % BIN).read())
mem = next(e for e in table["environments"] if e["name"] == "python")["limits"]["memory_mb"]
start = avail_mb()
low = [start]
done = threading.Event()


def sample():
    while not done.is_set():
        low.append(avail_mb())
        time.sleep(0.05)


th = threading.Thread(target=sample)
th.start()
t0 = time.monotonic()
ids = []
for i in range(N):
    s.next_id += 1
    ids.append(s.next_id)
    s.send({"jsonrpc": "2.0", "id": s.next_id, "method": "tools/call",
            "params": {"name": "run", "arguments": {"code": HOG, "env": "python"}}})
results = [s.read(300, lambda m, i=i: m.get("id") == i) for i in ids]
done.set()
th.join()
held = sum(1 for r in results if r and "held" in r.get("result", {}).get("structuredContent", {}).get("stdout", ""))
oom = sum(1 for r in results if r and "out of memory" in json.dumps(r))
drop = start - min(low)
bound = N * mem + SLACK_MB
print("mode: %s" % mode.split("enforcing with ")[-1])
print("%d sandboxes x 2 GiB attempted in %.1f s: %d held it, %d stopped for memory" % (N, time.monotonic() - t0, held, oom))
print("host MemAvailable: %d MiB at start, lowest %d MiB: drop %d MiB (bound %d x %d + %d = %d MiB)"
      % (start, min(low), drop, N, mem, SLACK_MB, bound))
s.close()
sys.exit(0 if drop <= bound and held == 0 else 1)
