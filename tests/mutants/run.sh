#!/usr/bin/env bash
# make mutants: build one server per mutant of tests/mutants/mutants.py (a
# copy of csrc/ with one defence removed), run the tests that hold that
# defence against it, and count the mutants they kill. A control build
# (no mutation) must pass the same tests first, or nothing is proved.
# Prints TAP and ends with "N killed, N survived". Takes about 5-10 minutes.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/build/mutants
rm -rf "$out" && mkdir -p "$out"
n=0 fail=0 killed=0 survived=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | tail -n 15 | sed 's/^/#   /'; return 0; }
M() { python3 tests/mutants/mutants.py "$@"; }

offline=$root/build/offline-nixpkgs
if [ -f "$offline/default.nix" ]; then pkgs="import $offline { system = \"x86_64-linux\"; }"
else pkgs="import <nixpkgs> { }"; fi
if ! server=$(nix-build --no-out-link -E "import $root/tests/integration/server.nix { pkgs = $pkgs; }" 2>"$out/build.log"); then
	notok "the integration server builds" "$(tail -n 20 "$out/build.log")"; echo "1..$n"; exit 1
fi
server=$(tail -n 1 <<<"$server")
make -s -C codegen BUILDDIR="$out/codegen" >/dev/null 2>"$out/codegen.log" &&
	"$out/codegen/nsm-codegen" -o "$out/env_table.gen.h" "$server/share/nix-sandbox-mcp/env.json" ||
	{ notok "codegen" "$(cat "$out/codegen.log")"; echo "1..$n"; exit 1; }

# build NAME [MUTANT]: $out/NAME/csrc/nix-sandbox-mcp from a copy of csrc/.
build() {
	local d=$out/$1
	mkdir -p "$d/csrc" && cp csrc/*.c csrc/*.h csrc/Makefile "$d/csrc/" && cp "$out/env_table.gen.h" "$d/csrc/"
	if [ -n "${2:-}" ] && ! M apply "$2" "$d" > "$d/apply.log"; then return 3; fi
	# -Wno-error: a mutant may leave a helper unused.
	make -s -C "$d/csrc" nix-sandbox-mcp CFLAGS="-O1 -Wno-error" > "$d/make.log" 2>&1 || return 1
	# Laid out as the Nix build is: tests read env.json beside the binary.
	mkdir -p "$d/bin" "$d/share/nix-sandbox-mcp" &&
		cp "$d/csrc/nix-sandbox-mcp" "$d/bin/" &&
		cp "$server/share/nix-sandbox-mcp/env.json" "$d/share/nix-sandbox-mcp/"
}

project=$out/project
mkdir -p "$project" && echo "project file" > "$project/hello.txt"
export NSM_PROJECT=$project PYTHONDONTWRITEBYTECODE=1

# run_tests DIR TEST...: 0 when every test passes against DIR's server.
run_tests() {
	local d=$1 t rc=0
	shift
	for t in "$@"; do
		case $t in
		unit:*)
			local u=${t#unit:}
			. tests/unit/srcs.sh
			# shellcheck disable=SC2046
			if ! gcc -std=c11 -D_GNU_SOURCE -w -g -I"$d/csrc" -Itests/unit "tests/unit/$u.c" \
				$(for m in $unit_srcs; do printf '%s/csrc/%s.c ' "$d" "$m"; done) \
				-lseccomp -lcjson -lm -o "$d/$u" >> "$d/tests.log" 2>&1; then
				rc=1; echo "# $t: does not build" >> "$d/tests.log"; continue
			fi
			"$d/$u" > "$d/$u.out" 2>&1 || { rc=1; echo "# $t failed: $(grep -m1 '^not ok' "$d/$u.out")" >> "$d/tests.log"; } ;;
		*)
			NSM_SERVER=$d/bin/nix-sandbox-mcp timeout 600 python3 "tests/integration/$t" > "$d/${t%.py}.out" 2>&1 ||
				{ rc=1; echo "# $t failed: $(grep -m1 '^not ok' "$d/${t%.py}.out")" >> "$d/tests.log"; } ;;
		esac
	done
	return $rc
}

# kill_left DIR: a mutant may leave what the server no longer ends (no-pdeathsig
# leaves its sandboxes to init on purpose): kill every process still running
# DIR's binary, so none outlives the run.
kill_left() {
	local exe=$1/bin/nix-sandbox-mcp p k=0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] && kill -9 "${p#/proc/}" 2>/dev/null && k=$((k + 1))
	done
	[ "$k" -eq 0 ] || echo "# $k process(es) of $1 left by its tests, killed" >> "$1/tests.log"
}

if ! build control; then notok "the control server builds" "$(cat "$out/control/make.log")"; echo "1..$n"; exit 1; fi
all_tests=$(for m in $(M list); do M tests "$m"; done | sort -u)
# shellcheck disable=SC2086
if run_tests "$out/control" $all_tests; then
	ok "control: the unmutated server passes every test the mutants use"
else
	notok "control: the unmutated server passes every test the mutants use" "$(cat "$out/control/tests.log")"
	echo "1..$n"; echo "0 killed, 0 survived"; exit 1
fi

for m in $(M list); do
	build "m-$m" "$m"; rc=$?
	if [ $rc -eq 3 ]; then notok "mutant $m: $(cat "$out/m-$m/apply.log")"; survived=$((survived + 1)); continue; fi
	if [ $rc -ne 0 ]; then notok "mutant $m builds" "$(cat "$out/m-$m/make.log")"; survived=$((survived + 1)); continue; fi
	# shellcheck disable=SC2046
	run_tests "$out/m-$m" $(M tests "$m")
	rc=$?
	kill_left "$out/m-$m"
	if [ $rc -eq 0 ]; then
		notok "mutant $m ($(M why "$m")) survived: $(M tests "$m" | tr '\n' ' ')pass against it"
		survived=$((survived + 1))
	else
		ok "mutant $m ($(M why "$m")) killed: $(grep -m1 '^# ' "$out/m-$m/tests.log" | cut -c3- | cut -c1-150)"
		killed=$((killed + 1))
	fi
done
echo "1..$n"
echo "$killed killed, $survived survived"
[ "$fail" -eq 0 ]
