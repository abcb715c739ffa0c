"""The project directory from the attacker's side: nothing under /project can
be written, nested mounts included, and in one-shot runs its socket files and
FIFOs reach no host process (README, Security model); from the user's side:
a session sees the project as it is now, also after the host edits it.
Needs root (to mount in the project); prints SKIP lines otherwise."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from mcp import Server, Tap, cmdline, descendants, spare_processes

BIN = os.environ["NSM_SERVER"]
t = Tap()

PROBE = r'''
import errno, json, os, socket
out = {}
def attempt(name, f):
    try:
        f(); out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
attempt("read", lambda: open("/project/f.txt").read())
for p in ("/project/new", "/project/f.txt", "/project/sub/new", "/project/tmpfs/new", "/project/bound/new",
          "/project/bound/old.txt"):
    if os.path.exists(os.path.dirname(p)):
        attempt("write " + p, lambda p=p: open(p, "a").write("x"))
attempt("mkdir", lambda: os.mkdir("/project/d"))
attempt("chmod", lambda: os.chmod("/project/f.txt", 0o777))
if os.path.exists("/project/bound/old.txt"):
    attempt("read bound", lambda: open("/project/bound/old.txt").read())
def conn():
    s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect("/project/agent.sock"); s.sendall(b"hello from the sandbox")
attempt("connect", conn)
def fifo(p="/project/fifo"):
    fd = os.open(p, os.O_WRONLY | os.O_NONBLOCK); os.write(fd, b"hello from the sandbox"); os.close(fd)
attempt("fifo", fifo)
if os.path.exists("/project/tmpfs/inner.sock"):
    def conn_nested():
        s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect("/project/tmpfs/inner.sock"); s.sendall(b"hello from the sandbox")
    attempt("connect nested", conn_nested)
    attempt("fifo nested", lambda: fifo("/project/tmpfs/inner.fifo"))
print(json.dumps(out, sort_keys=True))
'''


def probe(server, session=None):
    r = server.run(PROBE, "python", session=session)
    sc = (r or {}).get("structuredContent", {})
    try:
        return json.loads(sc.get("stdout", ""))
    except ValueError:
        return {"error": r}


if os.geteuid() != 0:
    for d in ("project walls (needs root to mount in the project)",):
        t.ok(True, "%s # SKIP not root" % d)
    sys.exit(t.done())

work = tempfile.mkdtemp(prefix="nsm-projwalls-")
os.chmod(work, 0o755)
mounted = []
listener = None
try:
    # A host service listening on a socket in the project, and a FIFO with
    # a host reader: what a sandbox must not reach.
    proj = os.path.join(work, "proj")
    os.makedirs(os.path.join(proj, "sub"))
    with open(os.path.join(proj, "f.txt"), "w") as f:
        f.write("project file\n")
    got = []
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(os.path.join(proj, "agent.sock"))
    os.chmod(os.path.join(proj, "agent.sock"), 0o777)
    listener.listen(4)
    listener.settimeout(0.2)
    stop = False

    def accept():
        while not stop:
            try:
                c, _ = listener.accept()
                got.append(c.recv(100))
                c.close()
            except OSError:
                pass
    th = threading.Thread(target=accept, daemon=True)
    th.start()
    fifo = os.path.join(proj, "fifo")
    os.mkfifo(fifo, 0o666)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)

    for sess in (None, "walls"):
        where = "in a session" if sess else "one-shot"
        s = Server(BIN, ["--project", proj, "--log-level", "debug"])
        s.initialize()
        o = probe(s, sess)
        t.ok(o.get("read") == "ok", "%s: the project reads" % where, o)
        writes = {k: v for k, v in o.items() if k.startswith("write")}
        # (f.txt is the host root's 0644 file: EACCES may come first there.)
        t.ok(writes and all(v == "EROFS" for k, v in writes.items() if k != "write /project/f.txt")
             and writes.get("write /project/f.txt") in ("EROFS", "EACCES") and o.get("mkdir") == "EROFS"
             and o.get("chmod") == "EROFS", "%s: nothing in the project can be written (EROFS)" % where, o)
        data = b""
        try:
            data = os.read(rfd, 100)
        except BlockingIOError:
            pass
        t.ok(o.get("connect") in ("ECONNREFUSED", "EACCES", "EPERM", "ENOENT") and not got,
             "%s: a socket file in the project reaches no host process (%s)" % (where, o.get("connect")),
             (o, got))
        t.ok(o.get("fifo") in ("ENXIO", "EROFS", "EACCES") and not data,
             "%s: a FIFO in the project reaches no host reader (%s)" % (where, o.get("fifo")), (o, data))
        if sess:
            # A session sees the project live: what the host changes between
            # calls, by rename (as editors save) or by creating a file the
            # session looked for before, is what the next call reads.
            r1 = s.run("cat /project/f.txt; cat /project/later.txt 2>&1 | head -c 20", "shell",
                       session="live")
            tmp = os.path.join(proj, "f.txt.tmp")
            with open(tmp, "w") as f:
                f.write("edited on the host\n")
            os.rename(tmp, os.path.join(proj, "f.txt"))
            with open(os.path.join(proj, "later.txt"), "w") as f:
                f.write("created later\n")
            r2 = s.run("cat /project/f.txt /project/later.txt", "shell", session="live")
            out2 = (r2 or {}).get("structuredContent", {}).get("stdout")
            t.ok(out2 == "edited on the host\ncreated later\n",
                 "in a session: the project is live (a renamed-over file and a file looked up before it existed)",
                 (r1, r2))
            os.remove(os.path.join(proj, "later.txt"))
            with open(os.path.join(proj, "f.txt"), "w") as f:
                f.write("project file\n")
            # The view is made again before each call, from a tree kept
            # where the sandbox user cannot go: still no way to the host.
            o = probe(s, sess)
            data = b""
            try:
                data = os.read(rfd, 100)
            except BlockingIOError:
                pass
            t.ok(o.get("connect") in ("ECONNREFUSED", "EACCES", "ENOENT") and o.get("fifo") in ("ENXIO", "EACCES")
                 and not got and not data, "in a session, a later call: sockets and FIFOs still reach no host "
                 "process", (o, got, data))
            r = s.run("import os, errno\nfor f in (lambda: os.listdir('/.project'), lambda: os.listdir('/.project/tree'),"
                      " lambda: os.chmod('/.project', 0o755), lambda: open('/.project/tree/f.txt').read()):\n"
                      "    try: f(); print('ok')\n    except OSError as e: print(errno.errorcode[e.errno])",
                      "python", session=sess)
            out = (r or {}).get("structuredContent", {}).get("stdout", "")
            t.ok(out.split() == ["EACCES", "EACCES", "EROFS", "EACCES"],
                 "in a session: the kept tree cannot be entered, listed or unlocked", r)
            spares = spare_processes(s)  # a session spare has its refresher too
            refreshers = [p for p, _ in descendants(s.p.pid)
                          if cmdline(p).startswith("sandbox-refresher") and p not in spares]
            t.ok(len(refreshers) == 2, "one project refresher runs beside each session's sandbox (two here)",
                 refreshers)
            s.close()
            t.ok(all(not os.path.exists("/proc/%d" % p) for p in refreshers),
                 "the refresher is gone when the server exits", refreshers)
            # A server killed with SIGKILL takes its refresher with it.
            s = Server(BIN, ["--project", proj, "--log-level", "debug"])
            s.initialize()
            s.run("print(1)", "python", session="k")
            refreshers = [p for p, _ in descendants(s.p.pid) if cmdline(p).startswith("sandbox-refresher")]
            s.p.kill()
            s.p.wait()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(os.path.exists("/proc/%d" % p) for p in refreshers):
                time.sleep(0.05)
            # (The session's, and a session spare's when one was made by then.)
            t.ok(1 <= len(refreshers) <= 2 and all(not os.path.exists("/proc/%d" % p) for p in refreshers),
                 "the refresher dies with a server killed by SIGKILL", refreshers)
        s.close()

    # What /proc tells about the host: the kernel command line and the
    # files Docker masks read empty; mountinfo does not name the project's
    # host path.
    s = Server(BIN, ["--project", proj, "--log-level", "debug"])
    s.initialize()
    r = s.run(r'''
import json, os
out = {}
for p in ("/proc/cmdline", "/proc/keys", "/proc/timer_list", "/proc/interrupts", "/proc/latency_stats"):
    try: out[p] = open(p, "rb").read(4096).decode(errors="replace")
    except OSError as e: out[p] = "errno %d" % e.errno
out["mountinfo"] = open("/proc/self/mountinfo").read()
out["status"] = open("/proc/self/status").read()[:5]
print(json.dumps(out))
''', "python")
    try:
        o = json.loads(r["structuredContent"]["stdout"])
    except (KeyError, TypeError, ValueError):
        o = {"error": r}
    with open("/proc/cmdline") as f:
        host_cmdline = f.read()
    t.ok(o.get("/proc/cmdline") == "" and host_cmdline, "/proc/cmdline is masked (the host's is %d bytes)"
         % len(host_cmdline), o.get("/proc/cmdline"))
    t.ok(all(o.get(p) in ("", "errno 2") for p in ("/proc/keys", "/proc/timer_list", "/proc/interrupts",
                                                  "/proc/latency_stats")),
         "/proc/keys, timer_list, interrupts, latency_stats read empty", o)
    t.ok(o.get("status") == "Name:", "/proc/self still works", o.get("status"))
    t.ok("mountinfo" in o and work not in o["mountinfo"] and "/project" in o["mountinfo"],
         "/proc/self/mountinfo does not name the project's host path", o.get("mountinfo"))
    s.close()

    # Nested mounts: a world-writable tmpfs and a bind of a writable host
    # directory inside the project. They must be read-only in the sandbox.
    tm = os.path.join(proj, "tmpfs")
    os.mkdir(tm)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777,size=1m", "tmpfs", tm], check=True)
    mounted.append(tm)
    host_rw = os.path.join(work, "host-rw")
    os.mkdir(host_rw)
    os.chmod(host_rw, 0o777)
    with open(os.path.join(host_rw, "old.txt"), "w") as f:
        f.write("old\n")
    os.chmod(os.path.join(host_rw, "old.txt"), 0o666)
    bound = os.path.join(proj, "bound")
    os.mkdir(bound)
    subprocess.run(["mount", "--bind", host_rw, bound], check=True)
    mounted.append(bound)
    # A socket with a host listener and a FIFO with a host reader inside the
    # nested tmpfs, too.
    nlistener = socket.socket(socket.AF_UNIX)
    nlistener.bind(os.path.join(tm, "inner.sock"))
    os.chmod(os.path.join(tm, "inner.sock"), 0o777)
    nlistener.listen(4)
    nlistener.setblocking(False)
    os.mkfifo(os.path.join(tm, "inner.fifo"), 0o666)
    nrfd = os.open(os.path.join(tm, "inner.fifo"), os.O_RDONLY | os.O_NONBLOCK)

    def reached():
        """What the host ends got since the last call (accepts, FIFO bytes)."""
        out = list(got)
        del got[:]
        try:
            while True:
                c, _ = nlistener.accept()
                out.append(c.recv(100))
                c.close()
        except OSError:
            pass
        for fd in (rfd, nrfd):
            try:
                data = os.read(fd, 100)
                if data:
                    out.append(data)
            except BlockingIOError:
                pass
        return out

    # As root the project is an idmapped copy of the tree, and a one-shot
    # run sees each nested mount through an overlay of its own; a server
    # that is not root binds the tree (overlayfs refuses locked nested
    # mounts in its user namespace) and says that sockets stay reachable.
    servers = [("root", [BIN, "--project", proj])]
    if shutil.which("setpriv"):
        servers.append(("uid 43210", ["setpriv", "--reuid=43210", "--regid=43210", "--clear-groups", BIN,
                                      "--project", proj]))
    else:
        t.ok(True, "nested mounts with an unprivileged server # SKIP setpriv (util-linux) is not installed")
    for who, argv in servers:
        for sess in (None, "walls-nested"):
            where = "nested mounts, %s, %s" % (who, "in a session" if sess else "one-shot")
            s = Server(argv[0], argv[1:])
            s.initialize()
            reached()
            o = probe(s, sess)
            ends = reached()
            writes = {k: v for k, v in o.items() if k.startswith("write")}
            t.ok(o.get("read") == "ok" and o.get("read bound") == "ok", "%s: the project and its mounts read" % where, o)
            # (f.txt is the host root's 0644 file: EACCES may come first there.)
            t.ok("write /project/tmpfs/new" in writes and "write /project/bound/new" in writes
                 and all(v == "EROFS" for k, v in writes.items() if k != "write /project/f.txt")
                 and writes.get("write /project/f.txt") in ("EROFS", "EACCES"),
                 "%s: no nested mount is writable (EROFS)" % where, o)
            t.ok(sorted(os.listdir(host_rw)) == ["old.txt"]
                 and open(os.path.join(host_rw, "old.txt")).read() == "old\n"
                 and sorted(os.listdir(tm)) == ["inner.fifo", "inner.sock"], "%s: the host's files are unchanged" % where)
            s._fill(0.3)
            if who == "root" and not sess:
                t.ok(o.get("connect") in ("ECONNREFUSED", "EACCES", "ENOENT")
                     and o.get("connect nested") in ("ECONNREFUSED", "EACCES", "ENOENT")
                     and o.get("fifo") in ("ENXIO", "EACCES") and o.get("fifo nested") in ("ENXIO", "EACCES")
                     and not ends, "%s: sockets and FIFOs in the project and in its nested mounts reach no host "
                     "process" % where, (o, ends))
                t.ok(b"nested in it" in s.err and b"overlay of its own" in s.err and b"reach host" not in s.err,
                     "%s: the start-up log says one-shot runs see each nested mount through its own overlay" % where,
                     s.err[-1500:])
            elif who != "root":
                t.ok(b"nested in it" in s.err and b"sockets and FIFOs" in s.err,
                     "%s: the start-up log says sockets and FIFOs stay reachable" % where, s.err[-1500:])
            if sess:
                READ = "import os\nprint(open('/project/tmpfs/host.txt').read() if os.path.exists('/project/tmpfs/host.txt') else 'none', end='')"
                r = s.run(READ, "python", session=sess)
                with open(os.path.join(tm, "host.txt"), "w") as f:
                    f.write("host wrote this\n")
                r = s.run(READ, "python", session=sess)
                t.ok((r or {}).get("structuredContent", {}).get("stdout") == "host wrote this\n",
                     "%s: a nested mount is live too" % where, r)
                os.remove(os.path.join(tm, "host.txt"))
            s.close()
    nlistener.close()
    os.close(nrfd)
finally:
    stop = True
    for m in reversed(mounted):
        subprocess.run(["umount", "-l", m])
    if listener:
        listener.close()
    shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())
