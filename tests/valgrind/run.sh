#!/usr/bin/env bash
# Valgrind (memcheck) on scripted MCP sessions against a glibc build of the
# server: csrc/ copied to build/valgrind/src with tests/valgrind/vg_shim.c
# (works around what valgrind 3.19 does not emulate: seccomp(2),
# pidfd_send_signal(2), a changed RLIMIT_NOFILE hard limit), the env table
# generated from the built server's env.json, compiled -O1 -g without
# sanitizers. Sessions (tests/valgrind/session.py):
#   eof   initialize, tools/list, runs in shell/python/node, output over the
#         cap, protocol and tool errors, ping during a run, a cancelled run, a
#         session call, then EOF;
#   term  a run in flight, then SIGTERM.
# For each: the protocol checks, then memcheck's verdict on the server (no
# error, no leak: --error-exitcode), on the sandbox children until their exec
# (--trace-children=no stops there), and for eof no descriptor left open.
# Prints TAP.
#
#   bash tests/valgrind/run.sh     env: NSM_SERVER (default ./result/bin/nix-sandbox-mcp)
set -u
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/build/valgrind
mkdir -p "$out"

n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }
finish() { echo "1..$n"; [ "$fail" -eq 0 ]; exit; }

for tool in valgrind python3 make cc; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed (tests/setup.sh installs it)"; finish; }
done

server=${NSM_SERVER:-$root/result/bin/nix-sandbox-mcp}
if [ -z "${NSM_SERVER:-}" ] && [ ! -x "$server" ]; then
	echo "# $server is missing: building it with make"
	make -s -C "$root" >"$out/server-build.log" 2>&1 || tail -n 20 "$out/server-build.log" | sed 's/^/#   /'
fi
env_json=$(dirname "$(readlink -f "$server")")/../share/nix-sandbox-mcp/env.json
if [ ! -f "$env_json" ]; then
	not_ok "the built server's env.json exists ($env_json; run make, or set NSM_SERVER)"
	finish
fi

# ---- the glibc build ---------------------------------------------------------------
src=$out/src
rm -rf "$src" && mkdir -p "$src"
cp csrc/*.h csrc/Makefile "$src/"
cp csrc/*.c "$src/"
cp tests/valgrind/vg_shim.c "$src/"
if make -s -C codegen BUILDDIR="$out/codegen" >"$out/build.log" 2>&1 &&
	"$out/codegen/nsm-codegen" -o "$src/env_table.gen.h" "$env_json" >>"$out/build.log" 2>&1 &&
	make -s -C "$src" nix-sandbox-mcp CFLAGS="-O1 -g" >>"$out/build.log" 2>&1; then
	ok "the glibc server builds (-O1 -g, no sanitizers, env table of $(readlink -f "$server" | cut -c1-60)…)"
else
	not_ok "the glibc server builds"
	tail -n 25 "$out/build.log" | sed 's/^/#   /'
	finish
fi

vg=(valgrind --trace-children=no --leak-check=full --show-leak-kinds=definite,indirect,possible
	--track-fds=yes --error-exitcode=99 --num-callers=30
	--suppressions=tests/valgrind/server.supp)

# Run one session; renumber its TAP; then judge valgrind's log.
session() {
	local mode=$1 log=$out/$1.vglog line main_pid= server_rc= start=$(date +%s) failed_before=$fail
	rm -f "$log"
	while IFS= read -r line; do
		case "$line" in
		"ok "*) n=$((n + 1)); echo "ok $n - $mode: ${line#* - }" ;;
		"not ok "*) n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $mode: ${line#* - }" ;;
		"# server pid "*) main_pid=${line#\# server pid } ;;
		"# server exit "*) server_rc=${line#\# server exit } ;;
		"# driver exit 0") ;;
		"# driver exit "*)
			# Exited non-zero without a failing test line: it crashed.
			if [ "$fail" -eq "$failed_before" ]; then
				not_ok "$mode: the driver exited ${line#\# driver exit }"
				tail -n 10 "$out/$mode.stderr" | sed 's/^/#   /'
			fi ;;
		"#"*) echo "$line" ;;
		esac
	done < <(python3 tests/valgrind/session.py "$mode" "${vg[@]}" --log-file="$log" "$src/nix-sandbox-mcp" \
		2>"$out/$mode.stderr"; echo "# driver exit $?")
	echo "# $mode session: $(( $(date +%s) - start )) s under valgrind"

	if [ -z "$main_pid" ] || [ ! -s "$log" ]; then
		not_ok "$mode: memcheck ran (no log $log)"
		return
	fi
	local summary
	summary=$(grep -E "^==$main_pid== +(ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|All heap blocks)" "$log" |
		sed -E "s/^==$main_pid== +//; s/ from [0-9]+ contexts.*//; s/ in [0-9]+ blocks//; s/ERROR SUMMARY: //" |
		tr '\n' ',' | sed 's/,$//; s/,/, /g')
	if [ "$server_rc" = 0 ] && grep -q "^==$main_pid== ERROR SUMMARY: 0 errors" "$log"; then
		ok "$mode: memcheck finds no error and no leak in the server (${summary:-all heap blocks freed})"
	else
		not_ok "$mode: memcheck finds no error and no leak in the server (exit ${server_rc:-?}; $summary)"
		# The first reports, with their stacks.
		grep -E "^==$main_pid== " "$log" | sed -n '/^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|definitely\|possibly\|Mismatched\|Syscall param\|Source and dest\)/,+14p' |
			head -n 45 | sed 's/^/#   /'
	fi
	# Sandbox children: everything up to their exec ran under memcheck too.
	local kids bad
	kids=$(grep -E '^==[0-9]+== ERROR SUMMARY' "$log" | grep -vc "^==$main_pid==")
	bad=$(grep -E '^==[0-9]+== ERROR SUMMARY' "$log" | grep -v "^==$main_pid==" | grep -vc 'SUMMARY: 0 errors')
	if [ "$bad" -eq 0 ]; then
		ok "$mode: memcheck finds no error in the sandbox children before their exec ($kids summaries)"
	else
		not_ok "$mode: memcheck finds no error in the sandbox children before their exec ($bad of $kids with errors)"
		grep -E '^==[0-9]+== ' "$log" | grep -v "^==$main_pid==" | grep -A12 -E '== (Invalid|Conditional|Syscall param|Use of)' |
			head -n 30 | sed 's/^/#   /'
	fi
	if [ "$mode" = eof ]; then
		local open
		open=$(grep -E "^==$main_pid== Open " "$log" | grep -v "$log" | sed "s/^==$main_pid== //" | tr '\n' ';')
		if [ -z "$open" ]; then
			ok "$mode: no descriptor left open at exit besides stdio"
		else
			not_ok "$mode: no descriptor left open at exit besides stdio (open: $open)"
		fi
	fi
}
session eof
session term
finish
