#!/usr/bin/env bash
# Deployment end to end: build a server (presets, custom environments from a
# local flake, nixpkgs and mkSandbox, the project's devShell), ship its
# closure to other store roots — `nix-store --export/--import` (air-gapped)
# and `nix copy --to local?root=…` (signed, and --no-check-sigs) — and run it
# FROM THERE: in a private mount namespace whose /nix/store is the other
# root's, with an empty environment, HOME and cwd=/, so nothing of the build
# store and no config file is visible. Also: a mkSandbox value built alone,
# the flake CLI route of examples/envs, and what adding an environment
# rebuilds. Prints TAP; measured numbers go to build/deploy-numbers.txt.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -n 25 | sed 's/^/#   /'; return 0; }
bail() { notok "$1" "${2:-}"; echo "1..$n"; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# Lines of drive.py (PASS/FAIL/#) as TAP.
tap() { while IFS= read -r l; do case $l in
	"PASS "*) ok "$2: ${l#PASS }" ;;
	"FAIL "*) notok "$2: ${l#FAIL }" ;;
	*) echo "$l" ;; esac; done < "$1"; }

offline=$root/build/offline-nixpkgs
[ -f "$offline/default.nix" ] || bail "offline package set present (run tests/setup.sh)"
pkgs="import $offline { system = \"x86_64-linux\"; }"
work=$(mktemp -d /tmp/nsm-deploy.XXXXXX)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
numbers=$root/build/deploy-numbers.txt
: > "$numbers"
note() { echo "$1" >> "$numbers"; echo "# $1"; }

# ---- build ------------------------------------------------------------------
t0=$(now)
out=$(nix-build --no-out-link "$root/tests/deploy/server.nix" --arg pkgs "$pkgs" 2>&1) \
	|| bail "the deploy server builds" "$(tail -n 20 <<<"$out")"
P=$(tail -n 1 <<<"$out")
ok "the deploy server builds (examples/config.toml + a sandboxes override)"
note "build (environments cached): $(secs "$t0" "$(now)") s"
bin=$P/bin/nix-sandbox-mcp
"$bin" --list-envs > "$work/envs.json"
names=$(jq -c '[.environments[].name]' "$work/envs.json")
[ "$names" = '["calc","jq","node","project","python","shell","tools"]' ] \
	&& ok "--list-envs: presets, custom, mkSandbox and project environments" || notok "--list-envs names" "$names"
got=$(jq -c '[.environments[] | select(.name == "calc" or .name == "python") | [.name, .limits.timeout_seconds, .limits.memory_mb, .description]]' "$work/envs.json")
[ "$got" = '[["calc",10,128,"bc and a greeting, for arithmetic"],["python",20,512,"Python 3 with PyYAML and greet (examples/envs)"]]' ] \
	&& ok "mkSandbox values keep their limits and description; config.toml overrides what it sets" \
	|| notok "mkSandbox limits and description" "$got"

closure=$(nix-store -qR "$P")
npaths=$(wc -l <<<"$closure")
size=$(nix path-info -S "$P" | awk '{print $2}')
note "closure: $npaths paths, $((size / 1048576)) MiB (nix path-info -S)"

# ---- adding an environment rebuilds only the small parts ---------------------
nonce="$(date +%s%N)"
plan=$(nix-build --dry-run "$root/tests/deploy/server.nix" --arg pkgs "$pkgs" --argstr added "$nonce" 2>&1)
built=$(grep '^  /nix/store/.*\.drv$' <<<"$plan" | sed 's|.*/[a-z0-9]\{32\}-||; s|\.drv$||' | sort | tr '\n' ' ')
# (The server's name is whatever its nixpkgs gives it: under pkgsStatic,
# nix-sandbox-mcp-static-<triple>-<version>.)
sname=$(nix eval --raw --impure --expr "(import $root/tests/deploy/server.nix { pkgs = $pkgs; }).name" 2>/dev/null)
want=$(printf '%s\n' closure-info "$sname" nonce nsm-env.json sandbox-env-added | sort | tr '\n' ' ')
[ "$built" = "$want" ] && ok "adding an environment builds only it, its closure list, env.json and the server" \
	|| notok "adding an environment builds only it, its closure list, env.json and the server" "$built"
t0=$(now)
out=$(nix-build --no-out-link "$root/tests/deploy/server.nix" --arg pkgs "$pkgs" --argstr added "$nonce" 2>&1) \
	&& ok "the server with one more environment builds" || notok "the server with one more environment builds" "$(tail -n 20 <<<"$out")"
note "rebuild after adding an environment: $(secs "$t0" "$(now)") s"
P2=$(tail -n 1 <<<"$out")
[ "$("$P2/bin/nix-sandbox-mcp" --list-envs | jq -r '[.environments[].name] | join(",")')" = "added,calc,jq,node,project,python,shell,tools" ] \
	&& ok "it lists the added environment" || notok "it lists the added environment"

# ---- a mkSandbox value built alone; the flake CLI route ----------------------
out=$(nix-build --no-out-link -E "((import $root/nix/lib.nix).callLocalFlake { pkgs = $pkgs; } $root/examples/envs).packages.x86_64-linux.calc" 2>&1)
if [ $? -eq 0 ]; then
	alone=$(tail -n 1 <<<"$out")/bin/nix-sandbox-mcp
	[ "$("$alone" --list-envs | jq -c '[.environments[] | [.name, .limits.timeout_seconds]]')" = '[["calc",10]]' ] \
		&& ok "a mkSandbox value builds alone as a one-environment server" || notok "mkSandbox alone: --list-envs"
	resp=$(printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}' \
		'{"jsonrpc":"2.0","method":"notifications/initialized"}' \
		'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run","arguments":{"env":"calc","code":"echo 6*7 | bc"}}}' | "$alone" 2>/dev/null)
	[ "$(jq -s -r '.[1].result.structuredContent.stdout' <<<"$resp")" = 42 ] \
		&& ok "the one-environment server runs code" || notok "the one-environment server runs code" "$resp"
else notok "a mkSandbox value builds alone" "$(tail -n 20 <<<"$out")"; fi
# `nix build ./examples/envs#calc` with real flake semantics (inputs
# overridden to the offline set and this checkout) evaluates to the same
# environments as the in-process route used for config.toml.
a=$(nix eval --json --no-write-lock-file "git+file://$root?dir=examples/envs#packages.x86_64-linux.calc" \
	--apply 's: map (e: e.root.drvPath) s.passthru.environments' \
	--override-input nixpkgs "path:$offline" --override-input nix-sandbox-mcp "git+file://$root" 2>/dev/null)
b=$(nix eval --json --impure --expr "map (e: e.root.drvPath) ((import $root/nix/lib.nix).callLocalFlake { pkgs = $pkgs; } $root/examples/envs).packages.x86_64-linux.calc.passthru.environments" 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] && ok "examples/envs as a flake (--override-input) gives the same environment derivation" \
	|| notok "examples/envs as a flake gives the same environment derivation" "flake: $a
in-process: $b"

# A user's own flake: config.toml next to envs/, mkServer { config =
# ./config.toml; } — path:./envs resolves in pure evaluation (no --impure).
uf=$work/userflake
mkdir -p "$uf" && cp -r "$root/examples/config.toml" "$root/examples/envs" "$uf/"
cat > "$uf/flake.nix" <<FLAKE
{
  inputs.nix-sandbox-mcp.url = "git+file://$root";
  inputs.nixpkgs.follows = "nix-sandbox-mcp/nixpkgs";
  outputs = { nixpkgs, nix-sandbox-mcp, ... }: {
    packages.x86_64-linux.default = nix-sandbox-mcp.lib.mkServer {
      pkgs = nixpkgs.legacyPackages.x86_64-linux;
      config = ./config.toml;
    };
  };
}
FLAKE
(cd "$uf" && git init -q && git add -A) >/dev/null 2>&1
out=$(cd "$uf" && nix eval --json --no-write-lock-file '.#packages.x86_64-linux.default.passthru.environments' \
	--apply 'map (e: e.name)' --override-input nixpkgs "path:$offline" 2>&1 | tail -n 1)
[ "$out" = '["calc","jq","node","project","python","shell","tools"]' ] \
	&& ok "a user flake with config.toml and path:./envs evaluates purely (no --impure)" \
	|| notok "a user flake with config.toml and path:./envs evaluates purely" "$out"

# ---- air-gapped: export / import into another store root -------------------
t0=$(now)
nix-store --export $closure > "$work/closure.export" 2>"$work/err" || notok "nix-store --export" "$(cat "$work/err")"
note "nix-store --export: $(secs "$t0" "$(now)") s, $(( $(stat -c %s "$work/closure.export") / 1048576 )) MiB"
R=$work/root
t0=$(now)
if nix-store --store "$R" --import < "$work/closure.export" > "$work/imported" 2>"$work/err"; then
	ok "nix-store --store ROOT --import"
else notok "nix-store --store ROOT --import" "$(cat "$work/err")"; fi
note "nix-store --import: $(secs "$t0" "$(now)") s"
rm -f "$work/closure.export"
[ "$(sort "$work/imported")" = "$(sort <<<"$closure")" ] && ok "every path of the closure was imported" \
	|| notok "every path of the closure was imported" "$(diff <(sort "$work/imported") <(sort <<<"$closure") | head)"
out=$(nix-store --store "$R" --verify --check-contents 2>&1) && ! grep -qi 'error\|modified\|invalid' <<<"$out" \
	&& ok "the imported store verifies (--verify --check-contents)" || notok "the imported store verifies" "$out"
[ "$(nix-store --store "$R" -qR "$P" | sort)" = "$(sort <<<"$closure")" ] \
	&& ok "the imported store knows the server's closure" || notok "the imported store knows the server's closure"

# Run FROM the imported store: private mount namespace, ROOT/nix/store over
# /nix/store, env -i, cwd /, HOME an empty directory; no config file.
mkdir -p "$work/home"
inns() { # ROOT CMD...: run CMD with ROOT/nix/store as /nix/store
	local r=$1; shift
	unshare -m --propagation private /bin/sh -c 'mount --bind "$0/nix/store" /nix/store && cd / && exec "$@"' "$r" \
		/usr/bin/env -i HOME="$work/home" "$@"
}
seen=$(inns "$R" /bin/ls /nix/store | grep -v '^\.' | sort)
want=$(sed 's|/nix/store/||' <<<"$closure" | sort)
[ "$seen" = "$want" ] && ok "in the namespace /nix/store holds exactly the imported closure" \
	|| notok "in the namespace /nix/store holds exactly the imported closure" "$(diff <(echo "$seen") <(echo "$want") | head)"
# A path of the build store that is not in the closure: the build-time codegen.
other=$(nix-build --no-out-link "$root/tests/deploy/server.nix" --arg pkgs "$pkgs" -A codegen 2>/dev/null | tail -n 1)
grep -qx "$other" <<<"$closure" && other=/nix/store/not-a-path
inns "$R" /bin/sh -c "test ! -e $other" && ok "a store path outside the closure is not visible there" \
	|| notok "a store path outside the closure is not visible there" "$other"
inns "$R" "$bin" --list-envs > "$work/envs2.json" 2>"$work/err" && cmp -s "$work/envs.json" "$work/envs2.json" \
	&& ok "the imported server starts with no config (env -i, cwd /, empty HOME)" \
	|| notok "the imported server starts with no config" "$(cat "$work/err")"
# drive LABEL full|smoke ROOT: drive.py against the server run from ROOT, its
# PASS/FAIL lines as TAP. It plans its checks first (`# plan N checks`); a
# non-zero exit (a crash) or fewer lines than planned is a failing test, so
# its checks cannot vanish with a green suite.
drive() {
	local label=$1 mode=$2 r=$3 log=$work/drive-$2 rc planned ran
	python3 "$root/tests/deploy/drive.py" "$work/envs.json" "$mode" \
		unshare -m --propagation private /bin/sh -c 'mount --bind "$0/nix/store" /nix/store && cd / && exec "$@"' "$r" \
		/usr/bin/env -i HOME="$work/home" "$bin" > "$log" 2>&1
	rc=$?
	tap "$log" "$label"
	planned=$(sed -n 's/^# plan \([0-9]*\) checks$/\1/p' "$log" | head -n 1)
	ran=$(grep -cE '^(PASS|FAIL) ' "$log")
	if [ "$rc" -eq 0 ] && [ -n "$planned" ] && [ "$ran" -eq "$planned" ]; then
		ok "$label: drive.py ran all its $planned checks and exited 0"
	else
		notok "$label: drive.py exited $rc after $ran of ${planned:-?} planned checks" \
			"$(grep -vE '^(PASS|FAIL) |^# plan ' "$log" | tail -n 20)"
	fi
}
drive "imported" full "$R"

# ---- nix copy --to local?root=…: signed, and --no-check-sigs ---------------
key=$root/build/deploy-key
if [ ! -f "$key.sec" ]; then
	nix-store --generate-binary-cache-key nsm-deploy-test "$key.sec" "$key.pub"
fi
R2=$work/root2
nix-store --generate-binary-cache-key nsm-deploy-other "$work/other.sec" "$work/other.pub"
out=$(nix copy --to "local?root=$R2" "$P" --option trusted-public-keys "$(cat "$work/other.pub")" 2>&1)
[ $? -ne 0 ] && [ ! -e "$R2$bin" ] && ok "nix copy refuses paths not signed by a trusted key" || notok "nix copy refuses paths not signed by a trusted key" "$out"
nix store sign -r -k "$key.sec" "$P" 2>"$work/err" && ok "nix store sign -r -k signs the closure" || notok "nix store sign" "$(cat "$work/err")"
t0=$(now)
out=$(nix copy --to "local?root=$R2" "$P" --option trusted-public-keys "$(cat "$key.pub")" 2>&1) \
	&& ok "nix copy --to local?root=ROOT2 with the key trusted" || notok "signed nix copy" "$out"
note "nix copy --to local?root (signed): $(secs "$t0" "$(now)") s"
nix path-info --store "$R2" --sigs "$P" 2>/dev/null | grep -q 'nsm-deploy-test:' && ok "the copy carries the signature" || notok "the copy carries the signature"
out=$(nix-store --store "$R2" --verify --check-contents 2>&1) && ! grep -qi 'error\|modified\|invalid' <<<"$out" \
	&& ok "ROOT2 verifies" || notok "ROOT2 verifies" "$out"
drive "signed copy" smoke "$R2"
R3=$work/root3
t0=$(now)
out=$(nix copy --no-check-sigs --to "local?root=$R3" "$P" 2>&1) && [ -x "$R3$bin" ] \
	&& ok "nix copy --no-check-sigs --to local?root=ROOT3" || notok "nix copy --no-check-sigs" "$out"
note "nix copy --no-check-sigs: $(secs "$t0" "$(now)") s"

# ---- the example systemd unit, on the profile a rollout sets ----------------
# (README "Many hosts": nix copy, then nix-env --profile … --set, then the
# unit.) systemd is not PID 1 here, so the unit is checked as systemd would
# load it (systemd-analyze verify: keys, values, an executable ExecStart) and
# its ExecStart line is run by hand.
unit=$root/examples/systemd/nix-sandbox-mcp.service
prof=$work/profiles/nix-sandbox-mcp
mkdir -p "$work/profiles" "$work/creds"
nix-env --profile "$prof" --set "$P" >/dev/null 2>"$work/err" && [ -x "$prof/bin/nix-sandbox-mcp" ] \
	&& ok "nix-env --profile … --set points a profile at the closure" || notok "nix-env --profile --set" "$(cat "$work/err")"
openssl rand -hex 32 > "$work/creds/token"
sed -e "s|/nix/var/nix/profiles/nix-sandbox-mcp|$prof|g" -e "s|/etc/nix-sandbox-mcp/token|$work/creds/token|" \
	"$unit" > "$work/nix-sandbox-mcp.service"
out=$(systemd-analyze verify "$work/nix-sandbox-mcp.service" 2>&1) && [ -z "$out" ] \
	&& ok "systemd-analyze verify accepts the example unit (ExecStart on the profile)" \
	|| notok "systemd-analyze verify the example unit" "$out"
sed -e 's|^ExecStart=.*|ExecStart=/nonexistent/nix-sandbox-mcp \\|' -e 's/^Delegate=yes/Delegate=memory pids nonsense/' \
	"$work/nix-sandbox-mcp.service" > "$work/broken.service"
out=$(systemd-analyze verify "$work/broken.service" 2>&1); rc=$?
[ "$rc" -ne 0 ] && grep -q "not executable" <<<"$out" && grep -q "nonsense" <<<"$out" \
	&& ok "and refuses a unit whose ExecStart or Delegate is wrong (the check can fail)" \
	|| notok "systemd-analyze verify refuses a broken unit" "rc=$rc $out"
# ExecStart as systemd would run it: continuation lines joined,
# ${CREDENTIALS_DIRECTORY} set; port 0 instead of 8080 (a free one).
cmd=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$work/nix-sandbox-mcp.service" | sed 's/^ExecStart=//; s/\\$//' | tr -s ' \n' ' ')
cmd=${cmd//\$\{CREDENTIALS_DIRECTORY\}/$work/creds}
cmd=${cmd//0.0.0.0:8080/0.0.0.0:0}
# shellcheck disable=SC2086
$cmd 2>"$work/unit.err" </dev/null & upid=$!
url=
for _ in $(seq 100); do
	url=$(grep -o 'http://[0-9.]*:[0-9]*/mcp' "$work/unit.err" | head -n 1)
	[ -n "$url" ] && break
	sleep 0.1
done
port=${url##*:}; port=${port%%/*}
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"deploy","version":"1"}}}'
post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	-H 'Accept: application/json, text/event-stream' "$@" --data-binary "$init" "http://127.0.0.1:$port/mcp"; }
s1=$(post); s2=$(post -H "Authorization: Bearer $(cat "$work/creds/token")")
[ -n "$url" ] && [ "$s1" = 401 ] && [ "$s2" = 200 ] \
	&& ok "the unit's ExecStart serves HTTP on every address: 401 without the credential's token, 200 with it" \
	|| notok "the unit's ExecStart serves HTTP" "url=$url without=$s1 with=$s2 $(tail -n 5 "$work/unit.err")"
kill -TERM "$upid" 2>/dev/null
wait "$upid"; rc=$?
[ "$rc" -eq 0 ] && ok "and ends with exit 0 on SIGTERM (KillMode=mixed sends it to the server only)" \
	|| notok "the unit's server exits 0 on SIGTERM" "rc=$rc $(tail -n 5 "$work/unit.err")"

echo "1..$n"
[ "$fail" -eq 0 ]
