"""What the benchmark scripts share: the line client, the trivial program per
interpreter, the baked environment table of a server, percentiles."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from mcp import Server  # noqa: E402,F401

CODE = {"bash": "true", "python": "pass", "node": "0"}


def env_table(binary):
    """The env.json installed beside a built server."""
    path = os.path.join(os.path.dirname(os.path.realpath(binary)), "..", "share",
                        "nix-sandbox-mcp", "env.json")
    with open(path) as f:
        return json.load(f)


def code_dir(code):
    """A fresh directory holding the code as the file `main`: (dir, path)."""
    d = tempfile.mkdtemp()
    path = os.path.join(d, "main")
    with open(path, "w") as f:
        f.write(code)
    return d, path


def bwrap_args(e, path):
    """bwrap running environment e's interpreter on the code file at path,
    with the server's walls as near as bwrap has them: every closure path
    read-only, fresh /proc and /dev, tmpfs /tmp and /workspace, all
    namespaces unshared, no capability, a clean environment."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for p in e["closure"]:
        args += ["--ro-bind", p, p]
    return args + ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/workspace",
                   "--ro-bind", path, "/run/code", "--symlink", e["sh"], "/bin/sh",
                   "--chdir", "/workspace", "--clearenv", "--setenv", "PATH", e["root"] + "/bin",
                   "--setenv", "HOME", "/workspace"] + e["argv"] + ["/run/code"]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]
