#!/usr/bin/env bash
# The build pipeline end to end: config → Nix → env table → static server.
# Builds the default server (bundled presets) and a server from a custom
# config.toml, then checks the binary and its closure. Prints TAP.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 20 | sed 's/^/#   /'; return 0; }
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi; }

offline=$root/build/offline-nixpkgs
override=()
[ -f "$offline/flake.nix" ] && override=(--override-input nixpkgs "path:$offline")
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

if out=$(make -s build 2>&1); then ok "make builds the server"; else notok "make builds the server" "$out"; echo "1..$n"; exit 1; fi
bin=$root/result/bin/nix-sandbox-mcp
check "make leaves result/bin/nix-sandbox-mcp" test -x "$bin"
# An MCP client may be configured with `make run`: its stdout must carry
# nothing but protocol messages (make's lines and the build go to stderr).
# (As a client starts it: at top level, not under this suite's own make.)
out=$(printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"ping"}' | env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS make run 2>/dev/null)
out2=$(cd / && printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"ping"}' | env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS make -s -C "$root" run 2>/dev/null)
[ "$out2" = '{"jsonrpc":"2.0","id":1,"result":{}}' ] && ok "make -s -C DIR run: stdout holds only the protocol" \
	|| notok "make -s -C DIR run: stdout holds only the protocol" "$out2"
[ "$out" = '{"jsonrpc":"2.0","id":1,"result":{}}' ] && ok "make run: stdout holds only the protocol" \
	|| notok "make run: stdout holds only the protocol" "$out"

desc=$(file -L "$bin")
case "$desc" in *"statically linked"*) ok "file says statically linked" ;; *) notok "file says statically linked" "$desc" ;; esac
case "$desc" in *interpreter*) notok "no ELF interpreter" "$desc" ;; *) ok "no ELF interpreter" ;; esac
case "$desc" in *", stripped"*) ok "stripped" ;; *) notok "stripped" "$desc" ;; esac
size=$(stat -L -c %s "$bin")
[ "$size" -le 458752 ] && ok "binary is $size bytes (<= 448 KB)" || notok "binary is $size bytes (<= 448 KB)"

"$bin" --version | grep -q '^nix-sandbox-mcp 0\.' && ok "--version" || notok "--version"

# --list-envs gives each environment's closure size: the NAR sizes of the
# store paths its env.json lists, as the Nix store records them.
ej=$(dirname "$bin")/../share/nix-sandbox-mcp/env.json
want=$(jq -r '.environments[] | .name + " " + (.closure | join(" "))' "$ej" | while read -r name paths; do
	t=0; for p in $paths; do t=$((t + $(nix-store --query --size "$p"))); done; echo "$name $t"; done)
got=$("$bin" --list-envs | jq -r '.environments[] | "\(.name) \(.closure_bytes)"')
[ -n "$got" ] && [ "$got" = "$want" ] && ok "--list-envs: each environment's closure_bytes is the sum of its store paths' sizes" \
	|| notok "--list-envs: each environment's closure_bytes is the sum of its store paths' sizes" "got: $got / want: $want"

# pkgsStatic propagates the static libraries (stdenvAdapters.makeStatic) and
# fixupPhase records them in nix-support/propagated-build-inputs: the output
# must not keep that file (it would reference build-only paths), and
# disallowedReferences must name every output of those libraries that the
# build reads (libseccomp: out, lib and dev), not only `out`.
[ ! -e "$(readlink -f result)/nix-support" ] && ok "no nix-support/ in the server's output" \
	|| notok "no nix-support/ in the server's output" "$(ls -R "$(readlink -f result)/nix-support")"
if [ -f "$offline/flake.nix" ]; then
	got=$(nix eval --impure --json --expr "let p = import $offline { system = \"x86_64-linux\"; }; s = (import $root/nix/lib.nix).mkServer { pkgs = p; }; l = p.pkgsStatic.libseccomp; in map (o: builtins.elem o.outPath (map toString s.disallowedReferences)) [ l.out l.lib l.dev p.pkgsStatic.cjson ]" 2>&1)
	[ "$got" = '[true,true,true,true]' ] && ok "disallowedReferences: libseccomp's out, lib and dev, and cJSON" \
		|| notok "disallowedReferences: libseccomp's out, lib and dev, and cJSON" "$got"
else skip "disallowedReferences: every output of the static libraries" "no offline package set (run tests/setup.sh)"; fi
"$bin" --help | grep -q -- '--list-envs' && ok "--help" || notok "--help"
"$bin" --bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok "unknown option exits 2" || notok "unknown option exits 2"

envs=$("$bin" --list-envs)
names=$(jq -c '[.environments[].name]' <<<"$envs")
[ "$names" = '["node","python","shell"]' ] && ok "--list-envs lists node, python, shell" || notok "--list-envs lists node, python, shell" "$names"
lim=$(jq -c '[.environments[] | [.interpreter_type, .limits.timeout_seconds, .limits.memory_mb, (.closure_paths > 0)]]' <<<"$envs")
[ "$lim" = '[["node",30,512,true],["python",30,512,true],["bash",30,512,true]]' ] \
	&& ok "--list-envs shows interpreter, limits and closure size" || notok "--list-envs shows interpreter, limits and closure size" "$lim"

doc=$("$bin" --doctor 2>/dev/null); rc=$?
if [ $rc -eq 0 ] && grep -q '^ok   user, pid, mount, net, ipc, uts namespaces' <<<"$doc" && grep -q 'limits enforced with' <<<"$doc"; then
	ok "--doctor checks the kernel and says which limits are enforced"
else notok "--doctor checks the kernel and says which limits are enforced" "$doc"; fi

# The closure: the binary's runtime closure holds every environment's closure
# (env.json beside it lists them) and nothing used only to build it.
closure=$(nix-store -qR "$(readlink -f result)")
envjson=$(readlink -f result)/share/nix-sandbox-mcp/env.json
missing=$(jq -r '.environments[].closure[]' "$envjson" | sort -u | comm -23 - <(sort -u <<<"$closure") | head)
[ -z "$missing" ] && ok "closure holds every environment's closure" || notok "closure holds every environment's closure" "$missing"
roots=$(jq -r '.environments[].root' "$envjson")
for r in $roots; do grep -qx "$r" <<<"$closure" || missing="$missing $r"; done
[ -z "$missing" ] && ok "closure holds every environment root" || notok "closure holds every environment root" "$missing"
leaks=$(grep -E -- '-(nsm-codegen|cjson|libseccomp|source|csrc|nsm-env\.json)' <<<"$closure" | grep -v -- '-sandbox-env-' || true)
[ -z "$leaks" ] && ok "no build-only path in the closure" || notok "no build-only path in the closure" "$leaks"
strings "$bin" | grep -o '/nix/store/[a-z0-9]\{32\}-[^/" ]*' | sort -u > build/strings-paths.txt
bad=$(while read -r p; do grep -qx "$p" <<<"$closure" || echo "$p"; done < build/strings-paths.txt)
[ -z "$bad" ] && ok "every store path inside the binary is in its closure" || notok "every store path inside the binary is in its closure" "$bad"

# Reproducible: rebuilding gives the same output bit for bit (Nix compares).
if out=$(nix build --no-write-lock-file "${override[@]}" --rebuild .#default 2>&1); then
	ok "a rebuild gives an identical binary"
else notok "a rebuild gives an identical binary" "$out"; fi

# `nix flake check`: evaluates every output (packages, apps, lib, checks,
# devShells) and builds the checks (list-envs, handshake).
if out=$(nix flake check --no-write-lock-file "${override[@]}" 2>&1); then ok "nix flake check"
else notok "nix flake check" "$(grep -v '^warning' <<<"$out" | tail -n 20)"; fi

# The handshake over stdio.
resp=$(printf '%s\n' \
	'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}' \
	'{"jsonrpc":"2.0","method":"notifications/initialized"}' \
	'{"jsonrpc":"2.0","id":2,"method":"tools/list"}' | "$bin" 2>/dev/null)
[ "$(jq -s -r '.[0].result.protocolVersion' <<<"$resp")" = 2025-06-18 ] && ok "initialize answers" || notok "initialize answers" "$resp"
[ "$(jq -s -c '.[1].result.tools[0].inputSchema.properties.env.enum' <<<"$resp")" = '["node","python","shell"]' ] \
	&& ok "tools/list: run with env enum of the baked names" || notok "tools/list: run with env enum of the baked names" "$resp"

# A custom config.toml through lib.mkServer: limits, project and network are
# baked in; unknown keys fail at evaluation with the key's name.
if [ ! -f "$offline/flake.nix" ]; then
	skip "custom config.toml is baked in" "no offline package set (run tests/setup.sh)"
	skip "a bad config fails the build with the key's name" "no offline package set"
	skip "40 environments: fixed context cost" "no offline package set"
	skip "local flakes and use_flake" "no offline package set"
	skip "resolution and build errors" "no offline package set"
	skip "README runnable blocks" "no offline package set"
	skip "matplotlib and the python-plot preset" "no offline package set"
else
	pkgs="import $offline { system = \"x86_64-linux\"; }"
	if out=$(nix-build --no-out-link -E "(import $root/nix/lib.nix).mkServer { pkgs = $pkgs; config = $root/tests/build/custom.toml; }" 2>&1); then
		cbin=$(tail -n 1 <<<"$out")/bin/nix-sandbox-mcp
		got=$("$cbin" --list-envs | jq -c '[.project.path, .session.max_sessions, (.environments[] | [.name, .interpreter_type, .network, .limits.timeout_seconds, .limits.memory_mb])]')
		want='["/srv/demo",3,["py","python","none",7,256],["sh","bash","host",30,256]]'
		[ "$got" = "$want" ] && ok "custom config.toml is baked in" || notok "custom config.toml is baked in" "$got"
	else notok "custom config.toml builds" "$out"; fi
	out=$(nix-build --no-out-link -E "(import $root/nix/lib.nix).mkServer { pkgs = $pkgs; config = $root/tests/nix/errors/unknown-env-key.toml; }" 2>&1)
	grep -q 'environments.py.timeout: unknown key' <<<"$out" && ok "a bad config fails the build with the key's name" || notok "a bad config fails the build with the key's name" "$out"
	# The fixed context cost (tools/list result + instructions) stays under 2,450
	# characters with many environments: 40 renamed shell presets. (The `env`
	# enum grows with every name, about 10 characters each for names like these;
	# the instructions give up their environment lines to make room.)
	many='{ environments = builtins.listToAttrs (builtins.genList (i: { name = "tool-${toString (i + 10)}"; value = { preset = "shell"; }; }) 40); }'
	if out=$(nix-build --no-out-link -E "(import $root/nix/lib.nix).mkServer { pkgs = $pkgs; config = $many; }" 2>&1); then
		mbin=$(tail -n 1 <<<"$out")/bin/nix-sandbox-mcp
		cost=$(printf '%s\n' \
			'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}' \
			'{"jsonrpc":"2.0","id":2,"method":"tools/list"}' | "$mbin" 2>/dev/null |
			jq -s '(.[1].result | tojson | length) + (.[0].result.instructions | length)')
		envs=$(printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}' |
			"$mbin" 2>/dev/null | jq -r '.result.instructions' | grep -c '^- ')
		[ -n "$cost" ] && [ "$cost" -lt 2450 ] && ok "40 environments: fixed context cost $cost chars < 2450 ($envs lines of instructions)" \
			|| notok "40 environments: fixed context cost $cost chars < 2450"
	else notok "a server with 40 environments builds" "$(tail -n 20 <<<"$out")"; fi
	# shellcheck source=flakes.sh
	. "$root/tests/build/flakes.sh"
	# shellcheck source=readme.sh
	. "$root/tests/build/readme.sh"
	# shellcheck source=errors.sh
	. "$root/tests/build/errors.sh"
	# shellcheck source=plot.sh
	. "$root/tests/build/plot.sh"
fi
echo "1..$n"
[ "$fail" -eq 0 ]
