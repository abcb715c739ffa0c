"""Files in and out of a run (README "Files in and out"; csrc/wsfiles.c,
csrc/mcp_files.c).

From the user's side: input files are there when the code starts (cold and
warm one-shot runs, sessions), owned by the sandbox user; what the code
writes under /workspace/out comes back as image / resource / resource_link
content with structuredContent.files saying how; sessions return only what
changed and keep large files readable through resources/read.
From the attacker's side: paths that leave /workspace, symbolic links the
code planted (on the input path, as the output file, as out/ itself), FIFOs,
a flood of files, files larger than the caps: each is refused or bounded,
nothing outside the sandbox is read or written, and the server stays up."""
import base64
import hashlib
import json
import os
import struct
import sys
import time
import zlib

from mcp import Server, Tap, descendants, cmdline, _cgroup_mounts, _cgroup_dirs

t = Tap()
BIN = os.environ["NSM_SERVER"]
s = Server(BIN, ["--project", os.environ["NSM_PROJECT"], "--log-level", "debug"])
s.initialize()


def sc(res):
    return (res or {}).get("structuredContent", {})


def texts(res):
    return "\n".join(c.get("text", "") for c in (res or {}).get("content", []) if c.get("type") == "text")


def items(res, kind):
    return [c for c in (res or {}).get("content", []) if c.get("type") == kind]


def listed(res, path):
    for f in sc(res).get("files", []):
        if f["path"] == path:
            return f
    return None


def png(w, h):
    """A real PNG of w x h grey pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def b64(data):
    return base64.b64encode(data).decode()


# ---- files in, one-shot ---------------------------------------------------
img = png(3, 2)
r = s.run("cat data/in.txt; sha256sum data/sub/p.png | cut -c1-64; stat -c '%u %g %a' data/in.txt",
          "shell", files=[{"path": "data/in.txt", "content": "hello, file\n"},
                          {"path": "data/sub/p.png", "content": b64(img), "encoding": "base64"}])
out = sc(r).get("stdout", "").splitlines()
t.ok(out[:1] == ["hello, file"], "a text input file is there when the code starts", r)
t.ok(out[1:2] == [hashlib.sha256(img).hexdigest()], "a base64 input file arrives byte for byte, in new directories", out)
t.ok(out[2:3] == ["1000 1000 644"], "input files belong to the sandbox user (uid/gid 1000), mode 0644", out)

for env in ("python", "python", "node", "node"):  # the second of each takes a warm spare
    code = ("print(open('in.txt').read())" if env == "python"
            else "console.log(require('fs').readFileSync('in.txt','utf8'))")
    r = s.run(code, env, files=[{"path": "in.txt", "content": "warm or cold " + env}])
    t.ok(sc(r).get("stdout", "").strip() == "warm or cold " + env,
         "%s one-shot (cold, then a warm spare): the file is in before the code runs" % env, r)

# ---- files out, one-shot --------------------------------------------------
r = s.run("stat -c '%U %a' out; ls -A out | wc -l", "shell")
t.ok(sc(r).get("stdout", "").split() == ["sandbox", "755", "0"], "/workspace/out is there, empty and the sandbox user's, when the code starts", r)
r = s.run("open('out/sum.txt', 'w').write('3')", "python")
t.ok([x["resource"].get("text") for x in items(r, "resource")] == ["3"], "code can write out/ without creating it (README's example)", r)
big_img = png(400, 300)
r = s.run("mkdir -p out/plots && base64 -d > out/plots/fig.png <<'E'\n%s\nE\n"
          "printf 'a,b\\n1,2\\n' > out/t.csv; printf '\\000\\001\\002' > out/raw.bin;"
          "head -c 200000 /dev/urandom > out/big.bin; echo done" % b64(big_img), "shell")
t.ok(sc(r).get("exit_code") == 0 and "done" in sc(r).get("stdout", ""), "the writing run succeeds", r)
ims = items(r, "image")
t.ok(len(ims) == 1 and ims[0]["mimeType"] == "image/png" and base64.b64decode(ims[0]["data"]) == big_img,
     "a PNG under out/ comes back as image content, byte for byte", [i.get("mimeType") for i in ims])
res = items(r, "resource")
csv = [x for x in res if x["resource"]["uri"].endswith("/t.csv")]
t.ok(len(csv) == 1 and csv[0]["resource"].get("text") == "a,b\n1,2\n" and csv[0]["resource"]["mimeType"] == "text/csv",
     "a small text file comes back as an embedded text resource with its MIME type", res)
raw = [x for x in res if x["resource"]["uri"].endswith("/raw.bin")]
t.ok(len(raw) == 1 and base64.b64decode(raw[0]["resource"].get("blob", "")) == b"\0\1\2",
     "a small binary file comes back as an embedded base64 blob", raw)
f = listed(r, "big.bin")
t.ok(f and f["returned_as"] == "omitted" and f["size"] == 200000 and "session" in f.get("reason", ""),
     "a one-shot run's large binary is listed with its size and why it could not be kept", f)
t.ok(not items(r, "resource_link"), "a one-shot run gives no resource_link (its sandbox is gone)")
f = listed(r, "plots/fig.png")
t.ok(f and f["returned_as"] == "image" and f["mime_type"] == "image/png" and f["size"] == len(big_img),
     "structuredContent.files lists each file with its path, size, MIME type and how it came back", sc(r).get("files"))
t.ok("big.bin (200000 bytes): not returned" in texts(r), "the text says what was left out", texts(r))
r = s.run("echo nothing", "shell")
t.ok("files" not in sc(r) and len(r.get("content", [])) == 1, "a run that writes no out/ file adds nothing")

# Caps: five 1.5 MB images are more than one call returns.
r = s.run("mkdir out; for i in 1 2 3 4 5; do { printf '\\211PNG\\r\\n\\032\\n'; head -c 1500000 /dev/zero; } > out/i$i.png; done", "shell")
ims = items(r, "image")
kinds = [f["returned_as"] for f in sc(r).get("files", [])]
total = sum(len(base64.b64decode(i["data"])) for i in ims)
t.ok(len(ims) == 2 and kinds.count("omitted") == 3 and total <= 4 << 20,
     "at most 4 MiB of files come back per call; the rest are listed as omitted (%d images, %d bytes)" % (len(ims), total), kinds)

# A flood of files and a deep tree: bounded, listed as not looked at.
r = s.run("mkdir -p out/d && cd out && for i in $(seq 1 300); do echo $i > d/f$i; done;"
          "mkdir -p a/b/c/d/e/f/g/h/i/j && echo x > a/b/c/d/e/f/g/h/i/j/deep; echo ok", "shell", timeout=60)
t.ok(len(sc(r).get("files", [])) == 64 and sc(r).get("files_not_listed", 0) >= 236,
     "300 files: 64 come back, the rest are counted (files_not_listed)", (len(sc(r).get("files", [])), sc(r).get("files_not_listed")))

# ---- attacks: paths -------------------------------------------------------
def refused(files, want, desc, env="shell", session=None):
    r = s.run("echo ran > /workspace/ran-marker; cat ran-marker", env, session=session, files=files)
    text = texts(r)
    ok = r.get("isError") is True and want in text and "ran" not in sc(r).get("stdout", "")
    t.ok(ok, desc + ": " + text[:160].replace("\n", " "), r)

for p, why in (("/etc/passwd", "absolute"), ("../escape", '".."'), ("a/../../b", '".."'), ("./x", '"."'),
               ("a//b", "empty component"), ("dir/", "empty component"), ("", "empty"),
               ("x" * 600, "longer than 512"), ("a\nb", "control character")):
    refused([{"path": p, "content": "x"}], why, "path %r is refused, naming the reason" % p[:20])
refused([{"path": "x"}], "needs a string `path` and a string `content`", "a file without content is refused")
refused([{"path": "x", "content": "@@@", "encoding": "base64"}], "not valid base64", "bad base64 is refused, naming the file")
refused([{"path": "x", "content": "", "encoding": "hex"}], "encoding must be", "an unknown encoding is refused")
refused([{"path": "x", "content": "", "mode": "0777"}], "unknown key `mode`", "an unknown key is refused")
refused("x", "must be an array", "files that is not an array is refused")
refused([{"path": "f%d" % i, "content": ""} for i in range(65)], "at most 64", "65 files are refused (at most 64)")
big = b64(b"\0" * (3 << 20))
refused([{"path": "b%d" % i, "content": big, "encoding": "base64"} for i in range(3)], "more than 8388608 bytes",
        "more than 8 MiB of input (decoded) is refused, naming the bound")
r = s.run("true", "shell", files=[{"path": "x", "content": "a\u0000b"}])
t.ok(r.get("isError") and "base64" in texts(r), "a NUL in text content is refused, pointing to base64", texts(r))

# ---- attacks: links and special files planted by the code (sessions) -----
S = "files-attack"
r = s.run("ln -s / root; ln -s /etc/passwd pw; ln -s /tmp tmplink; mkfifo fifo; mkdir -p out;"
          "ln -s /etc/passwd out/passwd-link; mkfifo out/fifo; echo ok", "shell", session=S)
t.ok(sc(r).get("stdout", "").strip() == "ok", "the session plants links and FIFOs", r)
f = listed(r, "passwd-link")
t.ok(f and f["returned_as"] == "omitted" and "root:" not in json.dumps(r),
     "a symbolic link under out/ is listed as not followed; nothing of its target comes back", f)
f = listed(r, "fifo")
t.ok(f and f["returned_as"] == "omitted", "a FIFO under out/ is listed, not opened (no hang)", f)
host_marker = "/tmp/nsm-files-escape-%d" % os.getpid()
for path, desc in (("root%s" % host_marker, "a link to / on the path"),
                   ("tmplink/x", "a link to /tmp on the path"),
                   ("pw", "a link as the file itself")):
    r = s.run("echo should-not-run", "shell", session=S, files=[{"path": path, "content": "pwned"}])
    t.ok(r.get("isError") and "symbolic link" in texts(r) and "should-not-run" not in texts(r),
         "%s is refused and the code does not run: %s" % (desc, texts(r)[:120]), r)
t.ok(not os.path.exists(host_marker), "nothing was written on the host through the links")
with open("/etc/passwd") as fh:
    t.ok(fh.read().startswith("root:"), "the host's /etc/passwd is untouched")
r = s.run("readlink pw; ls /tmp | grep -c pwned || true", "shell", session=S)
t.ok(sc(r).get("stdout", "").split()[:2] == ["/etc/passwd", "0"], "the planted link is unchanged, no file through it in the sandbox either", r)
t0 = time.monotonic()
r = s.run("echo after", "shell", session=S, files=[{"path": "fifo", "content": "x"}])
t.ok(r.get("isError") and time.monotonic() - t0 < 5, "an input over a FIFO the code left is refused without blocking", texts(r))
r = s.run("rm -rf out && ln -s /etc out && echo swapped", "shell", session=S)
t.ok(sc(r).get("stdout", "").strip() == "swapped" and "files" not in sc(r) and "root:" not in json.dumps(r),
     "out/ itself replaced by a link to /etc: nothing is read through it", sc(r).get("files"))
r = s.request("resources/read", {"uri": "sandbox://sessions/%s/out/passwd" % S})
t.ok(r and "error" in r and "root:" not in json.dumps(r), "resources/read does not follow out/ when it is a link", r)
t.ok(s.alive(), "the server is still up")

# ---- sessions: only changes, links, resources/read -------------------------
S2 = "files-session"
r = s.run("mkdir -p out; echo one > out/a.txt; head -c 300000 /dev/urandom > out/big.bin; sha256sum out/big.bin | cut -c1-64",
          "shell", session=S2)
digest = sc(r).get("stdout", "").strip()
links = items(r, "resource_link")
t.ok(len(links) == 1 and links[0]["name"] == "big.bin" and links[0]["size"] == 300000
     and links[0]["uri"] == "sandbox://sessions/%s/out/big.bin" % S2,
     "a session's large file comes back as a resource_link with name, size and URI", links)
t.ok(listed(r, "a.txt") and listed(r, "a.txt")["returned_as"] == "text", "and its small file as text")
rr = s.request("resources/read", {"uri": links[0]["uri"] if links else ""})
contents = (rr or {}).get("result", {}).get("contents", [{}])
got = base64.b64decode(contents[0].get("blob", "")) if contents else b""
t.ok(hashlib.sha256(got).hexdigest() == digest, "resources/read gives the linked file byte for byte", str(rr)[:300])
rl = s.request("resources/list", {})
uris = [x["uri"] for x in (rl or {}).get("result", {}).get("resources", [])]
t.ok("sandbox://sessions/%s/out/big.bin" % S2 in uris and "sandbox://sessions/%s/out/a.txt" % S2 in uris,
     "resources/list lists the session's files", uris)
r = s.run("echo two > out/b.txt", "shell", session=S2)
t.ok([f["path"] for f in sc(r).get("files", [])] == ["b.txt"], "the next call returns only the file it changed", sc(r).get("files"))
r = s.run("echo nothing new", "shell", session=S2)
t.ok("files" not in sc(r), "a call that changes nothing in out/ returns no file", sc(r).get("files"))
r = s.run("echo changed > out/a.txt", "shell", session=S2)
f = listed(r, "a.txt")
t.ok(f and [x["resource"]["text"] for x in items(r, "resource")] == ["changed\n"],
     "a rewritten file comes back again, with its new content", r.get("content"))
r = s.run("cat out/a.txt; cat in2.txt", "shell", session=S2, files=[{"path": "in2.txt", "content": "given\n"}])
t.ok(sc(r).get("stdout", "") == "changed\ngiven\n", "a session keeps out/ between calls and takes new inputs", r)
r = s.run("exit 0", "shell", session="files-other")
rr = s.request("resources/read", {"uri": "sandbox://sessions/nope/out/a.txt"})
t.ok(rr and rr.get("error", {}).get("code") == -32002, "resources/read of an unknown session is 'resource not found'", rr)
rr = s.request("resources/read", {"uri": "file:///etc/passwd"})
t.ok(rr and rr.get("error", {}).get("code") == -32002 and "root:" not in json.dumps(rr), "a file:// URI is not read", rr)
rr = s.request("resources/read", {"uri": "sandbox://sessions/%s/out/%%2e%%2e/%%2e%%2e/etc/passwd" % S2})
t.ok(rr and "error" in rr and "root:" not in json.dumps(rr), "percent-encoded .. is refused", rr)

# ---- found by the red team (each broke an earlier version) -----------------
r = s.run("cat first.txt", "shell", session="files-first", files=[{"path": "first.txt", "content": "first call\n"}])
t.ok(sc(r).get("stdout") == "first call\n", "a new session's first call with files waits for its sandbox's /workspace", r)
r = s.run("import os\nd = b'out/' + b'\\xff' * 255\nos.mkdir(d)\n"
          "[open(d + b'/' + b'\\xfe' * 253 + b'%02d' % k, 'wb').write(b'x') for k in range(64)]", "python")
t.ok(r is not None and "result" not in r and len(sc(r).get("files", [])) == 64 and not s.garbage,
     "64 files with invalid UTF-8 names: the reply is valid UTF-8 JSON, every file listed", (s.garbage[:1], str(r)[:300]))
r = s.run("true", "shell", files=[{"path": "a" + "\u00e9" * 127, "content": "x"}, {"path": "a" + "\u00e9" * 127 + "/b", "content": "y"}])
t.ok(r is not None and r.get("isError") and not s.garbage, "an error message naming a long non-ASCII path stays valid UTF-8", s.garbage[:1])
rr = s.request("resources/read", {"uri": "sandbox://sessions/%s/out/%%FF" % S2})
t.ok(rr is not None and rr.get("error", {}).get("code") == -32002 and not s.garbage,
     "resources/read of a name that is not UTF-8: a valid error", rr)
r = s.run("printf 'x' > \"out/$(printf 'nl\\nname').bin\"; head -c 100000 /dev/zero > \"out/$(printf 'ctl\\tbig').bin\"", "shell", session=S2)
links = items(r, "resource_link")
rr = s.request("resources/read", {"uri": links[0]["uri"]}) if links else None
t.ok(links and rr and "result" in rr and len(base64.b64decode(rr["result"]["contents"][0].get("blob", ""))) == 100000,
     "a kept file whose name holds a control character can be read through its link", (links, str(rr)[:200]))
r = s.run("head -c 16000000 /dev/zero | tr '\\000' '\\001' > out/ctl.txt", "shell", session=S2)
links = [x for x in items(r, "resource_link") if x["name"] == "ctl.txt"]
rr = s.request("resources/read", {"uri": links[0]["uri"]}, timeout=60) if links else None
c0 = (rr or {}).get("result", {}).get("contents", [{}])[0]
t.ok("blob" in c0 and len(base64.b64decode(c0["blob"])) == 16000000,
     "16 MB of control characters: resources/read returns them as base64, not as 96 MB of escapes", str(rr)[:200])
r = s.run("head -c 17000000 /dev/zero | tr '\\000' x > out/huge.txt", "shell", session=S2)
links = [x for x in items(r, "resource_link") if x["name"] == "huge.txt"]
rr = s.request("resources/read", {"uri": links[0]["uri"]}, timeout=60) if links else None
t.ok(rr and rr.get("error") and "at most 16777216" in rr["error"].get("message", "") and "result" not in rr,
     "resources/read of a file over 16 MiB is refused, saying the bound", str(rr)[:300])
s.run("rm out/huge.txt", "shell", session=S2)
r = s.run("cd out && mkdir flood && cd flood && seq 1 6000 | xargs touch && echo made", "shell", session="files-flood", timeout=60)
t.ok(sc(r).get("stdout", "").strip() == "made" and "or more not looked at" in texts(r) and len(sc(r).get("files", [])) == 64,
     "6000 entries in one directory: the scan stops early and says 'or more'", texts(r)[-200:])
r = s.run("echo same", "shell", session="files-flood")
t.ok("files" not in sc(r) and len(r.get("content", [])) == 1, "the same unlooked-at rest is not reported again", r.get("content"))
t.ok(s.alive(), "the server is still up")

# ---- input files count against the sandbox's memory limit -------------------
def sandbox_memory(server, session):
    """memory.usage_in_bytes (cgroup v1) of the session's own sandbox (found
    by a marker process it leaves running: the server's spares are other
    sandboxes), or None where the jail runs without cgroup v1."""
    server.run("sleep 987654 >/dev/null 2>&1 &", "probe", session=session)
    mounts = _cgroup_mounts()
    for _ in range(50):
        for pid, _ in descendants(server.p.pid):
            if cmdline(pid) == "sleep 987654":
                for d in _cgroup_dirs(pid, mounts):
                    f = os.path.join(d, "memory.usage_in_bytes")
                    if os.path.exists(f) and "nix-sandbox-mcp" in d:
                        with open(f) as fh:
                            return int(fh.read())
                return None
        time.sleep(0.05)
    return None

m = Server(BIN, ["--no-project"])
m.initialize()
m.run("true", "probe", session="mem")
before = sandbox_memory(m, "mem")
if before is None:
    t.ok(True, "input files charged to the sandbox's memory group # SKIP no cgroup v1 memory group here")
else:
    r = m.run("du -k big.bin | cut -f1", "probe", session="mem",
              files=[{"path": "big.bin", "content": b64(os.urandom(6 << 20)), "encoding": "base64"}])
    after = sandbox_memory(m, "mem")
    t.ok(sc(r).get("stdout", "").strip() == "6144" and after - before >= 5 << 20,
         "6 MiB of input files are charged to the sandbox's memory group (+%d KiB), not the server's"
         % ((after - before) >> 10), (before, after, r))
m.close()

# ---- a full workspace -------------------------------------------------------
r = s.run("head -c 14000000 /dev/zero > fill; echo filled", "probe", session="files-full")
r = s.run("echo should-not-run", "probe", session="files-full",
          files=[{"path": "data/x.bin", "content": b64(b"\1" * (4 << 20)), "encoding": "base64"}])
t.ok(r.get("isError") and "no space left in /workspace" in texts(r) and "data/x.bin" in texts(r),
     "a full /workspace: the error names the file and workspace_mb", texts(r))
r = s.run("rm fill; echo again", "probe", session="files-full")
t.ok(sc(r).get("stdout", "").strip() == "again", "the session goes on after the refused call", r)

# ---- resources/list_changed on stdio ------------------------------------------------------------
def list_changes():
    got = [m for m in s.pending if m.get("method") == "notifications/resources/list_changed"]
    s.pending = [m for m in s.pending if m not in got]
    return got


s.drain()
list_changes()
r = s.run("echo x > /workspace/out/lc.txt", "shell", session="lc")
got = list_changes()
t.ok(len(got) == 1 and "params" not in got[0] and "id" not in got[0],
     "a session call that writes /workspace/out sends notifications/resources/list_changed once", got)
r = s.run("echo nothing", "shell", session="lc")
t.ok(not list_changes(), "one that changes nothing there sends none")
r = s.run("rm /workspace/out/lc.txt", "shell", session="lc")
t.ok(len(list_changes()) == 1, "removing a file there sends one")
r = s.run("echo x > /workspace/out/one-shot.txt", "shell")
t.ok(not list_changes(), "a one-shot run (no resources kept) sends none")

t.ok(s.alive() and not s.garbage, "the server is up and wrote only protocol")
s.close()

# ---- the same with an unprivileged server -----------------------------------
# (its own uid is the sandbox user's on the host, so no identity switch)
import shutil
if os.geteuid() == 0 and shutil.which("setpriv"):
    uid = 43210
    u = Server("setpriv", ["--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", BIN, "--no-project"])
    u.initialize()
    marker = "/tmp/nsm-files-unpriv-%d" % os.getpid()
    r = u.run("cat in.txt; stat -c '%u' in.txt; cp in.png out/; ln -s /tmp tl", "shell", session="u",
              files=[{"path": "in.txt", "content": "unpriv\n"}, {"path": "in.png", "content": b64(img), "encoding": "base64"}])
    t.ok(sc(r).get("stdout", "").split() == ["unpriv", "1000"], "unprivileged server: input files are in, the sandbox user's", r)
    ims = items(r, "image")
    t.ok(len(ims) == 1 and base64.b64decode(ims[0]["data"]) == img, "unprivileged server: an out/ image comes back", r.get("content"))
    r = u.run("true", "shell", session="u", files=[{"path": "tl/" + os.path.basename(marker), "content": "x"}])
    t.ok(r.get("isError") and "symbolic link" in texts(r) and not os.path.exists(marker),
         "unprivileged server: a planted link is refused, nothing written on the host", texts(r))
    u.close()
else:
    t.ok(True, "files with an unprivileged server # SKIP not root, or no setpriv")
sys.exit(t.done())
