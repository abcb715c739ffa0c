#!/usr/bin/env bash
# Config validation at evaluation time: every bad config.toml under errors/
# must fail with exactly the message in its .err file; every config under ok/
# must normalize to its .json. Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cfg=$(cd "$here/../../nix" && pwd)/config.nix
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

for t in "$here"/errors/*.toml; do
	name=$(basename "$t" .toml)
	want=$(cat "${t%.toml}.err")
	out=$(nix-instantiate --eval --strict --json -E "(import $cfg).fromConfig $t" 2>&1 >/dev/null)
	got=$(printf '%s\n' "$out" | sed -n 's/^error: //p' | head -n 1)
	if [ "$got" = "$want" ]; then ok "config error: $name"
	else notok "config error: $name"; echo "#   want: $want"; echo "#   got:  $got"; fi
done
for t in "$here"/ok/*.toml; do
	name=$(basename "$t" .toml)
	got=$(nix-instantiate --eval --strict --json -E "(import $cfg).fromConfig $t" 2>&1)
	if [ "$got" = "$(cat "${t%.toml}.json")" ]; then ok "config normalizes: $name"
	else notok "config normalizes: $name"; echo "#   got: $got"; fi
done
# No [environments] at all: the three bundled presets.
got=$(nix-instantiate --eval --strict --json -E "map (e: e.name) ((import $cfg).fromConfig {}).environments" 2>&1)
[ "$got" = '["shell","python","node"]' ] && ok "empty config gives the presets" || { notok "empty config gives the presets"; echo "#   got: $got"; }
# config.example.toml says it lists every key with its default: it must
# normalize to exactly what an empty configuration gives (environments
# compared by name; the server sorts them).
sorted='c: c // { environments = builtins.sort (a: b: a.name < b.name) c.environments; }'
ex=$(nix-instantiate --eval --strict --json -E "($sorted) ((import $cfg).fromConfig $here/../../config.example.toml)" 2>&1)
df=$(nix-instantiate --eval --strict --json -E "($sorted) ((import $cfg).fromConfig {})" 2>&1)
[ -n "$ex" ] && [ "$ex" = "$df" ] && ok "config.example.toml equals the defaults" \
	|| { notok "config.example.toml equals the defaults"; diff <(jq -S . <<<"$ex" 2>&1) <(jq -S . <<<"$df" 2>&1) | head -n 10 | sed 's/^/#   /'; }
# A TOML syntax error: the parser's message, and under --show-trace the file.
bad=$(mktemp -d)/bad-syntax.toml
printf '[project\npath = "."\n' > "$bad"
out=$(nix-instantiate --show-trace --eval --strict --json -E "(import $cfg).fromConfig $bad" 2>&1)
grep -q "while parsing a TOML string" <<<"$out" && grep -q "while reading the configuration file $bad (TOML)" <<<"$out" \
	&& ok "a TOML syntax error names the file (--show-trace)" \
	|| { notok "a TOML syntax error names the file (--show-trace)"; printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'; }
rm -rf "$(dirname "$bad")"
echo "1..$n"
[ "$fail" -eq 0 ]
