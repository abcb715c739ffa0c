"""What the benchmark scripts share: the line client, the trivial program per
interpreter, the baked environment table of a server, percentiles."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from mcp import Server  # noqa: E402,F401

CODE = {"bash": "true", "python": "pass", "node": "0"}


def env_table(binary):
    """The env.json installed beside a built server."""
    path = os.path.join(os.path.dirname(os.path.realpath(binary)), "..", "share",
                        "nix-sandbox-mcp", "env.json")
    with open(path) as f:
        return json.load(f)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]
