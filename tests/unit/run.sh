#!/usr/bin/env bash
# C unit tests: each tests/unit/test_*.c is built twice against the host's
# cJSON — with ASan/UBSan, and plain for valgrind — and both must pass;
# then the C format check (tests/format.sh).
set -u
cd "$(dirname "$0")/../.."
out=build/unit
mkdir -p "$out"
. tests/unit/srcs.sh
srcs=$(for m in $unit_srcs; do printf 'csrc/%s.c ' "$m"; done)
cflags="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -Icsrc -Itests/unit"
n=0 fail=0
. tests/lib/tap.sh
for t in tests/unit/test_*.c; do
	name=$(basename "$t" .c)
	rm -f "$out/$name.asan"
	if ! gcc $cflags -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		"$t" $srcs -lseccomp -lcjson -lm -o "$out/$name.asan" 2>"$out/$name.cc.log"; then
		n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $name builds"; sed 's/^/#   /' "$out/$name.cc.log"
		continue
	fi
	tap_emit "$name" /dev/stdout "$out/$name.asan"
	# valgrind needs the plain build; a failed one must not leave it an old binary.
	rm -f "$out/$name"
	n=$((n + 1))
	if ! gcc $cflags -O1 "$t" $srcs -lseccomp -lcjson -lm -o "$out/$name" 2>"$out/$name.cc.log"; then
		fail=$((fail + 1)); echo "not ok $n - $name builds without sanitizers (for valgrind)"; sed 's/^/#   /' "$out/$name.cc.log"
		continue
	fi
	echo "ok $n - $name builds without sanitizers (for valgrind)"
	n=$((n + 1))
	if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$out/$name" > /dev/null 2> "$out/$name.vg.log"; then
		echo "ok $n - $name: valgrind clean"
	else
		fail=$((fail + 1)); echo "not ok $n - $name: valgrind"; tail -n 20 "$out/$name.vg.log" | sed 's/^/#   /'
	fi
done
. tests/format.sh
format_check
echo "1..$n"
[ "$fail" -eq 0 ]
