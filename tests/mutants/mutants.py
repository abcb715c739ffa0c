"""The mutants of `make mutants`: each removes one defence from a copy of
csrc/ (an exact text replacement that must apply), and names the test files
that must then fail. A mutant the tests do not notice means a promise no test
holds. Used by tests/mutants/run.sh:
  mutants.py list                 names
  mutants.py tests NAME           its test files (integration test_*.py or unit:NAME)
  mutants.py apply NAME DIR       mutate DIR/csrc in place (exit 2 if it does not apply)
"""
import sys

# name: (why, [(file, old, new, at_least)], tests)
MUTANTS = {
    "no-pdeathsig": (
        "the sandbox no longer dies with the server",
        [("jail_child.c", "prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)", "0", 1)],
        ["test_server_kill.py"]),
    "sessions-survive-shutdown": (
        "the server no longer ends its sessions when it stops",
        [("session.c", "void session_shutdown(void)\n{\n", "void session_shutdown(void)\n{\n\treturn;\n", 1)],
        ["test_server_kill.py", "test_sessions.py"]),
    "seccomp-keyctl-allowed": (
        "one seccomp rule dropped (keyctl)",
        [("sysfilter.c", '\t{ "keyctl", SF_ALWAYS, 0, "kernel keyrings are not namespaced" },\n', "", 1)],
        ["unit:test_sysfilter", "test_jail.py"]),
    "vsock-allowed": (
        "AF_VSOCK in the socket family allow-list",
        [("sysfilter.c", "{ AF_UNIX, AF_INET, AF_INET6, AF_NETLINK }", "{ AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, 40 }", 1)],
        ["unit:test_sysfilter", "test_filter.py"]),
    "output-cap-ignored": (
        "output beyond max_output_bytes is kept",
        [("outcap.c", "\tif (o->len >= o->cap || n == 0)", "\tif (n == 0)", 1),
         ("outcap.c", "\tsize_t take = o->cap - o->len < n ? o->cap - o->len : n;", "\tsize_t take = n;", 1)],
        ["test_run.py"]),
    "timeout-never-armed": (
        "a one-shot run's timeout is never armed (neither the server's timer nor the sandbox init's deadline)",
        [("exec.c", "now + (uint64_t)r->spec.env->limits.timeout_seconds * 1000u,",
          "now + 3600000u,", 1),
         ("jail.c", "a.deadline_s = s->deadline_s ? s->deadline_s : s->env->limits.timeout_seconds;",
          "a.deadline_s = 3600;", 1)],
        ["test_run.py"]),
    "project-writable": (
        "the project is a plain read-write bind",
        [("mounts.c", "static int op_project(const struct mount_op *op, const char *src, const char *dst, struct err *e)\n{\n",
          "static int op_project(const struct mount_op *op, const char *src, const char *dst, struct err *e)\n{\n"
          "\tif (mkdir_p(dst, 0755, e) < 0 || mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)\n"
          "\t\treturn err_sys(e, errno, \"bind %s\", op->src);\n\treturn 0;\n", 1)],
        ["test_project_walls.py"]),
    "proc-unmasked": (
        "/proc/cmdline and Docker's masked paths shown",
        [("mounts.c", "\tif (mask_proc(dst, e) < 0)\n\t\treturn -1;\n", "", 1)],
        ["test_project_walls.py"]),
    "utf8-repair-off": (
        "invalid UTF-8 is passed through instead of repaired",
        [("utf8.c", '\t\t\tmemcpy(out + o, "\\xef\\xbf\\xbd", 3);\n\t\t\to += 3;', "\t\t\tout[o++] = (char)p[i];", 1)],
        ["test_protocol_edges.py"]),
    "ids-rounded": (
        "ids echoed through a double",
        [("rpc.c", "\tif (text)\n\t\treturn cJSON_CreateRaw(text);\n", "", 1)],
        ["test_protocol_edges.py"]),
    "memory-cgroup-off": (
        "no cgroup: memory limited per process only",
        [("reslimits.c", "\t\tif (detect_v1() == 0)\n\t\t\tmode = LIMITS_CGROUP1;", "\t\tif (0)\n\t\t\tmode = LIMITS_CGROUP1;", 1)],
        ["test_memory.py"]),
    "spares-start-cold": (
        "spares no longer start their interpreter ahead of the code",
        [("pool.c", "\t\tg->spec.warm = true;", "\t\tg->spec.warm = false;", 1)],
        ["test_warm.py"]),
    "spare-accept-deadline-off": (
        "a spare that does not accept its code is waited for until the run's timeout",
        [("exec.c", "#define EXEC_ACCEPT_MS 500", "#define EXEC_ACCEPT_MS 600000", 1)],
        ["test_warm.py"]),
    "stopped-launcher-accepted": (
        "a warm spare whose interpreter is stopped accepts its code anyway",
        [("jail_child.c", "\t\t    si.si_pid != 0)\n\t\t\t_exit(JAIL_INIT_EXIT_STALE);",
          "\t\t    si.si_pid != 0 * 1)\n\t\t\t(void)0;", 1)],
        ["test_warm.py"]),
    "lost-stream-cancels": (
        "an SSE answer's call is cancelled when its connection is lost (no resuming it)",
        [("http.c", "\tst->x = NULL;\n\tst->lost_ms = loop_now_ms();",
          "\tst->x = NULL;\n\tmcp_peer_gone(&st->peer);\n\tst->lost_ms = loop_now_ms();", 1)],
        ["test_http_streams.py"]),
    "resume-replays-nothing": (
        "Last-Event-ID resumes after the newest event, not after the one named",
        [("sse.c", "\ts->cursor = e;\n\ts->cursor_off = 0;\n\t/* Lost", "\ts->cursor = NULL;\n\ts->cursor_off = 0;\n\t/* Lost", 1)],
        ["unit:test_sse", "test_http_streams.py"]),
    "resumed-connection-waits": (
        "a connection resumed inside libmicrohttpd's callbacks waits for other traffic (up to 30 s)",
        [("http.c", "\tif (kicked)\n\t\tset_run_timer(0);", "\tif (0)\n\t\tset_run_timer(0);", 1)],
        ["test_http_streams.py"]),
    "tool-call-as-json": (
        "a tool call is answered as JSON to a client that also takes SSE (its log has nowhere to go)",
        [("http.c", "(!json_ok || progress || tool_call)", "(!json_ok || progress)", 1)],
        ["test_http.py"]),
    "client-can-stall": (
        "replies written with a blocking loop again (a client that stops reading stalls the server)",
        [("rpc.c", "\tif (ofl < 0 || fcntl(out_fd, F_SETFL, ofl | O_NONBLOCK) < 0)",
          "\tif (ofl < 0 || fcntl(out_fd, F_SETFL, ofl & ~O_NONBLOCK) < 0)", 1)],
        ["test_protocol_edges.py"]),
}


def main():
    cmd = sys.argv[1]
    if cmd == "list":
        print("\n".join(MUTANTS))
    elif cmd == "why":
        print(MUTANTS[sys.argv[2]][0])
    elif cmd == "tests":
        print("\n".join(MUTANTS[sys.argv[2]][2]))
    elif cmd == "apply":
        name, root = sys.argv[2], sys.argv[3]
        for fname, old, new, least in MUTANTS[name][1]:
            path = "%s/csrc/%s" % (root, fname)
            with open(path) as f:
                s = f.read()
            n = s.count(old)
            if n < least:
                print("mutant %s does not apply: %r not found in csrc/%s (update tests/mutants/mutants.py)"
                      % (name, old[:60], fname))
                sys.exit(2)
            with open(path, "w") as f:
                f.write(s.replace(old, new))


if __name__ == "__main__":
    main()
