"""The sandbox's walls, checked from inside through the real binary: a static
probe program (tests/probe) in a test-only environment, and plain shell."""
import json
import os
import socket
import subprocess
import sys
import time

from mcp import Server, Tap, descendants

BIN = os.environ["NSM_SERVER"]
t = Tap()
s = Server(BIN, ["--project", os.environ["NSM_PROJECT"]])
s.initialize()


def sc(res):
    return (res or {}).get("structuredContent", {})


def out(code, env="probe", **kw):
    st = sc(s.run(code, env, **kw))
    return st.get("stdout", ""), st


def settle(pid, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        left = [p for p, _ in descendants(pid)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p, _ in descendants(pid)]


# --- seccomp: every dangerous call fails with EPERM ------------------------
o, st = out("probe syscalls")
lines = [l.split() for l in o.splitlines() if l.strip()]
t.ok(len(lines) >= 15, "the probe tried %d dangerous syscalls" % len(lines), st)
# Ordinary calls the probe makes as controls must still work.
allowed = {"personality_query", "personality_linux", "ioctl_fionread", "getpid", "fork"}
for name, res in lines:
    if name in allowed:
        t.ok(res != "EPERM", "%s is still allowed (%s)" % (name, res))
        continue
    want = ("EPERM", "ENOSYS") if name == "clone3" else ("EPERM",)
    t.ok(res in want, "%s is denied (%s)" % (name, res))
t.ok(allowed <= {l[0] for l in lines}, "the probe ran its control calls")
for abi in ("x32", "i386"):
    o, st = out("probe %s; echo rc=$?" % abi)
    t.ok("rc=159" in o or "rc=137" in o or "rc=139" in o or "rc=31" in o,
         "a %s syscall kills the process" % abi, st)

# --- identity ---------------------------------------------------------------
o, st = out("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g")
maps = [l.split() for l in o.splitlines()[:2]]
t.ok(all(len(m) == 3 and m[1] != "0" for m in maps), "uid/gid maps show no host root: %s" % maps, o)
t.ok(o.splitlines()[2:] == ["1000", "1000"], "the sandbox runs as uid/gid 1000", o)
o, _ = out("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status")
t.ok(all(l.split()[1] == "0000000000000000" for l in o.splitlines()) and len(o.splitlines()) == 5,
     "every capability set is empty", o)
o, _ = out("grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status")
t.ok("NoNewPrivs:\t1" in o and "Seccomp:\t2" in o, "no_new_privs and a seccomp filter are set", o)

# --- what is visible --------------------------------------------------------
o, _ = out("ls -a / | tr '\\n' ' '")
top = set(o.split()) - {".", ".."}
t.ok(top <= {"bin", "dev", "etc", "nix", "proc", "project", "run", "tmp", "usr", "workspace"},
     "/ holds only the sandbox's entries", o)
for p in ("/home", "/root", "/etc/shadow", "/sys", "/var", "/boot", "/etc/nix", "/run/systemd"):
    o, _ = out("test -e %s && echo present || echo absent" % p)
    t.ok(o == "absent\n", "%s is not visible" % p, o)
envs = json.loads(subprocess.check_output([BIN, "--list-envs"]))
n_probe = [e for e in envs["environments"] if e["name"] == "probe"][0]["closure_paths"]
o, _ = out("ls /nix/store | wc -l")
t.ok(o.strip() == str(n_probe), "/nix/store shows exactly the %d closure paths" % n_probe, o)
o, _ = out("ls /nix/store | grep -c -e python -e nodejs || true")
t.ok(o.strip() == "0", "other environments' store paths are not visible", o)
o, _ = out("cat /etc/passwd; cat /proc/sys/kernel/hostname")
t.ok(o.startswith("sandbox:x:1000:1000:") and o.strip().endswith("\nsandbox"),
     "synthetic /etc/passwd and hostname", o)
o, _ = out("ls /dev | tr '\\n' ' '")
t.ok(set(o.split()) <= {"null", "zero", "full", "random", "urandom", "tty", "fd", "stdin", "stdout", "stderr", "shm", "pts", "ptmx"},
     "/dev is minimal", o)
o, _ = out("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done")
t.ok("nix-sandbox-mcp" not in o and os.environ["NSM_PROJECT"] not in o,
     "neither the server nor host paths show in the sandbox's /proc", o)

# --- what is writable ---------------------------------------------------------
for p in ("/", "/nix/store", "/project", "/etc", "/bin", "/usr/bin", "/dev"):
    o, _ = out("touch %s/nsm-w 2>/dev/null && echo writable || echo ro" % p.rstrip("/"))
    t.ok(o == "ro\n", "%s is not writable" % p, o)
o, _ = out("for d in /workspace /tmp; do touch $d/f && echo ok; done; echo $HOME $TMPDIR")
t.ok(o == "ok\nok\n/workspace /tmp\n", "/workspace and /tmp are writable; HOME and TMPDIR point there", o)
o, _ = out("env | cut -d= -f1 | sort | tr '\\n' ' '")
t.ok("NSM_" not in o and "SSH" not in o and "PATH" in o and len(o.split()) <= 14,
     "the environment is the documented set: %s" % o.strip(), o)

# --- network ------------------------------------------------------------------
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(4)
port = lsock.getsockname()[1]
o, _ = out("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '")
t.ok(o.split() == ["lo"], "the only interface is lo", o)
o, _ = out("probe connect %d" % port)
t.ok(o.strip() and "OK" not in o, "connecting to the host's loopback listener fails: %s" % o.strip(), o)
o, _ = out("probe connect %d" % port, env="hostnet")
t.ok(o.strip() == "connect OK", "with network = \"host\" the same connect succeeds", o)
lsock.close()

# --- hostile programs: contained, reported, nothing left behind ----------------
server_pid = s.p.pid
r = s.run(":(){ :|:& };:; sleep 2; echo survived", "probe", timeout=60)
st = sc(r)
t.ok(st.get("timed_out") or st.get("exit_code") is not None, "a fork bomb is contained and reported", st)
t.ok(settle(server_pid) == [], "no process of the fork bomb is left")
t.ok(s.alive(), "the server answers after the fork bomb")

r = s.run("a = bytearray(2 * 1024 ** 3); print('allocated')", "python", timeout=60)
st = sc(r)
t.ok(st.get("exit_code") != 0 and "allocated" not in st.get("stdout", "") and r.get("isError"),
     "a 2 GiB allocation fails under the 512 MB limit", st)
r = s.run("chunks = []\nwhile True: chunks.append(bytearray(16 * 1024 ** 2))", "python", timeout=60)
st = sc(r)
t.ok(st.get("exit_code") != 0 and r.get("isError"), "a growing memory hog is stopped", st)
t.ok(settle(server_pid) == [], "nothing left after the memory hogs")

r = s.run("head -c 100M /dev/zero > /workspace/fill; echo rc=$?; df -k /workspace | tail -1", "probe", timeout=60)
st = sc(r)
t.ok("rc=1" in st.get("stdout", "") and "No space left" in st.get("stderr", ""),
     "filling /workspace stops at its 16 MB size", st)

t0 = time.monotonic()
r = s.run("trap '' TERM HUP INT; (trap '' TERM HUP INT; setsid sleep 1000 & sleep 1000 &) ; sleep 1000",
          "probe", timeout=60)
st = sc(r)
t.ok(st.get("timed_out") is True and st.get("exit_code") is None, "a SIGTERM-ignoring double-forker times out", st)
t.ok(time.monotonic() - t0 < 15, "killed at the 5 s timeout of its environment")
t.ok(settle(server_pid) == [], "no process of the double-forker is left")

o, st = out("probe fds")
t.ok(o.split() == ["0", "1", "2"] or o.split() == ["0", "1", "2", "3"], "the program inherits only stdio: %s" % o.strip(), st)
o, st = out("echo still fine")
t.ok(o == "still fine\n", "a normal run works after all of the above", st)
t.ok(not s.garbage, "stdout carried only JSON-RPC messages", s.garbage[:3])
t.ok(s.close() == 0, "clean exit")
t.ok(settle(server_pid) == [], "no process left after exit")
sys.exit(t.done())
