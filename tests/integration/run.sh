#!/usr/bin/env bash
# Integration tests: drive the built binary over stdio. Builds the test
# server (presets + a probe environment) with Nix and, from the same env.json,
# an ASan/UBSan build of the server with the host's compiler; the protocol and
# run tests go through both. Prints TAP.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/build/integration
mkdir -p "$out"
offline=$root/build/offline-nixpkgs
if [ -f "$offline/default.nix" ]; then pkgs="import $offline { system = \"x86_64-linux\"; }"
else pkgs="import <nixpkgs> { }"; fi

n=0 fail=0
. tests/lib/tap.sh
emit() { tap_emit "$1" "$out/$1.stderr" "${@:2}"; }

if ! server=$(nix-build --no-out-link -E "import $root/tests/integration/server.nix { pkgs = $pkgs; }" 2>"$out/build.log"); then
	echo "not ok 1 - the test server builds"; tail -n 30 "$out/build.log" | sed 's/^/#   /'; echo "1..1"; exit 1
fi
server=$(tail -n 1 <<<"$server")
bin=$server/bin/nix-sandbox-mcp
# The same server with a 4 s session lifetime (test_lifetime.py).
if short=$(nix-build --no-out-link -E "import $root/tests/integration/server.nix { pkgs = $pkgs; maxLifetime = 4; }" 2>>"$out/build.log"); then
	export NSM_SERVER_SHORT_LIFE=$(tail -n 1 <<<"$short")/bin/nix-sandbox-mcp
fi

# The same table, compiled with sanitizers against the host's libraries.
asan=$out/asan/nix-sandbox-mcp
rm -rf "$out/asan" && mkdir -p "$out/asan" && cp csrc/*.c csrc/*.h csrc/Makefile "$out/asan/"
if make -s -C codegen BUILDDIR="$out/codegen" >/dev/null 2>"$out/codegen.log" &&
	"$out/codegen/nsm-codegen" -o "$out/asan/env_table.gen.h" "$server/share/nix-sandbox-mcp/env.json" &&
	make -s -C "$out/asan" nix-sandbox-mcp SAN=1 CFLAGS=-O1 >"$out/asan.log" 2>&1; then
	n=$((n + 1)); echo "ok $n - the ASan/UBSan server builds"
else
	n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - the ASan/UBSan server builds"; tail -n 20 "$out/asan.log" "$out/codegen.log" | sed 's/^/#   /'
	asan=
fi

# The same server with session spares discarded after 3 s unused instead of
# 5 minutes (test_session_spare.py sees one go), extra one-shot spares
# after 2 s instead of 60 (test_warm_pool.py sees the pool shrink), and
# 16 MiB instead of 256 for the answers held for HTTP clients
# (test_http_streams.py reaches it).
rm -rf "$out/short-spare" && mkdir -p "$out/short-spare" && cp csrc/*.c csrc/*.h csrc/Makefile "$out/short-spare/"
if [ -f "$out/asan/env_table.gen.h" ] && cp "$out/asan/env_table.gen.h" "$out/short-spare/" &&
	make -s -C "$out/short-spare" nix-sandbox-mcp CFLAGS="-O1 -DPOOL_SESSION_SPARE_AGE_S=3u -DPOOL_SPARE_IDLE_S=2u -DHTTP_MAX_HELD_BYTES=16777216u" >"$out/short-spare.log" 2>&1; then
	export NSM_SERVER_SHORT_SPARE=$out/short-spare/nix-sandbox-mcp
fi

project=$out/project
mkdir -p "$project" && echo "project file" > "$project/hello.txt"
export NSM_PROJECT=$project
export PYTHONDONTWRITEBYTECODE=1
# Every test server's log, kept at its exit (mcp.py): what a failure left.
export NSM_SERVER_LOG_DIR=$out/server-logs
rm -rf "$NSM_SERVER_LOG_DIR" && mkdir -p "$NSM_SERVER_LOG_DIR"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

for t in tests/integration/test_*.py; do
	name=$(basename "$t" .py)
	NSM_SERVER=$bin emit "$name" python3 "$t"
	case "$name" in test_protocol|test_run|test_sessions|test_files|test_http|test_http_streams)
		[ -n "$asan" ] && NSM_SERVER=$asan emit "$name[asan]" python3 "$t" ;;
	esac
done
echo "1..$n"
[ "$fail" -eq 0 ]
