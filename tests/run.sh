#!/usr/bin/env bash
# tests/run.sh — every test suite of the project. Each suite prints TAP
# (`ok N - …` / `not ok N - …`); this runner prefixes them with the suite's
# name, counts them, and ends with the line `N passed, N failed`.
# A suite that exits non-zero without a failing test line counts as one failure
# (it crashed or tested nothing).
#
#   bash tests/run.sh            all suites
#   bash tests/run.sh unit nix   only these
set -u
cd "$(dirname "$0")/.."
all=(nix codegen unit build jail integration deploy clients fuzz valgrind)
suites=("${@:-${all[@]}}")
passed=0 failed=0
log_dir=${NSM_TEST_LOGS:-build/test-logs}
mkdir -p "$log_dir"

for s in "${suites[@]}"; do
	script=tests/$s/run.sh
	if [ ! -f "$script" ]; then
		echo "not ok - $s: no $script"
		failed=$((failed + 1))
		continue
	fi
	echo "# suite $s"
	start=$(date +%s)
	bash "$script" > "$log_dir/$s.log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log_dir/$s.log")
	# A "not ok … # TODO" line is a known gap, not a failure (TAP).
	f=$(grep '^not ok ' "$log_dir/$s.log" | grep -vc '# TODO')
	grep -E '^(ok|not ok) |^#' "$log_dir/$s.log" | sed "s/^/[$s] /"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $s: suite exited $rc without a failing test; last lines:"
		tail -n 15 "$log_dir/$s.log" | sed 's/^/#   /'
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $s: ran no test"
		f=1
	fi
	echo "# suite $s: $p passed, $f failed ($(( $(date +%s) - start )) s)"
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
