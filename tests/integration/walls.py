"""The sandbox's walls as the tests expect them, written down once for the
checks that look at them from inside (test_jail.py, test_walls.py): the
results of every system call the static probe (tests/probe) makes, tied to
the deny table of csrc/sysfilter.c; the documented environment variables,
root and /dev (csrc/jail.h); where the server keeps the probe program."""
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SYSFILTER_C = os.path.join(HERE, "..", "..", "csrc", "sysfilter.c")

# What each call of `probe syscalls` must give inside a sandbox: EPERM for
# every call the filter denies, ENOSYS for clone3 (so libcs fall back to
# clone), and the controls: ordinary calls the filter must leave alone.
DENIED = (
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "unshare", "setns",
    "clone_newuser", "clone_newns", "clone_newuts", "clone_newipc", "clone_newpid",
    "clone_newnet", "clone_newcgroup", "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key", "ptrace", "process_vm_readv", "process_vm_writev",
    "open_by_handle_at", "name_to_handle_at", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "lookup_dcookie", "fanotify_init", "process_madvise",
    "move_pages", "migrate_pages", "mbind", "set_mempolicy", "get_mempolicy",
    "set_mempolicy_home_node", "sysfs", "ustat", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "create_module", "get_kernel_syms", "query_module",
    "reboot", "swapon", "swapoff", "settimeofday", "clock_settime", "clock_adjtime",
    "adjtimex", "acct", "quotactl", "quotactl_fd", "nfsservctl", "syslog", "vhangup",
    "kcmp", "pidfd_getfd", "iopl", "ioperm", "uselib", "_sysctl", "sethostname",
    "setdomainname", "tiocsti", "tiocsti_highbits", "tioclinux", "personality_rie",
    "personality_norand", "socket_vsock", "socket_packet", "socket_inet_highbits", "socketpair_vsock",
)
CONTROLS = {"personality_query": "OK", "personality_linux": "OK", "ioctl_fionread": "EBADF",
            "getpid": "OK", "fork": "OK", "socket_unix": "OK", "socket_inet": "OK",
            "socket_netlink": "OK", "socketpair_unix": "OK"}
SYSCALLS = dict({n: "EPERM" for n in DENIED}, clone3="ENOSYS", **CONTROLS)

# The probe calls that exercise each rule of the filter's table (a rule on
# an argument is probed once per value it tests).
PROBED_BY = {
    "clone": ["clone_newuser", "clone_newns", "clone_newuts", "clone_newipc", "clone_newpid",
              "clone_newnet", "clone_newcgroup"],
    "ioctl": ["tiocsti", "tiocsti_highbits", "tioclinux"],
    "personality": ["personality_rie", "personality_norand"],
    "socket": ["socket_vsock", "socket_packet", "socket_inet_highbits"],
    "socketpair": ["socketpair_vsock"],
}


def filter_rules():
    """The system call names of csrc/sysfilter.c's deny table."""
    with open(SYSFILTER_C) as f:
        src = f.read()
    body = src.split("static const struct sf_entry table[] = {", 1)[1].split("\n};", 1)[0]
    return re.findall(r'\{\s*"([a-z0-9_]+)",\s*SF_', body)


def unprobed_rules():
    """Rules of the filter that no expectation above exercises."""
    return [r for r in filter_rules() if any(p not in SYSCALLS for p in PROBED_BY.get(r, [r]))]


def syscall_diff(output):
    """Differences between `probe syscalls` output and SYSCALLS:
    [(name, got, want)]; empty when they match exactly."""
    got = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2:
            got[parts[0]] = parts[1]
        elif line.strip():
            got[line] = "?"
    return sorted((n, got.get(n), SYSCALLS.get(n)) for n in set(got) | set(SYSCALLS)
                  if got.get(n) != SYSCALLS.get(n))


# The environment a sandbox's interpreter starts with (csrc/jail.h): PATH
# (the environment's bin/) and this fixed list; a session's agent also gets
# NSM_AGENT_TOKEN.
FIXED_ENV = {
    "HOME": "/workspace", "TMPDIR": "/tmp", "USER": "sandbox", "LOGNAME": "sandbox",
    "SHELL": "/bin/sh", "LANG": "C.UTF-8", "TERM": "dumb", "NO_COLOR": "1",
    "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
}


def env_diff(environ_text, env_root, session=False):
    """Differences between an initial environment (NUL- or newline-separated
    NAME=VALUE) and the documented one: [(name, got, want)]."""
    got = dict(kv.split("=", 1) for kv in re.split("[\0\n]", environ_text) if "=" in kv)
    want = dict(FIXED_ENV, PATH=env_root + "/bin")
    diff = sorted((n, got.get(n), want.get(n)) for n in set(got) | set(want)
                  if n != "NSM_AGENT_TOKEN" and got.get(n) != want.get(n))
    token = got.get("NSM_AGENT_TOKEN")
    if session and not (token and re.fullmatch("[0-9a-f]{1,64}", token)):
        diff.append(("NSM_AGENT_TOKEN", token, "<hex token>"))
    if not session and token is not None:
        diff.append(("NSM_AGENT_TOKEN", token, None))
    return diff


# Everything in a sandbox's / and /dev (csrc/jail.h).
ROOT = {"bin", "dev", "etc", "nix", "proc", "run", "tmp", "usr", "workspace"}
ROOT_WITH_PROJECT = ROOT | {"project"}
# A session's sandbox also keeps the project tree under /.project (mode 0,
# not enterable), to make its view again before each call.
ROOT_WITH_SESSION_PROJECT = ROOT_WITH_PROJECT | {".project"}
DEV = {"null", "zero", "full", "random", "urandom", "tty", "fd", "stdin", "stdout", "stderr", "shm"}
ETC_GROUP = "sandbox:x:1000:\nnogroup:x:65534:\n"
ETC_PASSWD = ("sandbox:x:1000:1000:sandbox:/workspace:/bin/sh\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")


def env_table(binary):
    """The server's baked environments by name, from the env.json its
    derivation ships beside it ({} when it has none: not a Nix build)."""
    path = os.path.join(os.path.dirname(os.path.realpath(binary)), "..", "share",
                        "nix-sandbox-mcp", "env.json")
    try:
        with open(path) as f:
            return {e["name"]: e for e in json.load(f)["environments"]}
    except (OSError, ValueError, KeyError):
        return {}


def host_i386(probe):
    """(True, _) when this kernel runs i386 system calls (int 0x80) of a
    64-bit process, (False, why) when it does not: then the filter's kill
    cannot be observed and the check is skipped, not passed."""
    if not probe or not os.access(probe, os.X_OK):
        return False, "the probe program is not reachable on the host (%s)" % probe
    p = subprocess.run([probe, "i386"], capture_output=True, text=True, timeout=10)
    if p.returncode == 0 and p.stdout.startswith("i386 alive"):
        return True, ""
    return False, "the kernel has no i386 emulation (probe i386 on the host: status %d)" % p.returncode


def skip(t, desc, why):
    """A TAP skip line: the check could not be made here."""
    return t.ok(True, "%s # SKIP %s" % (desc, why))
