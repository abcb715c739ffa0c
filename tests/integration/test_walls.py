"""Every wall and limit of the sandbox, checked from inside (and, for its
init, from the host) through the real binary, in a one-shot run and again
inside a session, with the server as the test's user and, when the test is
root, once more as an unprivileged user (the sandbox's ids then map to that
user's own). Uses the test server's probe environment (bash, the static
probe, 5 s timeout, 32 processes, 16 MB /workspace and /tmp), hostnet
(network = "host": the control that shows a network check can fail), shell,
python and node (the presets)."""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from mcp import Server, Tap, descendants
import walls

BIN = os.environ["NSM_SERVER"]
UNPRIVILEGED_UID = 43210  # a throwaway id: no user of this machine has it
t = Tap()

TABLE = walls.env_table(BIN)
ENVS = {e["name"]: e for e in json.loads(subprocess.check_output([BIN, "--list-envs"]))["environments"]}
PROBE_LIMITS = ENVS["probe"]["limits"]

PDIR = tempfile.mkdtemp(prefix="nsm-walls-")
os.chmod(PDIR, 0o755)
with open(os.path.join(PDIR, "hello.txt"), "w") as f:
    f.write("project file\n")
os.chmod(os.path.join(PDIR, "hello.txt"), 0o644)

# A listener on the host's loopback and one on a host abstract unix socket:
# a sandbox without network must reach neither, one with network = "host"
# both (the control).
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(16)
PORT = lsock.getsockname()[1]
ABSTRACT = "nsm-walls-%d-%d" % (os.getpid(), random.randrange(1 << 30))
usock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
usock.bind("\0" + ABSTRACT)
usock.listen(16)

HOST_NS = {n: os.readlink("/proc/self/ns/" + n) for n in ("user", "pid", "mnt", "net", "ipc", "uts", "cgroup")}
I386, I386_WHY = walls.host_i386(TABLE["probe"]["root"] + "/bin/probe" if "probe" in TABLE else None)


def sc(res):
    return (res or {}).get("structuredContent", {})


def text_of(res):
    return "".join(c.get("text", "") for c in (res or {}).get("content", []))


class Mode:
    """One server (as some user) and one way to run (one-shot or a session
    per environment); prefixes its checks' descriptions."""

    def __init__(self, server, host_id, label, session=None):
        self.s, self.host_id, self.label, self.session = server, host_id, label, session

    def sid(self, env):
        return None if self.session is None else "%s-%s" % (self.session, env)

    def run(self, code, env="probe", timeout=60):
        return self.s.run(code, env, session=self.sid(env), timeout=timeout)

    def out(self, code, env="probe"):
        st = sc(self.run(code, env))
        return st.get("stdout", ""), st

    def ok(self, cond, desc, detail=None):
        return t.ok(cond, "[%s] %s" % (self.label, desc), detail)

    def send(self, code, env="probe"):
        """Send a run without waiting for it; returns its request id."""
        self.s.next_id += 1
        args = {"code": code, "env": env}
        if self.session is not None:
            args["session"] = self.sid(env)
        self.s.send({"jsonrpc": "2.0", "id": self.s.next_id, "method": "tools/call",
                     "params": {"name": "run", "arguments": args}})
        return self.s.next_id

    def hold(self, inspect, env="probe"):
        """Run code that waits (a sleep the test ends) and, while it waits,
        call inspect(host pid of that sleep). Returns (what inspect
        returned, the run's result)."""
        marker = held()
        rid = self.send("sleep %s; echo released" % marker, env)
        pid = wait_for_sleep(self.s, marker)
        got = inspect(pid) if pid else None
        release(pid)
        m = self.s.read(30, lambda m: m.get("id") == rid)
        return got, (m or {}).get("result")


# Ordering by events, not by time: a run's code waits in `sleep <marker>`
# (far longer than any timeout) until the test ends that sleep with SIGTERM.
# (Files the test creates in the project directory are no signal: the
# sandbox sees the project through an overlay, which need not show them.)
def held():
    return "3600.%d" % random.randrange(1 << 30)


def wait_for_sleep(server, marker, timeout=20):
    """The host pid of the sandbox process `sleep <marker>`, once it runs."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pid = next((p for p, _ in descendants(server.p.pid) if cmdline(p) == "sleep " + marker), None)
        if pid:
            return pid
        time.sleep(0.02)
    return None


def release(pid):
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def sandbox_init(pid):
    """The host pid of the init (pid 1) of pid's sandbox."""
    ns = os.readlink("/proc/%d/ns/pid" % pid)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink("/proc/%s/ns/pid" % d) == ns and status(int(d))["NSpid"].split()[-1] == "1":
                    return int(d)
            except (OSError, KeyError):
                pass
    return None


CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
ZERO_CAPS = "".join("%s:\t0000000000000000\n" % c for c in CAPS)


# --- the walls ----------------------------------------------------------------------
def check_namespaces(m):
    o, st = m.out("for n in user pid mnt net ipc uts cgroup; do echo $n $(readlink /proc/self/ns/$n); done")
    inside = dict(l.split(" ", 1) for l in o.splitlines() if " " in l)
    server = {n: os.readlink("/proc/%d/ns/%s" % (m.s.p.pid, n)) for n in HOST_NS}
    same = [n for n in HOST_NS if inside.get(n) in (HOST_NS[n], server[n])]
    m.ok(set(inside) == set(HOST_NS) and not same,
         "all seven namespaces (user pid mnt net ipc uts cgroup) differ from the host's and the server's",
         (same, inside, HOST_NS))
    o, st = m.out("uname -n; cat /proc/sys/kernel/hostname")
    m.ok(o == "sandbox\nsandbox\n" and socket.gethostname() != "sandbox", "uts: the hostname is the sandbox's own", o)


def check_identity(m):
    o, st = m.out("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; id -un")
    maps = [l.split() for l in o.splitlines()[:2]]
    want = [["1000", str(m.host_id), "1"]] * 2
    m.ok(maps == want and o.splitlines()[2:] == ["1000", "1000", "sandbox"],
         "uid/gid 1000 \"sandbox\", mapped to host %d only" % m.host_id, o)
    o, st = m.out("grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status")
    m.ok(o == ZERO_CAPS + "NoNewPrivs:\t1\nSeccomp:\t2\n",
         "the code has no capability, no_new_privs and a seccomp filter", o)


def check_init(m):
    # Inside: pid 1's capabilities are empty and its /proc files belong to
    # an unmapped root (non-dumpable), where the code's own are 1000's.
    o, st = m.out("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/1/status; stat -c '%u %g' /proc/1/environ /proc/self/environ; "
                  "cat /proc/1/environ >/dev/null 2>&1 && echo readable || echo unreadable; cat /proc/1/comm")
    m.ok(o == ZERO_CAPS + "65534 65534\n1000 1000\nunreadable\nsandbox-init\n",
         "pid 1 (sandbox-init) has no capability and is not dumpable (its /proc is not the sandbox user's)", o)

    # From the host: the same init, next to one of the code's processes.
    def inspect(pid):
        init = sandbox_init(pid)
        if not init:
            return None
        caps = "".join("%s:\t%s\n" % (c, status(init).get(c)) for c in CAPS)
        return (caps, os.stat("/proc/%d/environ" % init).st_uid, os.stat("/proc/%d/environ" % pid).st_uid,
                cmdline(init), {n: os.readlink("/proc/%d/ns/%s" % (init, n)) == HOST_NS[n] for n in ("ipc", "uts")})
    got, r = m.hold(inspect)
    m.ok(got == (ZERO_CAPS, 0, m.host_id, "sandbox-init", {"ipc": False, "uts": False})
         and sc(r).get("stdout") == "released\n",
         "from the host: the init has no capability, is not dumpable (root-owned /proc, the code's: %d), "
         "argv blanked, own ipc and uts namespaces" % m.host_id, (got, sc(r)))


def check_syscalls(m):
    o, st = m.out("probe syscalls")
    diff = walls.syscall_diff(o)
    m.ok(o and not diff, "all %d probe calls give exactly the expected result (EPERM for each denied call)"
         % len(walls.SYSCALLS), diff or st)
    for abi in ("x32", "i386"):
        desc = "a %s system call kills the process with SIGSYS" % abi
        if abi == "i386" and not I386:
            walls.skip(t, "[%s] %s" % (m.label, desc), I386_WHY)
            continue
        o, st = m.out("probe %s; echo rc=$?" % abi)
        m.ok(o == "rc=159\n", desc + " (status 128 + 31)", st)


def check_filesystem(m):
    o, st = m.out("ls -A / | tr '\\n' ' '; echo; ls -A /dev | tr '\\n' ' '")
    lines = o.split("\n") + ["", ""]
    root = walls.ROOT_WITH_SESSION_PROJECT if m.session else walls.ROOT_WITH_PROJECT
    m.ok(set(lines[0].split()) == root and set(lines[1].split()) == walls.DEV,
         "/ and /dev hold exactly the documented entries", o)
    o, st = m.out("for p in /home /root /etc/shadow /sys /var /boot /etc/nix /run/systemd /run/user /mnt /opt "
                  "/srv /lib /lib64 /sbin /nix/var %s; do [ -e $p ] && echo \"$p visible\"; done; echo checked" % PDIR)
    m.ok(o == "checked\n", "no host path is visible", o)
    o, st = m.out("ls /nix/store | wc -l")
    m.ok(o == "%d\n" % ENVS["probe"]["closure_paths"],
         "/nix/store holds exactly the %d closure paths" % ENVS["probe"]["closure_paths"], o)
    o, st = m.out("cat /etc/passwd; echo --; cat /etc/group; echo --; cat /etc/hosts")
    m.ok(o == walls.ETC_PASSWD + "--\n" + walls.ETC_GROUP + "--\n127.0.0.1\tlocalhost sandbox\n::1\tlocalhost sandbox\n",
         "/etc/passwd, /etc/group and /etc/hosts are the synthetic ones", o)
    o, st = m.out("for p in / /nix/store /project /etc /bin /usr/bin /dev /run/sandbox /proc/sys; do "
                  "touch $p/nsm-w 2>/dev/null && echo \"$p writable\"; done; "
                  "touch /workspace/w /tmp/w && echo workspace-tmp-ok; rm -f /workspace/w /tmp/w; cat /project/hello.txt")
    m.ok(o == "workspace-tmp-ok\nproject file\n", "only /workspace and /tmp are writable; /project is readable", o)
    sh, env_bin = TABLE.get("probe", {}).get("sh", "?"), TABLE.get("probe", {}).get("env_bin", "?")
    o, st = m.out("readlink /bin/sh /usr/bin/env; /usr/bin/env printf 'env %s\\n' \"$HOME\"; "
                  "printf '#!/usr/bin/env bash\\necho \"shebang $BASH_VERSINFO\"\\n' > /tmp/s.sh; chmod +x /tmp/s.sh; "
                  "/tmp/s.sh; rm /tmp/s.sh; sh -c 'echo sh-ok'")
    m.ok(re.fullmatch(r"%s\n%s\nenv /workspace\nshebang \d+\nsh-ok\n" % (re.escape(sh), re.escape(env_bin)), o),
         "/bin/sh and /usr/bin/env are links to the environment's, and work (a #!/usr/bin/env script runs)",
         (o, st.get("stderr")))


def check_environment(m):
    # The interpreter's (or session agent's) own initial environment.
    o, st = m.out("tr '\\0' '\\n' < /proc/$$/environ")
    diff = walls.env_diff(o, TABLE.get("probe", {}).get("root", "?"), session=m.session is not None)
    m.ok(o and not diff, "the environment is exactly the documented set", (diff, o))
    o, st = m.out("probe fds")
    m.ok(o == "0 1 2 \n", "a program inherits only stdio", o)


def check_network(m):
    o, st = m.out("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; grep -c . /proc/net/route")
    m.ok(o == "lo\n1\n", "the only interface is lo, with no route", o)
    o, st = m.out("probe connect %d" % PORT)
    m.ok(o == "connect ECONNREFUSED\n", "the host's loopback listener is unreachable", o)
    o, st = m.out("probe unix %s" % ABSTRACT)
    m.ok(o == "unix ECONNREFUSED\n", "the host's abstract unix socket is unreachable", o)
    o, st = m.out("probe connect %d; probe unix %s" % (PORT, ABSTRACT), env="hostnet")
    m.ok(o == "connect OK\nunix OK\n", "control: with network = \"host\" both connects succeed", o)
    for sock in (lsock, usock):  # take what the control connected, so backlogs never fill
        sock.setblocking(False)
        try:
            while True:
                sock.accept()[0].close()
        except BlockingIOError:
            pass


def check_limits(m):
    # (A session's agent keeps a few kB in /tmp: the file gets what is left.)
    cap = PROBE_LIMITS["workspace_mb"] << 20
    o, st = m.out("for d in /tmp /workspace; do head -c %d /dev/zero > $d/fill; echo \"$d rc=$?\"; stat -c %%s $d/fill; "
                  "df -k $d | tail -1 | tr -s ' ' | cut -d' ' -f2; rm $d/fill; done" % (cap + (4 << 20)))
    got = o.split("\n")
    want = ["/tmp rc=1", None, str(cap >> 10), "/workspace rc=1", None, str(cap >> 10), ""]
    sizes_ok = len(got) == 7 and all(g.isdigit() and cap - (1 << 20) < int(g) <= cap for g in (got[1], got[4]))
    m.ok(sizes_ok and [g if w is not None else None for g, w in zip(got, want)] == want
         and st.get("stderr", "").count("No space left on device") == 2,
         "/tmp and /workspace are %d MB tmpfs: a bigger file stops at their size (ENOSPC)" % PROBE_LIMITS["workspace_mb"],
         st)
    o, st = m.out("probe forks")
    n = PROBE_LIMITS["max_processes"]
    mm = re.fullmatch(r"forked (\d+) then EAGAIN; (\d+) processes\n", o)
    m.ok(mm and int(mm.group(2)) in (n, n + 1),
         "the process limit: fork fails with EAGAIN at %d processes in the sandbox (+ its init)" % n, st)
    o, st = m.out("ulimit -n; probe nofile")
    nf = ENVS["probe"]["limits"]["max_open_files"]
    m.ok(o == "%d\nopened %d then EMFILE\n" % (nf, nf - 3),
         "the open-file limit: %d descriptors (stdio + %d opened, then EMFILE)" % (nf, nf - 3), st)
    fs = ENVS["python"]["limits"]["max_file_size_mb"] << 20
    o, st = m.out("import errno, os\nf = open('/workspace/big', 'wb', buffering=0)\n"
                  "try:\n    while True: f.write(b'\\0' * (1 << 20))\n"
                  "except OSError as e: print('stopped at', os.path.getsize('/workspace/big'), errno.errorcode[e.errno])\n"
                  "os.remove('/workspace/big')", env="python")
    m.ok(o == "stopped at %d EFBIG\n" % fs, "the file-size limit: writes stop at %d MiB with EFBIG" % (fs >> 20), st)
    r = m.run("a = bytearray(2 * 1024 ** 3)\nprint('allocated')", env="python")
    st = sc(r)
    m.ok(st.get("timed_out") is False and st.get("stdout") == "" and
         (st.get("stderr", "").endswith("MemoryError\n") or "[killed: out of memory" in text_of(r)),
         "the memory limit: a 2 GiB allocation fails (MemoryError or OOM kill)", st)


def check_tools(m):
    o, st = m.out("cd /tmp && jq -c '.a' <<< '{\"a\":[1,2]}' && printf 'scale=3; 1/8\\n' | bc && "
                  "mkdir -p d/e && touch d/e/f && tree d | tail -1 && printf '%%PDF-1.4\\n' > x.pdf && "
                  "file -b --mime-type x.pdf; rm -rf d x.pdf", env="shell")
    m.ok(o == "[1,2]\n.125\n2 directories, 1 file\napplication/pdf\n", "shell preset: jq, bc, tree and file run", st)
    o, st = m.out("import yaml\nprint(yaml.safe_load('a: [1, 2]'), yaml.safe_dump({'b': [3]}), end='')", env="python")
    m.ok(o == "{'a': [1, 2]} b:\n- 3\n", "python preset: PyYAML loads and dumps", st)


CHECKS = (check_namespaces, check_identity, check_init, check_syscalls, check_filesystem, check_environment,
          check_network, check_limits, check_tools)


def start(argv):
    """A server from argv, initialized; (server, None) or (None, why)."""
    s = Server(argv[0], argv[1:])
    r = s.initialize()
    if not r or "result" not in r:
        return None, "the server did not start: %s" % s.err.decode(errors="replace")[-500:]
    return s, None


def all_walls(s, host_id, who):
    for session in (None, "walls"):
        m = Mode(s, host_id, "%s, %s" % (who, "one-shot" if session is None else "session"), session)
        for check in CHECKS:
            check(m)


me = os.geteuid()
s, why = start([BIN, "--project", PDIR])
if not s:
    t.ok(False, "the server starts", why)
    sys.exit(t.done())
all_walls(s, 65534 if me == 0 else me, "server as uid %d" % me)

# --- session-only promises --------------------------------------------------------
m = Mode(s, None, "server as uid %d, session" % me, "limits")
# The interpreter killed for memory: its own message reaches the caller, the
# result says how it ended and that the state is lost; the next call says
# the session was restarted.
r = m.run("const a = []; for (;;) a.push(new Array(1e6).fill(1.5))", env="node")
st, txt = sc(r), text_of(r)
rlimit_death = ("JavaScript heap out of memory" in st.get("stderr", "")
                and re.search(r"\[killed by signal \d+; the interpreter died: the session's state was lost", txt))
m.ok(r and r.get("isError") and st.get("timed_out") is False and st.get("exit_code") is None
     and (rlimit_death or "[killed: out of memory" in txt),
     "node killed for memory: reported with its out-of-memory message, the signal and the lost state",
     (txt[-600:], {k: v for k, v in st.items() if k != "stderr"}))
r = m.run("console.log('fresh')", env="node")
m.ok(sc(r).get("stdout") == "fresh\n" and text_of(r).startswith("fresh\n[the session was restarted: previous state lost (its interpreter ended or "
                                                      "was killed in an earlier call)]"),
     "the next call runs in a fresh interpreter and says so", text_of(r))
r = s.run("const a = []; for (;;) a.push(new Array(1e6).fill(1.5))", "node")
st, txt = sc(r), text_of(r)
Mode(s, None, "server as uid %d, one-shot" % me).ok(
    r and r.get("isError") and st.get("timed_out") is False and st.get("exit_code") is None
    and (("JavaScript heap out of memory" in st.get("stderr", "") and re.search(r"\[killed by signal \d+;", txt))
         or "[killed: out of memory" in txt),
    "the same hog in a one-shot run: its out-of-memory message and the signal (or the OOM kill)", txt[-600:])

# The queue of one session: with a call running, 16 more wait; the 17th is
# refused at once (while the first still runs), and the 16 all run, in order.
QMAX = 16
m.run("echo up")
marker = held()
first = m.send("sleep %s; echo first" % marker)
pid = wait_for_sleep(s, marker)
queued = [m.send("echo q%d" % i) for i in range(1, QMAX + 1)]
extra = m.send("echo one-too-many")
refusal = s.read(30, lambda msg: msg.get("id") == extra)
early = [msg for msg in s.pending if msg.get("id") in queued + [first]]
release(pid)
r = (refusal or {}).get("result", {})
m.ok(pid and r.get("isError") and "already has %d calls waiting" % QMAX in text_of(r) and not early,
     "the %dth waiting call is refused at once, while the first still runs" % (QMAX + 1), (pid, r, early))
answers = [s.read(30, lambda msg, i=i: msg.get("id") == i) for i in [first] + queued]
outs = [sc((a or {}).get("result")).get("stdout") for a in answers]
m.ok(outs == ["first\n"] + ["q%d\n" % i for i in range(1, QMAX + 1)],
     "the running call and the %d waiting ones all ran, in order" % QMAX, outs)
t.ok(not s.garbage, "stdout carried only JSON-RPC messages", s.garbage[:3])
t.ok(s.close() == 0, "clean exit")

# --- the same walls with the server as an unprivileged user ---------------------------
if me != 0:
    walls.skip(t, "the walls with an unprivileged server",
               "the test runs as uid %d: every check above was already made with an unprivileged server" % me)
elif not shutil.which("setpriv"):
    walls.skip(t, "the walls with an unprivileged server", "setpriv (util-linux) is not installed")
else:
    uid = UNPRIVILEGED_UID
    s, why = start(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", BIN, "--project", PDIR])
    if not s:
        walls.skip(t, "the walls with an unprivileged server (uid %d)" % uid, why.replace("\n", " ")[:300])
    else:
        st = status(s.p.pid)
        t.ok(st["Uid"].split()[0] == str(uid) and st["CapEff"] == "0000000000000000",
             "the server runs as uid %d without capabilities" % uid, st.get("Uid"))
        all_walls(s, uid, "server as uid %d" % uid)
        t.ok(not s.garbage, "stdout carried only JSON-RPC messages", s.garbage[:3])
        t.ok(s.close() == 0, "clean exit of the unprivileged server")

lsock.close()
usock.close()
shutil.rmtree(PDIR, ignore_errors=True)
sys.exit(t.done())
