"""What users of the original nix-sandbox-mcp carry over: its run-time
variables are not read (the configuration is built in), and the server says
so once at start, naming what replaces each."""
import os
import subprocess
import sys

from mcp import Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
VARS = {"PROJECT_MOUNT": "mount_point", "NIX_SANDBOX_ENVS": "[environments.NAME]",
        "SESSION_IDLE_TIMEOUT": "idle_timeout_seconds", "SESSION_MAX_LIFETIME": "max_lifetime_seconds",
        "NIX_SANDBOX_DIR": "built by the server"}
env = dict(os.environ, **{k: "x" for k in VARS})
p = subprocess.run([BIN], input=b"", capture_output=True, env=env, timeout=60)
err = p.stderr.decode()
for var, instead in VARS.items():
    lines = [l for l in err.splitlines() if l.startswith("nix-sandbox-mcp: warning: %s is set but ignored" % var)]
    t.ok(len(lines) == 1 and instead in lines[0], "%s set: one warning naming what replaces it" % var, err[-1500:])
t.ok(p.returncode == 0 and p.stdout == b"", "the server still starts and exits cleanly", (p.returncode, p.stdout))
clean = {k: v for k, v in os.environ.items() if k not in VARS}
p = subprocess.run([BIN], input=b"", capture_output=True, env=clean, timeout=60)
t.ok("is set but ignored" not in p.stderr.decode(), "without them, no such warning")
sys.exit(t.done())
