"""Drives a deployed server over stdio and prints one line per check:
`PASS description` or `FAIL description` (+ `#` detail lines); run.sh turns
them into TAP. It first prints `# plan N checks`: run.sh fails the run when
fewer lines come (or the exit status is not 0), so a crash cannot drop checks.

    python3 drive.py ENVS_JSON full|smoke CMD [ARG...]

CMD ARG... starts the server (e.g. unshare … nix-sandbox-mcp), with an empty
environment; ENVS_JSON is the server's --list-envs output."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from mcp import Server  # noqa: E402


def check(cond, desc, detail=None):
    print(("PASS " if cond else "FAIL ") + desc, flush=True)
    if not cond and detail is not None:
        for line in str(detail)[:1500].splitlines():
            print("#   " + line, flush=True)
    return cond


def sc(r):
    return (r or {}).get("structuredContent") or {}


envs = json.load(open(sys.argv[1]))["environments"]
mode = sys.argv[2]
cmd = sys.argv[3:]
# initialize, a one-shot run per environment (full) or of the first (smoke),
# the checks under `if mode == "full"` (3 + 1 + 7 + 2), the exit on EOF.
print("# plan %d checks" % (1 + (len(envs) + 13 if mode == "full" else 1) + 1), flush=True)
s = Server(cmd[0], cmd[1:], env={})
init = s.initialize()
check(init is not None and "result" in init, "the server answers initialize", (init, s.err[-800:]))

hello = {
    "bash": ("echo hello-$((6*7))", "hello-42\n"),
    "python": ("print('hello-%d' % (6*7))", "hello-42\n"),
    "node": ("console.log('hello-' + 6*7)", "hello-42\n"),
}
todo = envs if mode == "full" else envs[:1]
for e in todo:
    code, want = hello[e["interpreter_type"]]
    r = s.run(code, e["name"])
    check(sc(r).get("exit_code") == 0 and sc(r).get("stdout") == want,
          "%s (%s): one-shot run" % (e["name"], e["interpreter_type"]), r)

if mode == "full":
    # Sessions in a custom flake environment (a plain package), a mkSandbox
    # environment from config.toml, and the project's devShell.
    for env in ("tools", "calc", "project"):
        sid = "s-" + env
        r1 = s.run("x=5; cd /tmp", env, session=sid)
        r2 = s.run("echo $x $PWD", env, session=sid)
        check(sc(r1).get("exit_code") == 0 and sc(r2).get("stdout") == "5 /tmp\n",
              "%s: a session keeps state between calls" % env, (r1, r2))
    r1 = s.run("import yaml\nv = yaml.safe_load('a: [1, 2]')", "python", session="s-py")
    r2 = s.run("print(v['a'][1] + 40)", "python", session="s-py")
    check(sc(r2).get("stdout") == "42\n", "python (from examples/envs): a session keeps state", (r1, r2))

    r = s.run("greet deploy; echo '2^10' | bc; jq -n '[1,2]|add'", "tools")
    check(sc(r).get("stdout") == "hello from deploy\n1024\n3\n",
          "tools: the local flake's package (greet, bc, jq) runs", r)
    r = s.run("echo 'scale=3; 1/8' | bc; greet calc", "calc")
    check(sc(r).get("stdout") == ".125\nhello from calc\n", "calc: the mkSandbox environment runs", r)
    r = s.run("command -v python3 node jq || echo none", "calc")
    check(sc(r).get("stdout") == "none\n", "calc: holds only its packages", r)
    r = s.run("jq -n '{a: 1} | .a + 1'; false; echo not-reached", "jq")
    check(sc(r).get("stdout") == "2\n" and sc(r).get("exit_code") == 1,
          "jq (nixpkgs#jq, interpreter = \"bash -e\"): jq runs and -e stops at false", r)
    r = s.run("nsm-deploy-marker; command -v jq || echo no-jq", "shell")
    check(sc(r).get("stdout") == "shell replaced through mkServer { sandboxes }\nno-jq\n",
          "shell: the preset is replaced by the mkSandbox in sandboxes", r)
    r = s.run("import shutil; print(bool(shutil.which('greet')))", "python")
    check(sc(r).get("stdout") == "True\n", "python: the preset is replaced from config.toml (greet present)", r)
    r = s.run("make --version | head -n 1 | cut -d' ' -f1-2; greet project; command -v diff >/dev/null && echo diff",
              "project")
    check(sc(r).get("stdout") == "GNU Make\nhello from project\ndiff\n",
          "project (use_flake): the devShell's packages and buildInputs are there", r)
    for env in ("shell", "calc"):
        want = [e for e in envs if e["name"] == env][0]["closure_paths"]
        r = s.run("ls /nix/store | wc -l", env)
        check(sc(r).get("stdout") == "%d\n" % want,
              "%s: its /nix/store shows exactly its %d closure paths" % (env, want), r)

rc = s.close()
check(rc == 0 and not s.garbage, "the server exits 0 on EOF with only protocol on stdout",
      (rc, s.garbage, s.err[-800:]))
