"""[project] inherit_env.vars (the original's key): the names are fixed when
the server is built (the test server lists NSM_TEST_INHERITED and
NSM_TEST_UNSET), the values are read from the server's environment when it
starts and every sandbox gets them, one-shot and session, every
interpreter; a listed variable the server was started without is absent;
nothing else of the server's environment gets in; a value is never logged
(names are) and --list-envs shows names only."""
import json
import os
import subprocess
import sys

from mcp import Server, Tap

BIN = os.environ["NSM_SERVER"]
t = Tap()
SECRET = "s3cr3t value = with; spaces, 'quotes' and \u00e9"

env = {k: v for k, v in os.environ.items() if not k.startswith("NSM_TEST_")}
env.update(NSM_TEST_INHERITED=SECRET, NSM_TEST_NOT_LISTED="not for the sandbox")
listed = json.loads(subprocess.run([BIN, "--list-envs"], capture_output=True, text=True, env=env).stdout)
t.ok(listed["project"].get("inherit_env") == ["NSM_TEST_INHERITED", "NSM_TEST_UNSET"],
     "--list-envs shows the built-in names", listed["project"])
t.ok(SECRET not in json.dumps(listed, ensure_ascii=False), "--list-envs shows no value")

s = Server(BIN, ["--project", os.environ["NSM_PROJECT"], "--log-level", "debug"], env=env)
s.initialize()
CODE = {
    "python": "import os, json\nprint(json.dumps({k: os.environ.get(k) for k in "
              "('NSM_TEST_INHERITED', 'NSM_TEST_UNSET', 'NSM_TEST_NOT_LISTED')}))",
    "node": "console.log(JSON.stringify({NSM_TEST_INHERITED: process.env.NSM_TEST_INHERITED ?? null, "
            "NSM_TEST_UNSET: process.env.NSM_TEST_UNSET ?? null, "
            "NSM_TEST_NOT_LISTED: process.env.NSM_TEST_NOT_LISTED ?? null}))",
}
want = {"NSM_TEST_INHERITED": SECRET, "NSM_TEST_UNSET": None, "NSM_TEST_NOT_LISTED": None}
for envname, code in CODE.items():
    for sess in (None, "inherit-" + envname):
        r = s.run(code, envname, session=sess)
        out = (r or {}).get("structuredContent", {}).get("stdout", "")
        try:
            got = json.loads(out)
        except ValueError:
            got = r
        t.ok(got == want, "%s, %s: the listed variable has the server's value, the unset one and an unlisted "
             "one are absent" % (envname, "session" if sess else "one-shot"), got)
r = s.run('printf "%s" "$NSM_TEST_INHERITED"; env | grep -c "^NSM_TEST_" ', "shell")
out = (r or {}).get("structuredContent", {}).get("stdout", "")
t.ok(out == SECRET + "1\n", "shell: the value is exact, and it is the only NSM_TEST_ variable", out)
s.close()
err = s.err.decode(errors="replace")
t.ok("NSM_TEST_INHERITED" in err and "NSM_TEST_UNSET" in err and SECRET not in err
     and "not for the sandbox" not in err,
     "the start-up log names the inherited and the missing variables, never a value (debug level)", err[-1500:])
sys.exit(t.done())
