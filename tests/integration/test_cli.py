"""The command line through the real binary: --project against PROJECT_DIR,
--doctor's kernel checks, --log-level and its refusal of a bad value, and the server's own memory
after a request line far over the 16 MiB line cap."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()


def sc(res):
    return (res or {}).get("structuredContent", {})


def project(marker):
    d = tempfile.mkdtemp(prefix="nsm-cli-")
    os.chmod(d, 0o755)
    with open(os.path.join(d, "marker"), "w") as f:
        f.write(marker + "\n")
    os.chmod(os.path.join(d, "marker"), 0o644)
    return d


def stderr_of(s):
    """Everything the server wrote to stderr, once it has exited."""
    s.close()
    try:
        rest = s.p.stderr.read() or b""
    except (OSError, ValueError):
        rest = b""
    return (s.err + rest).decode(errors="replace")


def env_without(*names):
    return {k: v for k, v in os.environ.items() if k not in names}


# --- --project beats PROJECT_DIR ----------------------------------------------
a, b = project("from PROJECT_DIR"), project("from --project")
CAT = "cat /project/marker 2>&1 || echo no-project"
s = Server(BIN, ["--project", b], env=dict(env_without("PROJECT_DIR"), PROJECT_DIR=a))
s.initialize()
st = sc(s.run(CAT, "shell"))
t.ok(st.get("stdout") == "from --project\n", "--project DIR wins over PROJECT_DIR", st)
s.close()
s = Server(BIN, [], env=dict(env_without("PROJECT_DIR"), PROJECT_DIR=a))
s.initialize()
st = sc(s.run(CAT, "shell"))
t.ok(st.get("stdout") == "from PROJECT_DIR\n", "PROJECT_DIR alone is mounted at /project", st)
s.close()
# The built-in path is "." (the test server sets none): the directory the
# server was started in, as an MCP client starts it in the project's root.
built_in = json.loads(subprocess.run([BIN, "--list-envs"], capture_output=True, text=True).stdout)["project"]["path"]
t.ok(built_in == ".", "the built-in project path defaults to \".\" (%r)" % built_in)
c = project("from the working directory")
os.mkdir(os.path.join(c, "sub"))
with open(os.path.join(c, "sub", "marker"), "w") as f:
    f.write("from sub\n")
os.chmod(os.path.join(c, "sub", "marker"), 0o644)
s = Server(BIN, [], env=env_without("PROJECT_DIR"), cwd=c)
s.initialize()
st = sc(s.run(CAT, "shell"))
t.ok(st.get("stdout") == "from the working directory\n",
     "without either, the directory the server was started in is mounted at /project", st)
err = stderr_of(s)
t.ok("project %s mounted read-only at /project (the built-in path" % os.path.realpath(c) in err,
     "and the start-up log says which directory and why", err[-600:])
s = Server(BIN, ["--project", "sub"], env=env_without("PROJECT_DIR"), cwd=c)
s.initialize()
st = sc(s.run(CAT, "shell"))
t.ok(st.get("stdout") == "from sub\n", "a relative --project is resolved against the working directory", st)
s.close()
s = Server(BIN, ["--no-project"], env=dict(env_without("PROJECT_DIR"), PROJECT_DIR=a), cwd=c)
s.initialize()
st = sc(s.run("test -e /project && echo present || echo absent", "shell"))
t.ok(st.get("stdout") == "absent\n", "--no-project mounts none (PROJECT_DIR and the built-in path ignored)", st)
s.close()
# A client that starts servers in / must not hand every sandbox the host's
# whole file system.
s = Server(BIN, [], env=env_without("PROJECT_DIR"), cwd="/")
s.initialize()
st = sc(s.run("test -e /project && echo present || echo absent", "shell"))
err = stderr_of(s)
t.ok(st.get("stdout") == "absent\n" and "is / here (the server was started in /); no project is mounted" in err,
     "started in /, the built-in \".\" mounts nothing and the log says why", (st, err[-600:]))
p = subprocess.run([BIN, "--project", c, "--no-project"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                   timeout=30)
t.ok(p.returncode == 2 and "exclude each other" in p.stderr, "--project with --no-project is refused", p.stderr)
p = subprocess.run([BIN, "--project", "/nonexistent/nsm-project"], stdin=subprocess.DEVNULL,
                   capture_output=True, text=True, timeout=30, env=dict(env_without("PROJECT_DIR"), PROJECT_DIR=a))
t.ok(p.returncode == 2 and "/nonexistent/nsm-project" in p.stderr and p.stdout == "",
     "a missing --project directory stops the server at start-up, naming it (PROJECT_DIR does not rescue it)",
     (p.returncode, p.stdout, p.stderr))
shutil.rmtree(a)
shutil.rmtree(b)
shutil.rmtree(c)

# --- --doctor ---------------------------------------------------------------------
# Every kernel feature the server relies on has a line of its own, here the
# ones sandboxes are created and reaped with (reaping is waitid(P_PIDFD),
# Linux 5.4+, a year after pidfd_open).
p = subprocess.run([BIN, "--doctor"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
doc = p.stdout.splitlines()
t.ok(p.returncode == 0 and "ok   pidfd_open works" in doc and "ok   waitid(P_PIDFD) works" in doc,
     "--doctor checks pidfd_open and waitid(P_PIDFD), each on a line of its own", p.stdout)
# What a root server (this machine) gives every sandbox beyond the kernel's
# defaults, each said by --doctor (README, Security model).
if os.geteuid() == 0:
    t.ok("ok   project: read as its owner would (idmapped mount), read-only" in doc
         and "ok   SysV IPC limits are set per sandbox (shared memory up to its memory limit)" in doc,
         "--doctor, as root: the project is read as its owner through an idmapped mount, SysV IPC limits are set",
         p.stdout)
    p2 = subprocess.run(["setpriv", "--reuid=43210", "--regid=43210", "--clear-groups", BIN, "--doctor"],
                        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    t.ok("SysV IPC limits of a sandbox are the kernel's defaults (the server is not root" in p2.stdout
         and "idmapped" not in p2.stdout,
         "--doctor, not root: says the SysV IPC limits are the kernel's defaults, no idmapped project", p2.stdout)
else:
    t.ok(True, "--doctor as root # SKIP not root")
    t.ok(True, "--doctor not root # SKIP needs root to switch users")

# --- --log-level ----------------------------------------------------------------
# What each level lets through to stderr, on the same work: start-up (info),
# a run (debug), a line over the cap (warning: "dropped a message").
LONG = b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"pad":"' + b"x" * (17 << 20) + b'"}}\n'


def levels_seen(args):
    s = Server(BIN, args)
    s.initialize()
    s.run("echo hi", "shell")
    s.send_raw(LONG)
    s.read(30, lambda m: m.get("error", {}).get("code") == -32600)
    alive = s.alive()
    err = stderr_of(s)
    seen = {lvl for lvl in ("debug", "info", "warning") if "nix-sandbox-mcp: %s: " % lvl in err}
    return seen, alive, err


for args, want in (([], {"info", "warning"}),
                   (["--log-level", "debug"], {"debug", "info", "warning"}),
                   (["--log-level", "info"], {"info", "warning"}),
                   (["--log-level", "warning"], {"warning"}),
                   (["--log-level", "error"], set())):
    seen, alive, err = levels_seen(args)
    t.ok(seen == want and alive, "%s: stderr carries exactly the %s lines" % (" ".join(args) or "no option (built-in info)",
                                                                              "/".join(sorted(want)) or "no"),
         (sorted(seen), err[-1500:]))
for bad in (["--log-level", "verbose"], ["--log-level", ""], ["--log-level"]):
    p = subprocess.run([BIN, *bad], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    t.ok(p.returncode == 2 and p.stdout == "" and ("--log-level" in p.stderr or "log-level" in p.stderr)
         and "jail:" not in p.stderr,
         "%r is refused at start-up (exit 2, a message, nothing served)" % " ".join(bad), (p.returncode, p.stdout, p.stderr))
p = subprocess.run([BIN, "--log-level", "verbose"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
t.ok("expected debug, info, warning or error" in p.stderr, "the refusal lists the levels", p.stderr)

# --- the server's peak memory after a 200 MiB request line ------------------------
# Lines over 16 MiB are answered with -32600 and skipped without being
# buffered: the server's peak RSS (VmHWM) stays near the cap, far from 200 MiB.


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def cpu_s(pid):
    """User + system CPU seconds the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


s = Server(BIN)
s.initialize()
s.run("echo warm", "shell")
before = vm(s.p.pid, "VmHWM")
cpu0 = cpu_s(s.p.pid)
chunk = b"x" * (1 << 20)


def writer():
    try:
        s.send_raw(b'{"jsonrpc":"2.0","id":"big","method":"ping","params":{"pad":"')
        for _ in range(200):
            s.send_raw(chunk)
        s.send_raw(b'"}}\n')
    except BrokenPipeError:
        pass


th = threading.Thread(target=writer)
th.start()
m = s.read(120, lambda m: "error" in m)
th.join(120)
after = vm(s.p.pid, "VmHWM")
cpu = cpu_s(s.p.pid) - cpu0
t.ok(m and m["error"].get("code") == -32600, "a 200 MiB line is answered with -32600", m)
t.ok(after is not None and after < 48 * 1024,
     "the server's peak RSS stays under 48 MiB after a 200 MiB line (VmHWM %s kB, %s kB before)" % (after, before))
# Skipping is one pass over the bytes (reading 200 MiB from a pipe costs a
# fraction of a second); CPU time, not wall-clock, so a slow machine or a
# slow writer does not count. A server that does work in proportion to what
# it holds of the line after every read (scan it again, or move it in
# place) spends tens of seconds here.
t.ok(cpu < 5, "the server skips the 200 MiB line in one pass: %.1f s of CPU (bound 5 s)" % cpu,
     "each read of the over-long line costs work in proportion to the part of it already "
     "buffered (up to the 16 MiB cap): see csrc/rpc.c drain_lines")
st = sc(s.run("echo after", "shell"))
t.ok(st.get("stdout") == "after\n", "the server runs code after the long line", st)
t.ok(not s.garbage, "stdout carried only JSON-RPC messages", s.garbage[:3])
t.ok(s.close() == 0, "clean exit")
sys.exit(t.done())
