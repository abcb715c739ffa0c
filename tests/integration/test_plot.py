"""The python-plot preset (presets/python-plot.nix, presets/plot/nsm_plot.py):
matplotlib imports and renders text with only the closure mounted, and
plt.show() saves each open figure as /workspace/out/figure-N.png, in cold and
warm one-shot runs and across the calls of a session, never overwriting a
figure already there; nothing lands outside /workspace/out and /tmp.
The PNGs are checked from inside the sandbox (magic bytes, IHDR size)."""
import json
import os
import subprocess
import sys

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
ENV = "python-plot"
t = Tap()
s = Server(BIN, args=["--log-level", "debug"])
s.initialize()


def sc(res):
    return (res or {}).get("structuredContent", {})


# Printed by every probe: what /workspace and /tmp hold, and each PNG's
# magic, chunk type and IHDR width and height.
REPORT = r'''
import json as _j, os as _o, struct as _s
def _walk(top):
    return sorted(_o.path.relpath(_o.path.join(d, f), top) for d, _, fs in _o.walk(top) for f in fs)
_pngs = {}
for _f in sorted(_o.listdir("/workspace/out")) if _o.path.isdir("/workspace/out") else []:
    with open("/workspace/out/" + _f, "rb") as _h:
        _b = _h.read(24).ljust(24, b"\0")
    _pngs[_f] = [_b[:8] == b"\x89PNG\r\n\x1a\n", _b[12:16].decode("latin-1"), *_s.unpack(">II", _b[16:24])]
print(_j.dumps({"workspace": _walk("/workspace"), "tmp": _walk("/tmp"), "png": _pngs,
                "backend": __import__("matplotlib").get_backend()}))
'''

PLOT = '''
import matplotlib.pyplot as plt
plt.plot([1, 2], [3, 1])
plt.title("x")
plt.xlabel("time (s)")
plt.show()
'''


def probe(code, session=None):
    r = s.run(code + REPORT, ENV, session=session)
    st = sc(r)
    try:
        rep = json.loads(st.get("stdout", "").strip().splitlines()[-1])
    except (ValueError, IndexError):
        rep = {}
    return r, st, rep


# The environment is baked, has no network and its closure has matplotlib.
envs = {e["name"]: e for e in json.loads(subprocess.check_output([BIN, "--list-envs"]))["environments"]}
t.ok(ENV in envs and envs[ENV]["network"] == "none", "python-plot is baked in, without network",
     sorted(envs))

# One-shot: the first run of a fresh server is cold, the next ones take the
# warm spare (csrc/pool.c), whose interpreter started before the code.
for which in ("cold", "warm", "warm again"):
    r, st, rep = probe(PLOT)
    t.ok(st.get("exit_code") == 0 and st.get("stderr") == "",
         "one-shot (%s): plt.plot, title, show: exit 0, nothing on stderr (no font or backend warning)" % which, r)
    t.ok(rep.get("backend") == "module://nsm_plot", "one-shot (%s): the backend is nsm_plot" % which, rep)
    t.ok(rep.get("png") == {"figure-1.png": [True, "IHDR", 640, 480]},
         "one-shot (%s): /workspace/out/figure-1.png is a 640x480 PNG" % which, rep)
    t.ok(rep.get("workspace") == ["out/figure-1.png"] and all(f.startswith("matplotlib/") for f in rep.get("tmp", ["?"])),
         "one-shot (%s): nothing written but out/figure-1.png and matplotlib's cache in /tmp" % which, rep)
err = s.err.decode(errors="replace")
took = err.count("takes a prepared sandbox") + err.count("takes the spare being made")
t.ok(took >= 1, "a later one-shot run took the warm spare (%d)" % took)

# Two figures in one show(), and figures made after it in a second show().
r, st, rep = probe('''
import matplotlib.pyplot as plt
plt.figure(); plt.plot([1, 2])
plt.figure(figsize=(3, 2), dpi=100); plt.bar([1, 2], [3, 4])
plt.show()
plt.show()  # nothing open: nothing saved
plt.figure(); plt.scatter([1], [1])
plt.show()
print(plt.get_fignums())
''')
t.ok(st.get("exit_code") == 0 and st.get("stdout", "").startswith("[]\n"),
     "show() closes the figures it saved", r)
t.ok(rep.get("png") == {"figure-1.png": [True, "IHDR", 640, 480], "figure-2.png": [True, "IHDR", 300, 200],
                        "figure-3.png": [True, "IHDR", 640, 480]},
     "three figures across two show() calls: figure-1..3.png with their own sizes", rep)

# savefig keeps working, and a figure-N.png already there is not overwritten.
r, st, rep = probe('''
import os
import matplotlib.pyplot as plt
os.makedirs("/workspace/out", exist_ok=True)
with open("/workspace/out/figure-4.png", "wb") as f:
    f.write(b"mine")
plt.plot([1, 2]); plt.savefig("/workspace/out/x.png")
plt.figure(); plt.plot([2, 1]); plt.show()  # x.png's figure is not saved again
print(open("/workspace/out/figure-4.png", "rb").read())
''')
t.ok(st.get("exit_code") == 0 and st.get("stdout", "").startswith("b'mine'\n")
     and sorted(rep.get("png", {})) == ["figure-4.png", "figure-5.png", "x.png"]
     and rep["png"]["x.png"][:2] == [True, "IHDR"] and rep["png"]["figure-5.png"][:2] == [True, "IHDR"],
     "savefig writes its own file; show() takes the number after an existing figure-4.png", r)

# Text: the default font is found inside the closure (no host path, no
# fallback), and mathtext renders.
r, st, rep = probe('''
import os
import matplotlib
from matplotlib import font_manager
import matplotlib.pyplot as plt
path = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
print(path.startswith("/nix/store/") and os.path.exists(path), matplotlib.get_cachedir(), matplotlib.get_configdir())
fig = plt.figure(); fig.text(0.1, 0.5, r"$\\alpha^2 + \\sum_i x_i$ naïve ∑"); plt.show()
''')
out = st.get("stdout", "")
t.ok(st.get("exit_code") == 0 and st.get("stderr") == ""
     and out.startswith("True /tmp/matplotlib /tmp/matplotlib\n")
     and rep.get("png", {}).get("figure-1.png", [False])[0],
     "DejaVu Sans from the closure, cache and config dirs in /tmp, mathtext and non-ASCII text render", r)

# A session: the agent runs each call in-process; figures are numbered
# across calls and none is overwritten.
r, st, rep = probe(PLOT, session="plots")
t.ok(st.get("exit_code") == 0 and st.get("stderr") == "" and rep.get("backend") == "module://nsm_plot"
     and rep.get("png") == {"figure-1.png": [True, "IHDR", 640, 480]},
     "session, first call: show() saves figure-1.png", r)
r1 = s.run("print(open('/workspace/out/figure-1.png', 'rb').read().hex())", ENV, session="plots")
first = sc(r1).get("stdout")
r, st, rep = probe("plt.figure(); plt.hist([1, 2, 2, 3]); plt.title('second'); plt.show()", session="plots")
r2 = s.run("print(open('/workspace/out/figure-1.png', 'rb').read().hex())", ENV, session="plots")
t.ok(st.get("exit_code") == 0 and st.get("stderr") == ""
     and rep.get("png") == {"figure-1.png": [True, "IHDR", 640, 480], "figure-2.png": [True, "IHDR", 640, 480]}
     and first and sc(r2).get("stdout") == first,
     "session, second call: show() saves figure-2.png and leaves figure-1.png as it was", r)
t.ok(rep.get("workspace") == ["out/figure-1.png", "out/figure-2.png"],
     "session: nothing else in /workspace (matplotlib's cache is in /tmp)", rep)

# As in a notebook: what the code leaves open is saved at the end, once.
def returned(r):
    return [(f["path"], f["returned_as"]) for f in sc(r).get("files", [])]


r = s.run("import matplotlib.pyplot as plt\nplt.plot([1, 2])", ENV)
t.ok(returned(r) == [("figure-1.png", "image")] and sc(r).get("stderr") == "",
     "one-shot: a figure never shown is saved at the end of the run and comes back as an image", r)
r = s.run("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('/workspace/out/mine.png')", ENV)
t.ok(returned(r) == [("mine.png", "image")], "one-shot: a figure the code saved itself is not saved again", returned(r))
r = s.run("import matplotlib.pyplot as plt\nfig = plt.figure()\nplt.plot([1, 2])\nfig.show()", ENV)
t.ok(returned(r) == [("figure-1.png", "image")] and "non-interactive" not in sc(r).get("stderr", ""),
     "one-shot: fig.show() saves that figure (no 'non-interactive' warning), once", r)
r = s.run("import matplotlib.pyplot as plt\nplt.plot([3, 1])", ENV, session="cells")
t.ok(returned(r) == [("figure-1.png", "image")], "session: a figure a call leaves open comes back with that call", r)
r = s.run("x = 1", ENV, session="cells")
t.ok(returned(r) == [], "session: the next call, which draws nothing, returns no figure", returned(r))
r = s.run("plt.figure(); plt.bar([1, 2], [2, 1])", ENV, session="cells")
t.ok(returned(r) == [("figure-2.png", "image")], "session: a later cell's figure is figure-2.png", returned(r))

# Environments without the preset have no matplotlib.
r = s.run("import matplotlib", "python")
t.ok(sc(r).get("exit_code") == 1 and "ModuleNotFoundError" in sc(r).get("stderr", ""),
     "the python preset has no matplotlib", r)

s.close()
sys.exit(t.done())
