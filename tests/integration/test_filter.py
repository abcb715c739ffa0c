"""The seccomp filter seen from inside a sandbox, one-shot and in a session:
socket families outside the allow-list (AF_VSOCK ignores network namespaces)
and the calls Docker's default profile denies fail with EPERM; the families
programs need work. (tests/unit/test_sysfilter.c checks every rule of the
compiled program; this checks that it is the program the sandbox runs.)"""
import json
import os
import sys

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
s = Server(BIN)
s.initialize()

CODE = r'''
import ctypes, errno, json, socket
libc = ctypes.CDLL(None, use_errno=True)
out = {}
for name in ("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_VSOCK", "AF_PACKET", "AF_ALG", "AF_BLUETOOTH"):
    fam = getattr(socket, name, None) or {"AF_VSOCK": 40, "AF_ALG": 38, "AF_BLUETOOTH": 31}[name]
    typ = socket.SOCK_DGRAM if name in ("AF_NETLINK",) else socket.SOCK_SEQPACKET if name == "AF_ALG" else socket.SOCK_STREAM
    if name == "AF_PACKET": typ = socket.SOCK_RAW
    try:
        socket.socket(fam, typ).close()
        out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
# x86_64 numbers: sysfs 139, ustat 136, mbind 237, set_mempolicy 238, get_mempolicy 239
for name, nr in (("sysfs", 139), ("ustat", 136), ("mbind", 237), ("set_mempolicy", 238), ("get_mempolicy", 239)):
    r = libc.syscall(nr, 0, 0, 0, 0, 0, 0)
    out[name] = "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")
print(json.dumps(out, sort_keys=True))
'''
want = {"AF_UNIX": "ok", "AF_INET": "ok", "AF_INET6": "ok", "AF_NETLINK": "ok",
        "AF_VSOCK": "EPERM", "AF_PACKET": "EPERM", "AF_ALG": "EPERM", "AF_BLUETOOTH": "EPERM",
        "sysfs": "EPERM", "ustat": "EPERM", "mbind": "EPERM", "set_mempolicy": "EPERM", "get_mempolicy": "EPERM"}
for sess in (None, "filter"):
    r = s.run(CODE, "python", session=sess)
    sc = (r or {}).get("structuredContent", {})
    try:
        got = json.loads(sc.get("stdout", ""))
    except ValueError:
        got = sc
    where = "in a session" if sess else "one-shot"
    for k, v in want.items():
        t.ok(isinstance(got, dict) and got.get(k) == v, "%s: %s gives %s" % (where, k, v), got)
t.ok(s.close() == 0, "clean exit")
sys.exit(t.done())
