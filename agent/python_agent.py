# agent/python_agent.py — the in-sandbox side of a Python session.
#
# Owns: one persistent namespace in which each request's code runs, with the
# result (exit code) sent back on the control descriptor.
# Must not: write protocol to stdout/stderr (they carry only the code's
# output), or read the code's stdin (it is /dev/null).
#
# Protocol (agent/PROTOCOL.md): requests and replies on fd 3, each frame
# "<decimal length>\n<JSON>". A request {"id": N, "code_bytes": M} is followed
# by M raw bytes of code. After the code ran, the agent writes the end marker
# to stdout and stderr, then replies {"id": N, "exit_code": E, ...}.
import json
import os
import signal
import sys
import traceback

CTL = 3
TOKEN = os.environ.pop("NSM_AGENT_TOKEN", "")
# The agent's own copies of stdout and stderr (close-on-exec: no program the
# code starts gets them). Each call starts with fd 1 and 2 given back from
# them, so code that closes or redirects its stdout (os.close(1),
# os.dup2(null, 1)) changes that call only, and the end markers always get
# out.
OUT, ERR = os.dup(1), os.dup(2)


def read_exact(n):
    chunks = []
    while n > 0:
        b = os.read(CTL, min(n, 1 << 20))
        if not b:
            raise EOFError
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def read_frame():
    header = b""
    while not header.endswith(b"\n"):
        c = os.read(CTL, 1)
        if not c:
            raise EOFError
        header += c
        if len(header) > 20:
            raise ValueError("bad frame header")
    return json.loads(read_exact(int(header)))


def send(obj):
    data = json.dumps(obj).encode()
    os.write(CTL, str(len(data)).encode() + b"\n" + data)


def write_marker(req_id):
    marker = ("\x1e%s:%d\x1e" % (TOKEN, req_id)).encode()
    for fd in (OUT, ERR):
        while marker:
            try:
                os.write(fd, marker)
                break
            except InterruptedError:
                continue


def give_back_stdio():
    """fd 1 and 2 as the agent started with them, and sys.stdout/stderr
    usable again if the code closed them or set them to None."""
    for fd, saved in ((1, OUT), (2, ERR)):
        os.dup2(saved, fd)
    for name in ("stdout", "stderr"):
        f = getattr(sys, name)
        if f is None or getattr(f, "closed", False):
            first = getattr(sys, "__%s__" % name)  # its settings, even closed
            setattr(sys, name, open(1 if name == "stdout" else 2, "w", buffering=1,
                                    closefd=False,
                                    encoding=getattr(first, "encoding", None) or "utf-8",
                                    errors=getattr(first, "errors", None) or "strict"))


def end_of_cell():
    """A module the code loaded may want the end of each call, as a notebook
    cell's end: the python-plot preset's backend (presets/plot/nsm_plot.py)
    saves the figures the cell left open. Its errors are not the code's."""
    hook = getattr(sys.modules.get("nsm_plot"), "end_of_cell", None)
    if hook:
        try:
            hook()
        except Exception:
            pass


def run(code, scope):
    """Run code in scope; return the exit code a script would have had."""
    try:
        compiled = compile(code, "<session>", "exec")
        exec(compiled, scope)
        return 0, False
    except SystemExit as e:
        if e.code is None:
            return 0, False
        if isinstance(e.code, int):
            return e.code & 0xFF, False
        print(e.code, file=sys.stderr)
        return 1, False
    except BaseException as e:
        # Drop the agent's own frame so the traceback shows only user code.
        tb = e.__traceback__
        traceback.print_exception(type(e), e, tb.tb_next if tb else None)
        if isinstance(e, KeyboardInterrupt):
            return 130, True
        return 1, False


def main():
    os.set_inheritable(CTL, False)
    # Code runs as __main__ would, in one namespace kept between calls.
    scope = {"__name__": "__main__", "__builtins__": __builtins__}
    sys.argv = ["<session>"]
    # Line-buffered so print() and a subprocess's output keep their order.
    for f in (sys.stdout, sys.stderr):
        f.reconfigure(line_buffering=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    while True:
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
            req = read_frame()
            code = read_exact(req["code_bytes"]).decode("utf-8", "replace")
        except EOFError:
            return
        finally:
            # An interrupt meant for an earlier call that had already ended
            # must not hit this one: discard it while SIGINT is blocked.
            while signal.sigtimedwait([signal.SIGINT], 0) is not None:
                pass
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
        interrupted = False
        give_back_stdio()
        try:
            rc, interrupted = run(code, scope)
            end_of_cell()
        except KeyboardInterrupt:  # arrived between exec and here
            rc, interrupted = 130, True
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
            for f in (sys.stdout, sys.stderr):
                try:
                    f.flush()
                except Exception:
                    pass
            write_marker(req["id"])
            send({"id": req["id"], "exit_code": rc, "interrupted": interrupted})
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])


main()
