# agent/python_warm.py — the warm one-shot launcher for Python.
#
# Owns: starting the interpreter before the code exists, then running the
# code file (sys.argv[1]) as `python3 FILE` would: one run, then the process
# ends with the code's own exit status.
# Must not: import anything the interpreter did not already import at
# start-up (the code could see it in sys.modules), leave a name of its own in
# __main__, or run anything but the one code file.
#
# Protocol (csrc/jail_child.c): the sandbox init starts us with fd 3 the read
# end of a pipe, and closes its write end once the code file is in place and
# read-only. EOF on fd 3 is "go". The differences from a cold start that
# remain are listed in README.md ("Warm one-shot runs").
_STARTUP = dict(globals())  # first: __main__ as `python3 FILE` leaves it
import os  # noqa: E402 (both were imported at start-up: sys.modules is unchanged)
import sys  # noqa: E402


def _launch(os=os, sys=sys, startup=_STARTUP):
    # Locals only: __main__'s globals are replaced below.
    path = sys.argv[1]
    while os.read(3, 64):
        pass
    os.close(3)

    # What `python3 FILE` sets up (Modules/main.c, Python/pythonrun.c): the
    # script's directory first on sys.path, argv naming the script, and
    # __main__ holding the names it held when this launcher started, in
    # that order, with the script's values.
    sys.path[0] = os.path.dirname(path)
    # Start-up asked for an importer of the script itself (none: a file).
    sys.path_importer_cache.pop(startup["__file__"], None)
    sys.path_importer_cache[path] = None
    sys.argv = [path]
    if hasattr(sys, "orig_argv"):
        sys.orig_argv = sys.orig_argv[:1] + [path]
    fresh = {"__doc__": None, "__file__": path, "__cached__": None,
             "__loader__": type(startup["__loader__"])("__main__", path)}
    g = sys.modules["__main__"].__dict__
    g.clear()
    for k, v in startup.items():
        g[k] = fresh.get(k, {} if k == "__annotations__" else v)
    with open(path, "rb") as f:
        source = f.read()
    try:
        code = compile(source, path, "exec", dont_inherit=True)
        del source
        exec(code, g)
    except SystemExit:
        raise  # the interpreter handles it exactly as for a cold start
    except BaseException as e:
        # The traceback starts at the code, not in this launcher.
        tb = e.__traceback__.tb_next if e.__traceback__ else None
        e.__traceback__ = tb
        sys.last_type, sys.last_value, sys.last_traceback = type(e), e, tb
        if hasattr(sys, "last_exc"):
            sys.last_exc = e
        sys.excepthook(type(e), e, tb)
        if isinstance(e, KeyboardInterrupt):
            # A cold interpreter finalizes (threads joined, atexit run), then
            # ends by SIGINT (Modules/main.c, exit_sigint).
            for mod, fn in (("threading", "_shutdown"), ("atexit", "_run_exitfuncs")):
                if mod in sys.modules and hasattr(sys.modules[mod], fn):
                    getattr(sys.modules[mod], fn)()
            sig = sys.modules["_signal"]
            for f in (sys.stdout, sys.stderr):
                try:
                    f.flush()
                except Exception:
                    pass
            sig.signal(sig.SIGINT, sig.SIG_DFL)
            os.kill(os.getpid(), sig.SIGINT)
        raise SystemExit(1) from None


_launch()
