"""Warm one-shot runs (csrc/pool.c, jail.h "Warm start", agent/*_warm.*).

A fresh server's first run in an environment starts cold (no spare yet); the
next one takes the spare, whose interpreter was started before the code
existed. Each probe below runs once cold and once warm in the same
environment and must give the same exit code, stdout and stderr (Node: the
bottom frames of an uncaught error's stack excepted, as README says). Then:
a spare serves one run only (nothing a run leaves in the interpreter, /tmp
or /workspace is seen by the next, though most runs take a spare), and
a frozen or stopped spare costs a run neither its timeout nor its result."""
import json
import os
import re
import signal
import subprocess
import sys
import time

from mcp import Server, Tap, descendants, cmdline

t = Tap()
BIN = os.environ["NSM_SERVER"]


def sc(res):
    return (res or {}).get("structuredContent", {})


def server():
    s = Server(BIN, args=["--log-level", "debug"])
    s.initialize()
    return s


def took_spare(s):
    s._fill(0.05)
    err = s.err.decode(errors="replace")
    # (A back-to-back run takes the spare still being made: pool.c.)
    return err.count("takes a prepared sandbox") + err.count("takes the spare being made")


def cold_then_warm(env, code):
    """(cold result, warm result, the second run took a spare)."""
    s = server()
    cold = sc(s.run(code, env))
    time.sleep(0.4)   # the spare is made after the result, its interpreter starts
    before = took_spare(s)
    warm = sc(s.run(code, env))
    took = took_spare(s) == before + 1
    s.close()
    return cold, warm, took


def same(env, name, code, normalize=lambda x: x):
    cold, warm, took = cold_then_warm(env, code)
    keys = ("exit_code", "stdout", "stderr", "timed_out")
    c = {k: normalize(cold.get(k)) if isinstance(cold.get(k), str) else cold.get(k) for k in keys}
    w = {k: normalize(warm.get(k)) if isinstance(warm.get(k), str) else warm.get(k) for k in keys}
    t.ok(took and c == w and "stdout" in cold,
         "%s: %s: a warm run matches a cold one" % (env, name),
         json.dumps({"took_spare": took, "cold": c, "warm": w}, indent=1))


# ---- the environments that start warm, and the ones that do not ------------
out = subprocess.run([BIN, "--list-envs"], capture_output=True, text=True).stdout
starts = {e["name"]: e.get("one_shot_start") for e in json.loads(out)["environments"]}
t.ok(all(starts.get(n) == "warm" for n in ("python", "node", "pyshort", "nodeshort")),
     "--list-envs: python and node environments start warm", starts)
t.ok(str(starts.get("shell", "")).startswith("cold: "), "--list-envs: bash starts cold, and says why",
     starts)

# ---- the second run really is warm ------------------------------------------
# Only a warm interpreter started before its code file existed; the launcher
# shows in its /proc/self/cmdline (README: a documented difference).
WHEN = {
    "python": "import os\nst = os.stat('/run/sandbox/main.py')\n"
              "print(open('/proc/self/cmdline','rb').read().split(b'\\0')[1].decode())\n"
              "print(os.stat('/proc/self').st_mtime_ns, st.st_mtime_ns)",
    "node": "const fs = require('fs')\n"
            "console.log(fs.readFileSync('/proc/self/cmdline', 'latin1').split('\\0')[1])\n"
            "console.log(fs.statSync('/proc/self', {bigint: true}).mtimeNs, "
            "fs.statSync('/run/sandbox/main.js', {bigint: true}).mtimeNs)",
}
for env, code in WHEN.items():
    cold, warm, took = cold_then_warm(env, code)
    cl, wl = cold.get("stdout", "").split("\n"), warm.get("stdout", "").split("\n")
    t.ok(cl[0].startswith("/run/sandbox/main.") and "_warm." in wl[0] and took,
         "%s: the first run starts cold, the next one takes a warm spare" % env, (cold, warm))

# ---- Python: what the code sees ----------------------------------------------
PY = {
    "identity": r"""
import sys, __main__
print(__name__, sys.argv, __file__, sys.path[0], getattr(sys, "orig_argv", ["", "?"])[1:])
print([(k, type(v).__name__) for k, v in vars(__main__).items()])
print(__doc__, __package__, __spec__, __cached__, type(__loader__).__name__, __loader__.name, __loader__.path)
print(sorted(sys.modules))
print(sorted(k for k in sys.path_importer_cache if not k.startswith("/nix/store/")))
print(__main__, sys.stdout.write_through, sys.stderr.line_buffering, sys.flags.optimize)
""",
    "traceback": "def f():\n    return 1 / 0\n\nprint('before')\nf()\n",
    "exit code": "import sys\nprint('x')\nsys.exit(3)\n",
    "SystemExit message": "raise SystemExit('bye')\n",
    "syntax error": "print('never')\nx = (\n",
    "signal": "import os, signal\nprint('x', flush=True)\nos.kill(os.getpid(), signal.SIGTERM)\n",
    "KeyboardInterrupt": "import atexit\natexit.register(lambda: print('atexit ran'))\nraise KeyboardInterrupt\n",
    "excepthook": "import sys\nsys.excepthook = lambda t, v, tb: print('hook', t.__name__, "
                  "tb.tb_frame.f_code.co_filename, tb.tb_lineno, tb.tb_next)\nraise ValueError(1)\n",
    "unbuffered": "import sys, os\nfor i in range(3):\n    print('out', i)\n    sys.stderr.write('err %d\\n' % i)\n"
                  "os.system('echo from a child')\nprint('end')\n",
    "encoding": b"# -*- coding: latin-1 -*-\nprint('caf\xe9')\n".decode("latin-1"),
    "threads and atexit": "import atexit, threading, time\natexit.register(print, 'atexit')\n"
                          "threading.Thread(target=lambda: (time.sleep(0.2), print('thread'))).start()\n"
                          "print('main')\n",
}
for name, code in PY.items():
    same("python", name, code)

# ---- Node ------------------------------------------------------------------------
# Documented difference: the bottom frames of a stack (Node's start-up vs its
# tick queue) are not the code's.
def node_norm(text):
    return re.sub(r"\n    at (Function\.)?executeUserEntryPoint[^\n]*(\n    at [^\n]*(run_main_module|task_queues)[^\n]*)?",
                  "\n    at <entry>", text)


NODE = {
    "identity": r"""
console.log(require.main === module, module.id, module.filename, __filename, __dirname);
console.log(process.argv.slice(1), process.execArgv, process.mainModule === module, module.parent);
console.log(Object.keys(require.cache), module.paths.slice(0, 2), typeof exports, this === module.exports);
console.log(process.moduleLoadList.filter(x => !/^(Internal|NativeModule internal)/.test(x)).join(','));
""",
    "uncaught error": "function f() { throw new Error('boom') }\nconsole.log('before')\nf()\n",
    "exit code": "console.log('x'); process.exitCode = 4\n",
    "process.exit": "process.on('exit', c => console.log('exit', c)); process.exit(5)\n",
    "signal": "console.log('x'); process.kill(process.pid, 'SIGTERM')\n",
    "unhandled rejection": "Promise.reject(new Error('rej'))\n",
    "syntax error": "let a = ;\n",
    "event order": "process.nextTick(() => console.log('tick')); Promise.resolve().then(() => "
                   "console.log('micro')); setImmediate(() => console.log('immediate')); "
                   "setTimeout(() => console.log('timeout'), 0); console.log('sync')\n",
    "ES module syntax": "import fs from 'fs';\nconsole.log(typeof fs.readFileSync, import.meta.url);\n",
    "top-level await": "const x = await Promise.resolve(5); console.log(x)\n",
    "stderr and stdout": "for (let i = 0; i < 3; i++) { console.log('out', i); console.error('err', i) }\n"
                         "require('child_process').execSync('echo from a child', {stdio: 'inherit'})\n",
}
for name, code in NODE.items():
    same("node", name, code, node_norm)

# ---- a spare serves one run ----------------------------------------------------
LEAK = {
    "python": "import builtins, os, sys\n"
              "seen = [getattr(builtins, 'MARK', None), os.path.exists('/tmp/mark'), os.path.exists('/workspace/mark'),\n"
              "        'mark' in sys.modules]\n"
              "builtins.MARK = 1\nsys.modules['mark'] = sys\nopen('/tmp/mark', 'w').write('x')\nopen('/workspace/mark', 'w').write('x')\n"
              "print(repr(seen).replace(' ', ''), open('/proc/self/cmdline','rb').read().split(b'\\0')[1].decode())\n",
    "node": "const fs = require('fs')\n"
            "const seen = [globalThis.MARK, fs.existsSync('/tmp/mark'), fs.existsSync('/workspace/mark'),"
            " 'mark' in require.cache]\n"
            "globalThis.MARK = 1; require.cache.mark = module\n"
            "fs.writeFileSync('/tmp/mark', 'x'); fs.writeFileSync('/workspace/mark', 'x')\n"
            "console.log(JSON.stringify(seen), fs.readFileSync('/proc/self/cmdline', 'latin1').split('\\0')[1])\n",
}
CLEAN = {"python": "[None,False,False,False]", "node": "[null,false,false,false]"}
for env, code in LEAK.items():
    s = server()
    lines = []
    for i in range(6):
        lines.append(sc(s.run(code, env)).get("stdout", "").split())
        time.sleep(0.3 if i % 2 else 0)   # some runs back to back, some after a pause
    took = took_spare(s)
    s.close()
    t.ok(len(lines) == 6 and all(len(l) == 2 and l[0] == CLEAN[env] for l in lines),
         "%s: no run sees what an earlier one left in the interpreter, /tmp or /workspace "
         "(6 runs, %d from spares)" % (env, took), lines)
    t.ok(took >= 3 and sum("_warm." in l[1] for l in lines if len(l) == 2) == took,
         "%s: the runs that took a spare ran warm" % env, (took, lines))

# ---- a frozen or stopped spare -----------------------------------------------
# pyshort/nodeshort time out after 3 s: a run that waited on a stopped spare
# would end as the code's timeout.
def spare_pids(s):
    """(init, interpreter) of the one spare sandbox alive."""
    procs = [(p, cmdline(p)) for p, _ in descendants(s.p.pid)]
    init = [p for p, c in procs if c.startswith("sandbox-init")]
    interp = [p for p, c in procs if "_warm." in c]
    return init, interp


for env, code, what in (("pyshort", "print('ran')", "init and interpreter"),
                        ("nodeshort", "console.log('ran')", "init and interpreter"),
                        ("pyshort", "print('ran')", "interpreter")):
    s = server()
    sc(s.run(code, env))
    time.sleep(0.6)
    init, interp = spare_pids(s)
    stopped = (init if what != "interpreter" else []) + interp
    for p in stopped:
        os.kill(p, signal.SIGSTOP)
    # SIGSTOP takes effect a moment later: the run must come after the stop
    # (a spare stopped while it takes its code is the code being stopped).
    for _ in range(200):
        if all(open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()[0] == "T" for p in stopped):
            break
        time.sleep(0.01)
    t0 = time.monotonic()
    r = sc(s.run(code, env, timeout=20))
    took = time.monotonic() - t0
    s._fill(0.05)
    log = s.err.decode(errors="replace")
    t.ok(len(init) == 1 and len(interp) == 1 and r.get("stdout") == "ran\n" and r.get("exit_code") == 0
         and not r.get("timed_out") and r.get("duration_ms", 3000) < 3000,
         "%s: a spare whose %s is stopped (SIGSTOP) costs the run neither its timeout nor its result "
         "(%.2f s)" % (env, what, took), (init, interp, r, log[-1500:]))
    why = "ended before accepting" if what == "interpreter" else "did not accept its code within"
    t.ok(why in log and "the run starts in a fresh one" in log,
         "%s: and the server says it discarded the spare (%s)" % (env, why), log[-1500:])
    r = sc(s.run(code, env))
    t.ok(r.get("stdout") == "ran\n", "%s: the next run works" % env, r)
    left = [p for p in stopped if os.path.exists("/proc/%d" % p)
            and open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()[0] != "Z"]
    t.ok(not left, "%s: the stopped spare's processes are gone" % env, left)
    t.ok(s.close() == 0, "clean exit")

sys.exit(t.done())
