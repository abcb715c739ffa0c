#!/usr/bin/env bash
# Fuzz tests of the JSON-RPC/MCP layer (and, step 3, of the HTTP layer:
# tests/fuzz/fuzz_http.c with http.c and libmicrohttpd, corpus
# tests/fuzz/corpus-http/): builds tests/fuzz/fuzz_rpc.c with libFuzzer,
# ASan and UBSan (clang), linked with rpc.c, mcp.c and their helpers, a stub
# exec (tests/fuzz/stub_exec.c: no sandbox) and an env table generated from
# tests/codegen/cases/presets.json; cJSON is compiled from the Debian source
# that tests/setup.sh unpacked (instrumented too), else the system library.
# Then:
#   1. replays every file of tests/fuzz/corpus/ once (one TAP line each:
#      real messages, and bug-*.jsonl reproducers that must pass once fixed);
#   2. fuzzes for FUZZ_SECONDS (default 60) from that corpus; new inputs go to
#      build/fuzz/corpus-new, a crash to build/fuzz/artifacts/.
# When the replay already fails (a known protocol bug), step 2 runs with
# NSM_FUZZ_ORACLES=memory (sanitizers, leaks, hangs and left-over runs only),
# so the known bug does not stop the search for others. Prints TAP.
#
#   bash tests/fuzz/run.sh        env: FUZZ_SECONDS, CC (default clang)
#   build/fuzz/fuzz_rpc FILE      reproduce one input
set -u
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/build/fuzz
mkdir -p "$out/obj" "$out/gen" "$out/inc/cjson" "$out/artifacts" "$out/corpus-new"
seconds=${FUZZ_SECONDS:-60}
cc=${CC:-clang}
case "$cc" in cc|gcc*) cc=clang ;; esac # libFuzzer is clang's

n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }
finish() { echo "1..$n"; [ "$fail" -eq 0 ]; exit; }

# ---- build -------------------------------------------------------------------------
san=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
san_only=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
cflags=(-g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-missing-field-initializers
	-iquote csrc -iquote "$out/gen" -I "$out/inc")
build() {
	command -v "$cc" >/dev/null || { echo "no $cc (apt-get install clang)"; return 1; }
	echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
		> "$out/probe.c"
	"$cc" "${san[@]}" -o "$out/probe" "$out/probe.c" ||
		{ echo "libFuzzer runtime missing: apt-get install libclang-rt-14-dev"; return 1; }
	make -s -C codegen BUILDDIR="$out/codegen" >/dev/null || return 1
	"$out/codegen/nsm-codegen" -o "$out/gen/env_table.gen.h" tests/codegen/cases/presets.json || return 1
	local srcs=(csrc/rpc.c csrc/mcp.c csrc/env.c csrc/err.c csrc/strbuf.c csrc/exec_result.c csrc/log.c csrc/loop.c csrc/utf8.c csrc/jsonraw.c
		csrc/mcp_files.c csrc/wsfiles.c csrc/base64.c csrc/fsutil.c csrc/sse.c tests/fuzz/fuzz_rpc.c tests/fuzz/stub_exec.c) libs=() objs=() s o
	local cjson=build/offline-nixpkgs/sources/cjson
	if [ -f "$cjson/cJSON.c" ]; then
		cp "$cjson/cJSON.h" "$out/inc/cjson/cJSON.h"
		"$cc" "${san[@]}" -g -O1 -w -I "$out/inc/cjson" -c -o "$out/obj/cJSON.o" "$cjson/cJSON.c" || return 1
		objs+=("$out/obj/cJSON.o")
		echo "cJSON: instrumented, from $cjson"
	else
		rm -f "$out/inc/cjson/cJSON.h"
		libs+=(-lcjson)
		echo "cJSON: system library (not instrumented; run tests/setup.sh for the source)"
	fi
	for s in "${srcs[@]}"; do
		o=$out/obj/$(basename "$s" .c).o
		# The harness and the stub: sanitizers without coverage, so the
		# fuzzer is steered by the server's branches, not the oracles'.
		case "$s" in
		*/fuzz_rpc.c|*/fuzz_http.c|*/stub_exec.c) "$cc" "${san_only[@]}" "${cflags[@]}" -c -o "$o" "$s" || return 1 ;;
		*) "$cc" "${san[@]}" "${cflags[@]}" -c -o "$o" "$s" || return 1 ;;
		esac
		objs+=("$o")
	done
	"$cc" "${san[@]}" -o "$out/fuzz_rpc" "${objs[@]}" "${libs[@]}" -lm
	# The HTTP harness: the same objects but its own entry point, plus
	# http.c and libmicrohttpd (instrumented, from the Debian source).
	local hobjs=() mhd=() src=build/offline-nixpkgs/sources/libmicrohttpd
	for o in "${objs[@]}"; do [ "$(basename "$o")" = fuzz_rpc.o ] || hobjs+=("$o"); done
	"$cc" "${san_only[@]}" "${cflags[@]}" -c -o "$out/obj/fuzz_http.o" tests/fuzz/fuzz_http.c || return 1
	"$cc" "${san[@]}" "${cflags[@]}" -c -o "$out/obj/http.o" csrc/http.c || return 1
	if [ -f "$src/configure" ]; then
		local stamp="$out/mhd/.built-from-$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version 2>/dev/null)"
		if [ ! -f "$stamp" ]; then
			rm -rf "$out/mhd" && mkdir -p "$out/mhd" && cp -r "$src/." "$out/mhd/src"
			(cd "$out/mhd/src" && find . -exec touch -d @1700000000 {} + &&
				CC=$cc CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
				./configure -q --enable-static --disable-shared --disable-https --without-gnutls --disable-curl \
				--disable-doc --disable-examples --disable-nls --disable-dauth --disable-httpupgrade \
				--disable-postprocessor --disable-thread-names >/dev/null &&
				make -s -j2 -C src/microhttpd >/dev/null) || return 1
			touch "$stamp"
		fi
		cp "$out/mhd/src/src/include/microhttpd.h" "$out/inc/microhttpd.h"
		mhd=("$out/mhd/src/src/microhttpd/.libs/libmicrohttpd.a")
		"$cc" "${san[@]}" "${cflags[@]}" -c -o "$out/obj/http.o" csrc/http.c || return 1
		echo "libmicrohttpd: instrumented, from $src"
	else
		mhd=(-lmicrohttpd)
		echo "libmicrohttpd: system library (not instrumented; run tests/setup.sh for the source)"
	fi
	"$cc" "${san[@]}" -o "$out/fuzz_http" "${hobjs[@]}" "$out/obj/fuzz_http.o" "$out/obj/http.o" "${mhd[@]}" \
		"${libs[@]}" -lm
}
if build >"$out/build.log" 2>&1; then
	ok "fuzz_rpc and fuzz_http build with libFuzzer, ASan and UBSan ($(grep '^cJSON:' "$out/build.log"); $(grep '^libmicrohttpd:' "$out/build.log"))"
else
	not_ok "fuzz_rpc and fuzz_http build with libFuzzer, ASan and UBSan"
	tail -n 25 "$out/build.log" | sed 's/^/#   /'
	finish
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
reason() { # the first line that says what went wrong
	grep -a -m1 -E 'fuzz_(rpc|http): oracle failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY' "$1" |
		sed 's/^[[:space:]]*//'
}

details() { # the offending output, and the stack frames in the project's code
	grep -a -m1 'offending output' "$1" | cut -c1-400 | sed 's/^/#   /'
	grep -a -E '^ +#[0-9]+ .* in .*(csrc|tests/fuzz|cjson)/' "$1" | grep -v 'fuzz_rpc.c:.*in fail' |
		head -n 6 | sed -E 's/ \(BuildId: [0-9a-f]+\)//; s/^ +/#   /'
}

# ---- 1. corpus replay --------------------------------------------------------------
replay_failed=0
for f in tests/fuzz/corpus/*; do
	name=$(basename "$f")
	if "$out/fuzz_rpc" -runs=1 "$f" >"$out/replay-$name.log" 2>&1; then
		ok "corpus $name"
	else
		replay_failed=1
		not_ok "corpus $name: $(reason "$out/replay-$name.log")"
		details "$out/replay-$name.log"
		echo "#   reproduce: build/fuzz/fuzz_rpc $f"
	fi
done

# ---- 2. bounded fuzzing --------------------------------------------------------------
mode=all
if [ "$replay_failed" = 1 ]; then
	mode=memory
	echo "# the replay failed: fuzzing with NSM_FUZZ_ORACLES=memory so the known bug does not stop it"
fi
rm -f "$out"/artifacts/*
start=$(date +%s)
NSM_FUZZ_ORACLES=$mode "$out/fuzz_rpc" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
	-max_len=65536 -dict=tests/fuzz/json.dict -print_final_stats=1 \
	-artifact_prefix="$out/artifacts/" "$out/corpus-new" tests/fuzz/corpus >"$out/fuzz.log" 2>&1
rc=$?
stats=$(grep -E '^stat::number_of_executed_units' "$out/fuzz.log" | awk '{print $2}')
cov=$(grep -oE 'cov: [0-9]+' "$out/fuzz.log" | tail -n 1)
crash=$(ls "$out"/artifacts/* 2>/dev/null | head -n 1)
if [ "$rc" -eq 0 ] && [ -z "$crash" ]; then
	ok "fuzzing for $((($(date +%s) - start))) s (oracles: $mode): no crash, leak or broken promise (${stats:-?} inputs, ${cov:-cov: ?})"
else
	not_ok "fuzzing (oracles: $mode) failed: ${crash:-no crash file, exit $rc}: $(reason "$out/fuzz.log")"
	details "$out/fuzz.log"
	[ -n "$crash" ] && echo "#   reproduce: build/fuzz/fuzz_rpc $crash"
fi

# ---- 3. the HTTP layer: replay, then FUZZ_HTTP_SECONDS (default 30) -------------------
for f in tests/fuzz/corpus-http/*; do
	name=$(basename "$f")
	if "$out/fuzz_http" -runs=1 "$f" >"$out/replay-http-$name.log" 2>&1; then
		ok "http corpus $name"
	else
		not_ok "http corpus $name: $(reason "$out/replay-http-$name.log")"
		details "$out/replay-http-$name.log"
		echo "#   reproduce: build/fuzz/fuzz_http $f"
	fi
done
hseconds=${FUZZ_HTTP_SECONDS:-30}
mkdir -p "$out/corpus-http-new" "$out/artifacts-http"
rm -f "$out"/artifacts-http/*
start=$(date +%s)
"$out/fuzz_http" -max_total_time="$hseconds" -rss_limit_mb=2048 -timeout=20 -max_len=16384 \
	-print_final_stats=1 -artifact_prefix="$out/artifacts-http/" "$out/corpus-http-new" tests/fuzz/corpus-http \
	>"$out/fuzz-http.log" 2>&1
rc=$?
stats=$(grep -E '^stat::number_of_executed_units' "$out/fuzz-http.log" | awk '{print $2}')
cov=$(grep -oE 'cov: [0-9]+' "$out/fuzz-http.log" | tail -n 1)
crash=$(ls "$out"/artifacts-http/* 2>/dev/null | head -n 1)
if [ "$rc" -eq 0 ] && [ -z "$crash" ]; then
	ok "fuzzing the HTTP layer for $((($(date +%s) - start))) s: no crash, leak or broken promise (${stats:-?} inputs, ${cov:-cov: ?})"
else
	not_ok "fuzzing the HTTP layer failed: ${crash:-no crash file, exit $rc}: $(reason "$out/fuzz-http.log")"
	details "$out/fuzz-http.log"
	[ -n "$crash" ] && echo "#   reproduce: build/fuzz/fuzz_http $crash"
fi
finish
