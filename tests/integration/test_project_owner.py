"""A root server's sandbox reads the project as its owner would (issue #9
item 6, README "Security model"): the sandbox is host uid 65534, so without
an idmapped mount a project of mode 0700 with 0600 files (a home directory's
checkout, a .env) read as "Permission denied". Checked from the user's side
(the owner's private files read, in one-shot runs and sessions, nested
mounts included) and from the attacker's (still nothing can be written, a
file of another user stays unreadable, nothing on the host changes).
Needs root; prints SKIP lines otherwise."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
OWNER = 43211   # the project's owner: a throwaway id, no user of this machine
STRANGER = 43212

PROBE = r'''
import errno, json, os
out = {}
def attempt(name, f):
    try:
        out[name] = f()
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
attempt("env", lambda: open("/project/.env").read())
attempt("deep", lambda: open("/project/private/key").read())
attempt("nested", lambda: open("/project/mnt/inner").read())
attempt("stranger", lambda: open("/project/stranger.txt").read())
attempt("root group", lambda: open("/project/root-group.txt").read())
attempt("owner group", lambda: open("/project/owner-group.txt").read())
attempt("owner", lambda: [os.stat(p).st_uid for p in ("/project", "/project/.env", "/project/stranger.txt")])
attempt("me", lambda: os.getuid())
attempt("write", lambda: open("/project/.env", "a").write("x"))
attempt("write nested", lambda: open("/project/mnt/inner", "a").write("x"))
attempt("create", lambda: open("/project/new", "w").write("x"))
attempt("chmod", lambda: os.chmod("/project/.env", 0o666))
attempt("chown", lambda: os.chown("/project/.env", 1000, 1000))
print(json.dumps(out, sort_keys=True))
'''


def probe(s, session=None):
    r = s.run(PROBE, "python", session=session)
    sc = (r or {}).get("structuredContent", {})
    try:
        return json.loads(sc.get("stdout", ""))
    except ValueError:
        return {"error": r}


if os.geteuid() != 0:
    t.ok(True, "a root server reads the project as its owner # SKIP not root")
    sys.exit(t.done())

work = tempfile.mkdtemp(prefix="nsm-owner-")
os.chmod(work, 0o755)
mounted = []
try:
    proj = os.path.join(work, "proj")
    os.makedirs(os.path.join(proj, "private"))
    os.mkdir(os.path.join(proj, "mnt"))
    files = {".env": "API_KEY=owner-only\n", "private/key": "deep secret\n", "stranger.txt": "not yours\n"}
    for name, text in files.items():
        with open(os.path.join(proj, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(proj, name), 0o600)
    for p in (proj, os.path.join(proj, "private"), os.path.join(proj, ".env"), os.path.join(proj, "private/key")):
        os.chown(p, OWNER, OWNER)
    os.chown(os.path.join(proj, "stranger.txt"), STRANGER, STRANGER)
    # Group-readable files: of root's group (the directory's group below,
    # which its owner is not in: `chown alice dir` keeps it) and of the
    # owner's own group (no passwd entry: the group numbered as the owner).
    for name, gid in (("root-group.txt", 0), ("owner-group.txt", OWNER)):
        with open(os.path.join(proj, name), "w") as f:
            f.write("group %d\n" % gid)
        os.chown(os.path.join(proj, name), 0, gid)
        os.chmod(os.path.join(proj, name), 0o640)
    os.chown(proj, OWNER, 0)
    os.chmod(proj, 0o700)
    os.chmod(os.path.join(proj, "private"), 0o700)
    # A nested mount of the owner's, private too.
    mnt = os.path.join(proj, "mnt")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700,uid=%d,gid=%d,size=1m" % (OWNER, OWNER), "tmpfs", mnt],
                   check=True)
    mounted.append(mnt)
    with open(os.path.join(mnt, "inner"), "w") as f:
        f.write("nested secret\n")
    os.chmod(os.path.join(mnt, "inner"), 0o600)
    os.chown(os.path.join(mnt, "inner"), OWNER, OWNER)

    def snapshot():
        out = {}
        for root, dirs, names in os.walk(proj):
            for n in dirs + names:
                p = os.path.join(root, n)
                st = os.lstat(p)
                out[p] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns)
        return out
    before = snapshot()

    s = Server(BIN, ["--project", proj])
    s.initialize()
    for sess in (None, "owner"):
        where = "in a session" if sess else "one-shot"
        o = probe(s, sess)
        t.ok(o.get("env") == files[".env"] and o.get("deep") == files["private/key"],
             "%s: the owner's 0600 files in a 0700 project read" % where, o)
        t.ok(o.get("nested") == "nested secret\n", "%s: a private file in the owner's nested mount reads" % where, o)
        t.ok(o.get("stranger") == "EACCES", "%s: another user's 0600 file stays unreadable" % where, o)
        t.ok(o.get("root group") == "EACCES" and o.get("owner group") == "group %d\n" % OWNER,
             "%s: group-readable files read as the owner's group would (its own, not the directory's root group)"
             % where, o)
        t.ok(o.get("me") == 1000 and o.get("owner", [None])[:2] == [1000, 1000] and o["owner"][2] != 1000,
             "%s: the owner's files belong to the sandbox user, others' do not" % where, o)
        t.ok(all(o.get(k) == "EROFS" for k in ("write", "write nested", "create", "chmod", "chown")),
             "%s: nothing can be written, chmod-ed or chown-ed (EROFS)" % where, o)
    s._fill(0.3)
    t.ok(b"idmapped mount" in s.err and (b"uid %d" % OWNER) in s.err,
         "the start-up log says the project is read as its owner (uid %d)" % OWNER, s.err[-1500:])
    t.ok(s.close() == 0, "the server exits cleanly")
    t.ok(snapshot() == before, "nothing in the project changed on the host")

    # A project owned by root (a checkout under /root, /srv, a container
    # volume): root's private files read too, yet the sandbox is not root.
    rproj = os.path.join(work, "rootproj")
    os.mkdir(rproj, 0o700)
    with open(os.path.join(rproj, "secret"), "w") as f:
        f.write("root's\n")
    os.chmod(os.path.join(rproj, "secret"), 0o600)
    s = Server(BIN, ["--project", rproj])
    s.initialize()
    r = s.run("cat /project/secret; id -u; cat /proc/self/status | grep CapEff; touch /project/x", "shell")
    sc = (r or {}).get("structuredContent", {})
    t.ok(sc.get("stdout", "").startswith("root's\n1000\nCapEff:\t0000000000000000")
         and "Read-only file system" in sc.get("stderr", ""),
         "a root-owned 0600 file reads, as uid 1000 without capabilities, read-only", sc)
    s.close()
    t.ok(os.listdir(rproj) == ["secret"], "the root-owned project is unchanged")
finally:
    for m in reversed(mounted):
        subprocess.run(["umount", "-l", m])
    shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())
