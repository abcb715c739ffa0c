"""A small line-level MCP client for the integration tests.

Starts the server binary, writes JSON-RPC lines to its stdin and reads lines
from its stdout with a deadline. Every line on stdout must be a JSON object:
anything else is recorded in `garbage` (stdout carries only protocol)."""
import ctypes
import json
import os
import select
import subprocess
import sys
import time


class Server:
    def __init__(self, binary, args=(), env=None, cwd=None):
        self.p = subprocess.Popen(
            [binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, cwd=cwd)
        os.set_blocking(self.p.stdout.fileno(), False)
        os.set_blocking(self.p.stderr.fileno(), False)
        self.buf = b""
        self.err = b""
        self.garbage = []
        self.pending = []   # messages read but not yet consumed
        self.next_id = 1000
        # NSM_SERVER_LOG_DIR (integration/run.sh): every server's stderr is
        # kept there at exit, named by test and pid, so a failure in CI can
        # be read afterwards.
        if os.environ.get("NSM_SERVER_LOG_DIR"):
            import atexit
            atexit.register(self._keep_log)

    def _keep_log(self):
        try:
            self._fill(0)
        except (OSError, ValueError):
            pass
        name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
        os.makedirs(os.environ["NSM_SERVER_LOG_DIR"], exist_ok=True)
        path = os.path.join(os.environ["NSM_SERVER_LOG_DIR"], "%s-%d.log" % (name, self.p.pid))
        with open(path, "wb") as f:
            f.write(self.err)

    # -- raw ----------------------------------------------------------------
    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, obj):
        self.send_raw(json.dumps(obj) + "\n")

    def _fill(self, timeout):
        r, _, _ = select.select([self.p.stdout, self.p.stderr], [], [], timeout)
        got = False
        for f in r:
            chunk = f.read()
            if f is self.p.stderr:
                self.err += chunk or b""
                continue
            if chunk:
                self.buf += chunk
                got = True
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            try:
                msg = json.loads(line)
                if not isinstance(msg, dict):
                    raise ValueError
                self.pending.append(msg)
            except ValueError:
                self.garbage.append(line)
        return got

    def read(self, timeout=10.0, match=None):
        """Next message (matching `match` if given) within timeout, or None."""
        end = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.pending):
                if match is None or match(m):
                    return self.pending.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                return None
            self._fill(min(left, 0.5))

    def drain(self, timeout=0.3):
        """Every message that arrives within timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._fill(end - time.monotonic())
        out, self.pending = self.pending, []
        return out

    # -- JSON-RPC -----------------------------------------------------------
    def request(self, method, params=None, timeout=30.0, id=None):
        if id is None:
            self.next_id += 1
            id = self.next_id
        msg = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.read(timeout, lambda m: m.get("id") == id and ("result" in m or "error" in m))

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def initialize(self, version="2025-06-18"):
        r = self.request("initialize", {"protocolVersion": version, "capabilities": {},
                                        "clientInfo": {"name": "tests", "version": "0"}})
        self.notify("notifications/initialized")
        return r

    def run(self, code, env, session=None, timeout=60.0, **extra):
        args = {"code": code, "env": env}
        if session is not None:
            args["session"] = session
        args.update(extra)
        r = self.request("tools/call", {"name": "run", "arguments": args}, timeout=timeout)
        return r["result"] if r and "result" in r else r

    def alive(self):
        r = self.request("ping", timeout=5)
        return r is not None and r.get("result") == {}

    def close(self, timeout=10):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = None
        self._fill(0)
        return rc


def _proc_table():
    """{pid: (ppid, state)} of every process now."""
    table = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    rest = f.read().rsplit(")", 1)[1].split()
                table[int(d)] = (int(rest[1]), rest[0])
            except (OSError, IndexError, ValueError):
                pass
    return table


def descendants(pid):
    """(host pid, state) of every process whose ancestry reaches pid: every
    process of every sandbox of a running server, spare sandboxes included.
    Meaningless once the server is gone (its leftovers are then reparented):
    record them with Watch while it runs."""
    table = _proc_table()
    found = []
    for p in table:
        q = p
        while q in table and q > 1:
            q = table[q][0]
            if q == pid:
                found.append((p, table[p][1]))
                break
    return found


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _pid_ns(pid):
    try:
        return os.readlink("/proc/%d/ns/pid" % pid)
    except OSError:
        return None


def _idle_spare(ps):
    """The processes of one pid namespace are a spare still waiting for its
    code: its init, and in a Python or Node environment the warm launcher
    (csrc/jail.h, "Warm start"; before its execve it still reads as
    sandbox-init), whose code file is still empty (init creates it, then
    waits for the code)."""
    for p in ps:
        c = cmdline(p)
        if c == "sandbox-init":
            continue
        if "_warm." not in c:
            return False
        try:
            d = "/proc/%d/root/run/sandbox" % p
            if any(os.stat(os.path.join(d, n)).st_size for n in os.listdir(d)):
                return False
        except OSError:
            return False
    return True


def session_spares(server):
    """Init pids of the session sandboxes the server prepared ahead and that
    no session took yet (csrc/pool.c, "Session spares"), from its log: the
    server must run with --log-level debug."""
    import re
    server._fill(0.05)
    text = server.err.decode(errors="replace")
    ready = set(int(m) for m in re.findall(r"pool: session spare (\d+) ready", text))
    gone = set(int(m) for m in re.findall(r"session spare (\d+) (?:taken|discarded|ended)", text))
    return ready - gone


def one_shot_spares(server, env):
    """Init pids of env's one-shot spares (csrc/pool.c) that are ready, not
    taken and alive, from the server's debug log."""
    import re
    server._fill(0.05)
    text = server.err.decode(errors="replace")
    ready = set(int(m) for m in re.findall(r"pool: spare (\d+) ready for %s\n" % re.escape(env), text))
    gone = set(int(m) for m in re.findall(r"pool: spare (\d+) (?:discarded|ended)", text))
    gone |= set(int(m) for m in re.findall(r"\(spare (\d+) taken\)", text))
    return {p for p in ready - gone if os.path.exists("/proc/%d" % p)}


def spare_processes(server):
    """Every process of the session spares: each spare's pid namespace, and
    its project refresher (outside that namespace, in its mount namespace)."""
    inits = session_spares(server)
    pid_ns = {_pid_ns(p) for p in inits} - {None}
    mnt_ns = set()
    for p in inits:
        try:
            mnt_ns.add(os.readlink("/proc/%d/ns/mnt" % p))
        except OSError:
            pass
    out = set()
    for p, _ in descendants(server.p.pid):
        try:
            mnt = os.readlink("/proc/%d/ns/mnt" % p)
        except OSError:
            mnt = None
        if _pid_ns(p) in pid_ns or mnt in mnt_ns:
            out.add(p)
    return out


def _cgroup_mounts():
    """{hierarchy key: mount point}: "" for cgroup v2, and each controller of
    a cgroup v1 hierarchy (from its super options) for that hierarchy."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rest = left.split(), right.split()
            if len(fields) < 5 or len(rest) < 3:
                continue
            if rest[0] == "cgroup2":
                mounts.setdefault("", fields[4])
            elif rest[0] == "cgroup":
                for opt in rest[2].split(","):
                    mounts.setdefault(opt, fields[4])
    return mounts


def _cgroup_dirs(pid, mounts):
    """The cgroup directories of pid on the host, one per hierarchy
    (/proc/PID/cgroup lines: "0::PATH" for v2, "N:CONTROLLERS:PATH" for v1)."""
    dirs = []
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            lines = f.read().splitlines()
    except OSError:
        return dirs
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, ctrls, path = parts
        if ctrls == "":
            mnt = mounts.get("")
        else:
            mnt = next((mounts[c] for c in ctrls.split(",") if c in mounts), None)
        if mnt:
            dirs.append(os.path.normpath(mnt + "/" + path))
    return dirs


_subreaper = False


def _become_subreaper():
    """Sandbox inits the server leaves behind (it did not reap them) are
    reparented to this test process instead of pid 1 (prctl(2),
    PR_SET_CHILD_SUBREAPER), so a test can tell an orderly exit, where the
    server reaped every sandbox itself, from one that left them to others."""
    global _subreaper
    if not _subreaper:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(36, 1, 0, 0, 0) != 0:   # PR_SET_CHILD_SUBREAPER
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        _subreaper = True


class Watch:
    """The sandboxes of one server, recorded while it runs, so that their end
    can be checked when they are no longer its descendants (after it exited).

    Each process is held as a pidfd: immune to pid reuse, and readable once
    the process has exited (a zombie waiting for its new parent counts as
    gone: it runs nothing). The cgroup directories the server made for its
    sandboxes are recorded too: v2 sandbox-PID-N beside the server's group,
    v1 nix-sandbox-mcp-PID/sandbox-N under it in each hierarchy (none in
    rlimit mode). Creating a Watch makes this process a child subreaper (see
    orphans)."""

    def __init__(self, server_pid):
        _become_subreaper()
        self.server = server_pid
        self.fds = {}        # host pid -> (pidfd, cmdline when last seen)
        self.cgroups = set()
        self.mounts = _cgroup_mounts()
        self.server_cgs = set(_cgroup_dirs(server_pid, self.mounts))
        self.v1_parent = "nix-sandbox-mcp-%d" % server_pid

    def _add_cgroups(self, pid, with_parent):
        """pid's sandbox groups; with_parent also the v1 parent, which lives
        as long as the server (not for checks while it runs)."""
        for d in _cgroup_dirs(pid, self.mounts):
            if d in self.server_cgs or not os.path.basename(d).startswith("sandbox-"):
                continue
            self.cgroups.add(d)
            if with_parent and os.path.basename(os.path.dirname(d)) == self.v1_parent:
                self.cgroups.add(os.path.dirname(d))

    def _list_cgroups(self):
        """Groups whose processes came and went between two scans."""
        for d in self.server_cgs | {os.path.dirname(d) for d in self.server_cgs}:
            try:
                names = os.listdir(d)
            except OSError:
                continue
            self.cgroups.update(os.path.join(d, n) for n in names
                                if n.startswith("sandbox-%d-" % self.server))
        for d in self.server_cgs:
            parent = os.path.join(d, self.v1_parent)
            try:
                names = os.listdir(parent)
            except OSError:
                continue
            self.cgroups.add(parent)
            self.cgroups.update(os.path.join(parent, n) for n in names if n.startswith("sandbox-"))

    def record_marked(self, marker):
        """Add the processes of the sandboxes (pid namespaces) in which a
        process's command line holds marker: one session's sandbox, say, and
        not the spares the server prepares beside it (a session spare runs
        an agent too, so busy_only cannot tell it from an idle session)."""
        by_ns = {}
        for p, _ in descendants(self.server):
            by_ns.setdefault(_pid_ns(p), []).append(p)
        for ns, ps in by_ns.items():
            if ns and any(marker in cmdline(p) for p in ps):
                for p in ps:
                    if p not in self.fds:
                        try:
                            self.fds[p] = (os.pidfd_open(p), cmdline(p))
                        except ProcessLookupError:
                            continue
                        self._add_cgroups(p, False)
        return len(self.fds)

    def record(self, busy_only=False, exclude=()):
        """Add every descendant of the server not yet recorded. busy_only:
        only the sandboxes running something (a pid namespace with more than
        its init), i.e. not the idle spares; for checks while the server
        lives, when a spare it just prepared must stay. exclude: pids not to
        record (spare_processes: the session spares, which run an agent)."""
        procs = [p for p, _ in descendants(self.server) if p not in exclude]
        if busy_only:
            by_ns = {}
            for p in procs:
                by_ns.setdefault(_pid_ns(p), []).append(p)
            procs = [p for ns, ps in by_ns.items() if ns and len(ps) > 1 and not _idle_spare(ps)
                     for p in ps]
        for p in procs:
            if p in self.fds:
                # After an exec (setsid sleep -> sleep): the current name;
                # a process being killed (a zombie) reads as "": keep the
                # name it had.
                name = cmdline(p)
                if name and name != "?":
                    self.fds[p] = (self.fds[p][0], name)
                continue
            try:
                fd = os.pidfd_open(p)
            except ProcessLookupError:
                continue
            self.fds[p] = (fd, cmdline(p))
            self._add_cgroups(p, not busy_only)
        if not busy_only:
            self._list_cgroups()
        return len(self.fds)

    def alive(self):
        """Recorded processes that have not exited yet: [(pid, cmdline)]."""
        p = select.poll()
        for fd, _ in self.fds.values():
            p.register(fd, select.POLLIN)
        ready = {fd for fd, _ in p.poll(0)}
        return [(pid, cmd) for pid, (fd, cmd) in self.fds.items() if fd not in ready]

    def cgroups_left(self):
        """Recorded cgroup directories that still exist."""
        return sorted(d for d in self.cgroups if os.path.isdir(d))

    def wait_gone(self, timeout=10.0, cgroups=True):
        """Wait (on the pidfds, no sleeping) until every recorded process has
        exited and, with cgroups, every recorded cgroup directory is removed,
        at most timeout seconds. Returns what is left: [(pid, cmdline)] and
        directories."""
        end = time.monotonic() + timeout
        while True:
            left = self.alive()
            if not left:
                break
            wait = end - time.monotonic()
            if wait <= 0:
                return left + (self.cgroups_left() if cgroups else [])
            p = select.poll()
            for pid, _ in left:
                p.register(self.fds[pid][0], select.POLLIN)
            p.poll(max(1, int(wait * 1000)))
        # No event for an rmdir: poll it, until the same deadline.
        while cgroups:
            dirs = self.cgroups_left()
            if not dirs or time.monotonic() > end:
                return dirs
            time.sleep(0.05)
        return []

    def orphans(self):
        """Recorded processes the server left for us to reap, running or
        not (reaped here if they have exited). After an orderly exit (end of
        input, SIGTERM, SIGINT) there must be none: the server kills and
        reaps every sandbox before it exits. After SIGKILL every init is
        one (it is gone, but only by the kernel's doing)."""
        left = []
        for pid, (_, cmd) in self.fds.items():
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                continue          # not ours: the server reaped it, or it
                                  # lived inside a sandbox, under its init
            left.append((pid, cmd))
        return left

    def after_exit(self, orderly, timeout=10.0):
        """The server has exited: what is wrong. Every recorded process gone
        within timeout; after an orderly exit also every recorded cgroup
        directory removed and no orphan. Reaps the orphans either way. (A
        server killed with SIGKILL cannot remove its groups: the next server
        removes them at its start; check that with cgroups_left.)"""
        left = self.wait_gone(timeout, cgroups=orderly)
        orphans = self.orphans()
        return left + (["orphan: %s %s" % o for o in orphans] if orderly else [])

    def close(self):
        self.orphans()
        for fd, _ in self.fds.values():
            os.close(fd)
        self.fds = {}


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=None, todo=None):
        """todo: a known gap, why; when cond fails the line says
        `# TODO todo` and counts as no failure (tests/run.sh lists it)."""
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, desc), flush=True)
        else:
            if not todo:
                self.failed += 1
            print("not ok %d - %s%s" % (self.n, desc, " # TODO " + todo if todo else ""), flush=True)
            if detail is not None:
                for line in str(detail)[:2000].splitlines():
                    print("#   " + line, flush=True)
        return cond

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0
