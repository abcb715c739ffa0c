"""The sandbox's walls, checked from inside through the real binary: a static
probe program (tests/probe) in a test-only environment, and plain shell."""
import json
import os
import re
import socket
import subprocess
import sys
import time

from mcp import Server, Tap, Watch
import walls

BIN = os.environ["NSM_SERVER"]
t = Tap()
s = Server(BIN, ["--project", os.environ["NSM_PROJECT"]])
s.initialize()


def sc(res):
    return (res or {}).get("structuredContent", {})


def out(code, env="probe", **kw):
    st = sc(s.run(code, env, **kw))
    return st.get("stdout", ""), st


def run_watched(code, env, timeout=60, w=None):
    """Run code, recording every process of the busy sandboxes (not the
    idle spares) while it runs, into w or a new Watch. Returns (result,
    Watch): after the result, watch.wait_gone() must come back empty."""
    s.next_id += 1
    rid = s.next_id
    s.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
            "params": {"name": "run", "arguments": {"code": code, "env": env}}})
    w = w or Watch(s.p.pid)
    end = time.monotonic() + timeout
    m = None
    while m is None and time.monotonic() < end:
        w.record(busy_only=True)
        m = s.read(0.02, lambda m: m.get("id") == rid)
    return (m or {}).get("result"), w


def none_left(w, what):
    """Every process w recorded is gone (bounded wait); says which are not."""
    left = w.wait_gone(10)
    t.ok(w.fds and not left, "%s (%d recorded)" % (what, len(w.fds)), left)
    w.close()


# --- seccomp: every dangerous call fails with EPERM ------------------------
# The expected results (tests/integration/walls.py) cover every rule of the
# filter's table in csrc/sysfilter.c: a rule added there without a probe fails.
left = walls.unprobed_rules()
t.ok(not left and walls.filter_rules(), "every rule of csrc/sysfilter.c is probed", left)
o, st = out("probe syscalls")
got = dict(l.split(None, 1) for l in o.splitlines() if l.strip())
t.ok(set(got) == set(walls.SYSCALLS), "the probe made exactly the %d expected calls" % len(walls.SYSCALLS),
     (sorted(set(walls.SYSCALLS) - set(got)), sorted(set(got) - set(walls.SYSCALLS)), st))
for name, want in sorted(walls.SYSCALLS.items()):
    what = "is still allowed" if name in walls.CONTROLS else "is denied"
    t.ok(got.get(name) == want, "%s %s: %s (want %s)" % (name, what, got.get(name), want))
# Foreign ABIs kill the process with SIGSYS (bash: status 128 + 31).
table = walls.env_table(BIN)
probe_bin = table["probe"]["root"] + "/bin/probe" if "probe" in table else None
for abi in ("x32", "i386"):
    desc = "a %s syscall kills the process with SIGSYS" % abi
    have, why = walls.host_i386(probe_bin) if abi == "i386" else (True, "")
    if not have:
        walls.skip(t, desc, why)
        continue
    o, st = out("probe %s; echo rc=$?" % abi)
    t.ok(o == "rc=159\n", desc, st)

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
t.ok(top == walls.ROOT_WITH_PROJECT, "/ holds exactly the sandbox's entries", o)
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
t.ok(o == walls.ETC_PASSWD + "sandbox\n", "synthetic /etc/passwd and hostname", o)
o, _ = out("ls /dev | tr '\\n' ' '")
t.ok(set(o.split()) == walls.DEV, "/dev holds exactly the minimal set", o)
o, _ = out("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done")
t.ok("/run/sandbox/main.sh" in o and "nix-sandbox-mcp" not in o and os.environ["NSM_PROJECT"] not in o,
     "the sandbox's /proc shows its own programs, neither the server nor host paths", o)

# --- what is writable ---------------------------------------------------------
for p in ("/", "/nix/store", "/project", "/etc", "/bin", "/usr/bin", "/dev"):
    o, _ = out("touch %s/nsm-w 2>/dev/null && echo writable || echo ro" % p.rstrip("/"))
    t.ok(o == "ro\n", "%s is not writable" % p, o)
o, _ = out("for d in /workspace /tmp; do touch $d/f && echo ok; done; echo $HOME $TMPDIR")
t.ok(o == "ok\nok\n/workspace /tmp\n", "/workspace and /tmp are writable; HOME and TMPDIR point there", o)
# The interpreter's initial environment (bash adds PWD, SHLVL, _ to what it
# exports, so read what it was started with).
o, _ = out("tr '\\0' '\\n' < /proc/$$/environ")
diff = walls.env_diff(o, table.get("probe", {}).get("root", "?"))
t.ok(o and not diff, "the environment is exactly the documented set (PATH and %d fixed)" % len(walls.FIXED_ENV),
     (diff, o))

# --- network ------------------------------------------------------------------
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(4)
port = lsock.getsockname()[1]
o, _ = out("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '")
t.ok(o.split() == ["lo"], "the only interface is lo", o)
o, _ = out("probe connect %d" % port)
t.ok(o == "connect ECONNREFUSED\n", "connecting to the host's loopback listener fails: %s" % o.strip(), o)
o, _ = out("probe connect %d" % port, env="hostnet")
t.ok(o.strip() == "connect OK", "with network = \"host\" the same connect succeeds", o)
lsock.close()

# --- hostile programs: contained, reported, nothing left behind ----------------
server_pid = s.p.pid
# The program starts its sleeper before the bomb, so it needs no fork of
# its own afterwards: it must end normally (exit 0) while the bomb's shells
# are refused further forks (EAGAIN, bash's "fork: retry") by the process
# limit, 32 for the probe environment (+ the sandbox's init), which it
# counts at the end without forking; what is left of the bomb dies with the
# sandbox.
r, w = run_watched("sleep 3 & pid=$!; :(){ :|:& };:; wait $pid; p=(/proc/[0-9]*); echo survived ${#p[@]}",
                   "probe")
st = sc(r)
errs = st.get("stderr", "").splitlines()
m = re.fullmatch(r"survived (\d+)\n", st.get("stdout", ""))
t.ok(st.get("exit_code") == 0 and m and int(m.group(1)) <= 32 + 1 and st.get("timed_out") is False
     and errs and all(re.search("fork: (retry: )?Resource temporarily unavailable$", l) for l in errs),
     "a fork bomb is stopped by the process limit (EAGAIN, %s processes of at most 33) and the run "
     "ends with its program (exit 0)" % (m.group(1) if m else "?"),
     {k: (v if k != "stderr" else v[:600]) for k, v in st.items()})
none_left(w, "no process of the fork bomb is left")
t.ok(s.alive(), "the server answers after the fork bomb")


def stopped_for_memory(r):
    """The run ended on the memory limit, not on its timeout: Python's
    MemoryError (RLIMIT_DATA refuses the allocation) or, with cgroups, the
    kernel's OOM kill as the server reports it."""
    st = sc(r)
    text = "".join(c.get("text", "") for c in (r or {}).get("content", []))
    return bool(r and r.get("isError") and st.get("timed_out") is False and
                ((st.get("exit_code") == 1 and st.get("stderr", "").endswith("\nMemoryError\n"))
                 or "[killed: out of memory" in text))


# The first hog may end before a scan sees it: one Watch for both.
r, w_hogs = run_watched("a = bytearray(2 * 1024 ** 3); print('allocated')", "python")
st = sc(r)
t.ok(stopped_for_memory(r) and "allocated" not in st.get("stdout", ""),
     "a 2 GiB allocation fails under the 512 MB limit (MemoryError or OOM, no timeout)", st)
r, _ = run_watched("chunks = []\nwhile True: chunks.append(bytearray(16 * 1024 ** 2))", "python", w=w_hogs)
st = sc(r)
t.ok(stopped_for_memory(r), "a growing memory hog is stopped by the memory limit (MemoryError or OOM, no timeout)", st)
none_left(w_hogs, "nothing left after the memory hogs")

r = s.run("head -c 100M /dev/zero > /workspace/fill; echo rc=$?; df -k /workspace | tail -1", "probe", timeout=60)
st = sc(r)
t.ok("rc=1" in st.get("stdout", "") and "No space left" in st.get("stderr", ""),
     "filling /workspace stops at its 16 MB size", st)

t0 = time.monotonic()
# (No setsid(1) in the probe environment: the subshell's two background
# sleeps are orphaned to the sandbox's init when it exits.)
r, w = run_watched("trap '' TERM HUP INT; (trap '' TERM HUP INT; sleep 1000 & sleep 1000 &) ; sleep 1000",
                   "probe")
st = sc(r)
t.ok(st.get("timed_out") is True and st.get("exit_code") is None, "a SIGTERM-ignoring double-forker times out", st)
elapsed = time.monotonic() - t0
t.ok(5 <= elapsed < 15 and st.get("duration_ms", 0) >= 5000,
     "killed at the 5 s timeout of its environment, not before (%.1f s, duration_ms %s)"
     % (elapsed, st.get("duration_ms")))
t.ok(len([c for _, c in w.fds.values() if c == "sleep 1000"]) == 3,
     "all three of its sleeps were recorded", list(w.fds.values()))
none_left(w, "no process of the double-forker is left")

o, st = out("probe fds")
t.ok(o == "0 1 2 \n", "the program inherits only stdio: %s" % o.strip(), st)
o, st = out("echo still fine")
t.ok(o == "still fine\n", "a normal run works after all of the above", st)
t.ok(not s.garbage, "stdout carried only JSON-RPC messages", s.garbage[:3])
# Every process the server has now (the spare sandboxes the pool prepared
# after the runs above included) must end with it.
w = Watch(server_pid)
w.record()
t.ok(s.close() == 0, "clean exit")
left = w.after_exit(orderly=True)
t.ok(w.fds and not left, "no process left after exit, none left for others to reap (%d recorded)" % len(w.fds),
     left)
w.close()
sys.exit(t.done())
