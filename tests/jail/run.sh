#!/bin/sh
# tests/jail/run.sh — build the jail test harness (plain -Werror build and an
# ASan/UBSan build), the static probe and the benchmark, then run the TAP
# tests with both harness builds. Usage: tests/jail/run.sh [--bench]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/build"
mkdir -p "$out"
CC=${CC:-gcc}
# The probe's directory is part of the test environment's "closure" and must
# not lie under /tmp (the sandbox's own /tmp would hide it) even when the
# repository does (a CI clone in /tmp).
probe_dir=$(mktemp -d /usr/local/lib/nsm-jail-probe.XXXXXX) # /usr is in the closure already
trap 'rm -rf "$probe_dir"' EXIT
chmod 0755 "$probe_dir" # the sandbox user must reach the probe
CFLAGS="-std=gnu11 -D_GNU_SOURCE -pthread -O2 -g -Wall -Wextra -Werror -DPROBE_DIR=\"$probe_dir\""
SRC="$root/csrc/jail.c $root/csrc/jail_child.c $root/csrc/mounts.c $root/csrc/sysfilter.c
     $root/csrc/reslimits.c $root/csrc/fsutil.c $root/csrc/outcap.c $root/csrc/capture.c $root/csrc/pool.c $root/csrc/exec.c $root/csrc/err.c $root/csrc/loop.c $root/csrc/log.c
     $root/csrc/wsfiles.c $root/csrc/utf8.c $root/csrc/reaper.c $root/csrc/spawner.c $root/csrc/strbuf.c $root/csrc/exec_result.c
     $here/test_env.c"

$CC -static -O2 -Wall -Wextra -Werror -o "$probe_dir/probe" "$root/tests/probe/probe.c"
# shellcheck disable=SC2086
$CC $CFLAGS -o "$out/harness" $SRC "$here/harness.c" -lseccomp
# shellcheck disable=SC2086
$CC $CFLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
	-o "$out/harness-asan" $SRC "$here/harness.c" -lseccomp
# shellcheck disable=SC2086
$CC $CFLAGS -o "$out/bench" $SRC "$here/bench.c" -lseccomp

# Optional: the shipped toolchain (musl, static). MUSL_SECCOMP=<prefix> of a
# libseccomp built with musl-gcc (lib/libseccomp.a, include/seccomp.h).
# Debian's musl-gcc does not see kernel headers: link them in.
if [ -n "${MUSL_SECCOMP:-}" ] && command -v musl-gcc >/dev/null; then
	mkdir -p "$out/musl-include"
	for d in linux asm-generic; do ln -sfn "/usr/include/$d" "$out/musl-include/$d"; done
	ln -sfn "/usr/include/$(gcc -print-multiarch)/asm" "$out/musl-include/asm"
	# shellcheck disable=SC2086
	musl-gcc -static $CFLAGS -I"$out/musl-include" -I"$MUSL_SECCOMP/include" -o "$out/harness-musl" \
		$SRC "$here/harness.c" "$MUSL_SECCOMP/lib/libseccomp.a"
fi

# A project directory under /tmp: the jail must still bind it although the
# sandbox's own /tmp covers that path during setup.
proj=$(mktemp -d /tmp/jail-project.XXXXXX)
trap 'rm -rf "$proj" "$probe_dir"' EXIT
echo project-file > "$proj/hello.txt"
chmod -R a+rX "$proj"
export JAIL_TEST_PROJECT="$proj"

if [ "${1:-}" = "--bench" ]; then
	exec "$out/bench"
fi
rc=0
echo "# harness (gcc -O2)"
"$out/harness" || rc=1
echo "# harness (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1 "$out/harness-asan" || rc=1
if [ -x "$out/harness-musl" ] && [ -n "${MUSL_SECCOMP:-}" ]; then
	echo "# harness (musl, static)"
	"$out/harness-musl" || rc=1
fi
exit $rc
