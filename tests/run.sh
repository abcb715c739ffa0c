#!/usr/bin/env bash
# tests/run.sh — every test suite of the project. Each suite (tests/NAME/run.sh)
# prints TAP; this runner prefixes its lines with the suite's name, counts them
# and ends with exactly one line `N passed, N failed, N skipped`.
#
# Counting (per TAP line of a suite):
#   ok …                   passed
#   ok … # SKIP reason     skipped (not passed)
#   not ok …               failed
#   not ok … # TODO why    a known gap: neither passed nor failed; counted as
#                          todo and listed again at the end
# On top of those, the runner adds one failure to a suite that
#   - ran past its time limit (killed; see `limit` below), or
#   - has no plan line `1..N`, or whose plan differs from its count of test
#     lines ("planned N, ran M": it stopped early or lost checks), or
#   - exited non-zero without a failing test line (it crashed), or
#   - passed no test at all (tested nothing, or skipped everything).
# Several plans in one suite (tests/jail runs its harness as two or three TAP
# streams, each with its own plan) add up. A failing suite's failing lines and
# the tail of its log are shown here; its whole log is in $NSM_TEST_LOGS.
# The exit status is non-zero when anything failed.
#
#   bash tests/run.sh            all suites
#   bash tests/run.sh unit nix   only these
# env: NSM_SUITE_TIMEOUT  seconds allowed to each suite (overrides the defaults)
#      NSM_TEST_LOGS      where the suites' logs go (build/test-logs)
#      NSM_SUITE_DIR      where suites are looked up (tests; tests/runner uses
#                         it to run fixture suites)
set -u
cd "$(dirname "$0")/.."
all=(runner nix codegen unit build jail integration deploy clients fuzz valgrind)
suites=("${@:-${all[@]}}")
suite_dir=${NSM_SUITE_DIR:-tests}
log_dir=${NSM_TEST_LOGS:-build/test-logs}
mkdir -p "$log_dir"

# Seconds per suite: about three times what each took on a 2-core machine
# (`# suite X: … (N s)` lines: runner 3, nix 2, codegen 15, unit 40, build 64,
# jail 33, integration 268, deploy 18, clients 42, fuzz 71 of which 60 s of
# fuzzing, valgrind 27), plus a margin for a loaded machine and for the suites
# that build with Nix (build, deploy) when less is cached. clients: above the
# 2 x 150 s its own run.sh allows its two node scripts, so theirs report first.
fuzz_s=${FUZZ_SECONDS:-60}
[[ $fuzz_s =~ ^[0-9]+$ ]] || fuzz_s=60
declare -A limit=(
	[runner]=60 [nix]=60 [codegen]=90 [unit]=180 [build]=400 [jail]=180
	[integration]=900 [deploy]=300 [clients]=400 [fuzz]=$((3 * fuzz_s + 120))
	[valgrind]=300
)
default_limit=900
if [ -n "${NSM_SUITE_TIMEOUT:-}" ] && ! [[ $NSM_SUITE_TIMEOUT =~ ^[1-9][0-9]*$ ]]; then
	echo "tests/run.sh: NSM_SUITE_TIMEOUT must be a number of seconds, not '$NSM_SUITE_TIMEOUT'" >&2
	exit 2
fi

# Counts of one suite's log: passed failed skipped todo plans planned.
# A directive, as TAP::Parser reads it: a `#` not escaped as `\#`, blanks, then
# SKIP (or SKIPPED, …) on an `ok` line, or the word TODO on a `not ok` line;
# case does not matter. `not ok - the TODO list` or `… '#TODOs' …` is no TODO.
tap_counts() {
	awk '
	function has(word) { return tolower($0) ~ ("(^|[^\\\\])#[ \t]*" word) }
	/^ok( |$)/     { if (has("skip")) s++; else p++; next }
	/^not ok( |$)/ { if (has("todo([^a-z0-9_]|$)")) t++; else f++; next }
	/^1\.\.[0-9]+([ \t]|$)/ { plans++; planned += substr($1, 4) }
	END { print p + 0, f + 0, s + 0, t + 0, plans + 0, planned + 0 }' "$1"
}

# The TODO directive, for grep -i (tap_counts has the same for awk).
todo_re='(^|[^\\])#[[:blank:]]*todo([^a-z0-9_]|$)'

# Ctrl-C or a TERM to this runner stops the running suite too: timeout(1) puts
# the suite in a process group of its own, which the terminal's SIGINT does
# not reach, so it is passed on by hand (timeout forwards it to the group).
pid=
interrupted=
trap 'interrupted=1; [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null' INT TERM

passed=0 failed=0 skipped=0 todo=0
recap_failed=() recap_todo=()
for s in "${suites[@]}"; do
	if [ -n "$interrupted" ]; then
		echo "$passed passed, $((failed + 1)) failed, $skipped skipped"
		exit 130
	fi
	script=$suite_dir/$s/run.sh
	if [ ! -f "$script" ]; then
		echo "not ok - $s: no $script"
		failed=$((failed + 1)) recap_failed+=("[$s] no $script")
		continue
	fi
	log=$log_dir/$s.log
	secs=${NSM_SUITE_TIMEOUT:-${limit[$s]:-$default_limit}}
	echo "# suite $s"
	start=$(date +%s)
	# -k: a suite that ignores TERM is killed 30 s later.
	timeout -k 30 "$secs" bash "$script" </dev/null >"$log" 2>&1 &
	pid=$!
	wait "$pid"
	rc=$?
	while kill -0 "$pid" 2>/dev/null; do # woken by the trap: wait for the end
		wait "$pid"
		rc=$?
	done
	pid=
	took=$(($(date +%s) - start))
	if [ -n "$interrupted" ]; then
		echo "# suite $s: interrupted after $took s (log: $log)"
		echo "$passed passed, $((failed + 1)) failed, $skipped skipped"
		exit 130
	fi

	read -r p f sk td plans planned < <(tap_counts "$log")
	grep -E '^(ok|not ok)( |$)|^#|^1\.\.[0-9]' "$log" | sed "s/^/[$s] /"
	ran=$((p + f + sk + td))
	why=()
	if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && [ "$took" -ge "$secs" ]; then
		# The plan and the exit status only repeat that it was stopped.
		why+=("timed out after $secs s (killed; NSM_SUITE_TIMEOUT=SECONDS allows more)")
	else
		if [ "$plans" -eq 0 ]; then
			why+=("planned none (no 1..N line), ran $ran")
		elif [ "$planned" -ne "$ran" ]; then
			why+=("planned $planned, ran $ran")
		fi
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && why+=("exited $rc without a failing test line")
	fi
	[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && why+=("ran no test (passed none: $sk skipped, $td todo)")
	if [ ${#why[@]} -gt 0 ]; then
		msg=$(printf '%s; ' "${why[@]}")
		msg=${msg%; }
		echo "not ok - $s: $msg"
		f=$((f + 1))
		recap_failed+=("[$s] $msg")
	fi
	if [ "$f" -gt 0 ]; then
		echo "# suite $s FAILED"
		failing=$(grep -E '^not ok( |$)' "$log" | grep -viE "$todo_re")
		if [ -n "$failing" ]; then
			echo "# its failing lines, each with its first detail lines:"
			# A not-ok line and the `#` lines right after it (its traceback).
			TODO_RE=$todo_re awk '
				/^not ok( |$)/ && tolower($0) !~ ENVIRON["TODO_RE"] { print; d = 12; next }
				d > 0 && /^#/ { print; d--; next }
				{ d = 0 }' "$log" | sed 's/^/#   /'
			while IFS= read -r l; do recap_failed+=("[$s] $l"); done <<<"$failing"
		fi
		echo "# the last 30 lines of $log:"
		tail -n 30 "$log" | sed 's/^/#   | /'
	fi
	while IFS= read -r l; do recap_todo+=("[$s] $l"); done < <(grep -E '^not ok( |$)' "$log" | grep -iE "$todo_re")
	echo "# suite $s: $p passed, $f failed, $sk skipped, $td todo ($took s)"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + sk)) todo=$((todo + td))
done

if [ ${#recap_todo[@]} -gt 0 ]; then
	echo "# known gaps (not ok # TODO; neither passed nor failed): $todo"
	printf '#   %s\n' "${recap_todo[@]}"
fi
if [ ${#recap_failed[@]} -gt 0 ]; then
	echo "# failures:"
	printf '#   %s\n' "${recap_failed[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
