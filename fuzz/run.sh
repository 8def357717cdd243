#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Run one libFuzzer target (fuzz/README.md):
#   fuzz/run.sh TARGET SECONDS [libFuzzer options...]   fuzz TARGET for SECONDS
#   fuzz/run.sh --list                                  the targets
#   fuzz/run.sh --build-only [BUILD_DIR]                set up and build, run nothing
# The build dir (FUZZ_BUILD, default build-fuzz/) is made when missing: CC=clang, -Dfuzz=true,
# -Dtests=false, -Dwerror=true. The fuzzer runs under nice -n 10 on one core; new inputs go to
# BUILD/fuzz-work/TARGET/corpus (the committed fuzz/corpus/TARGET is read, never written),
# crashes to BUILD/fuzz-work/TARGET/crashes/, the log to BUILD/fuzz-work/TARGET/fuzz.log.
# The last line printed is the summary:
#   TARGET: execs N, execs/s N, cov N, ft N, corpus N, crashes N, seconds N
# Exit status: libFuzzer's (0 when nothing was found), 77 when clang is missing, 2 on usage or
# build errors.
set -euo pipefail

FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$FUZZ_DIR/.." && pwd)
BUILD=${FUZZ_BUILD:-$REPO_ROOT/build-fuzz}

usage() {
	echo "usage: fuzz/run.sh TARGET SECONDS [libFuzzer options...] | --list | --build-only [DIR]" >&2
	exit 2
}

# Every target: the executables fuzz/meson.build makes, without their fuzz_ prefix.
targets() {
	sed -n "s/^  '\([a-z0-9_]*\)' : \['fuzz_.*/\1/p" "$FUZZ_DIR/meson.build"
	sed -n "s/^foreach f : \[\(.*\)\]$/\1/p" "$FUZZ_DIR/meson.build" | tr -d "'," |
		tr ' ' '\n' | sed -n 's/^\([a-z0-9]\+\)$/image_\1/p'
}

# The dictionary of a target, if it has one.
dict_of() {
	case $1 in
	hashlist | hashlist_format) echo "$FUZZ_DIR/dict/hashlist.dict" ;;
	plan | cert | cert_pdf | cert_verify) echo "$FUZZ_DIR/dict/json.dict" ;;
	journal | confirm) echo "$FUZZ_DIR/dict/journal.dict" ;;
	sign) echo "$FUZZ_DIR/dict/sign.dict" ;;
	image | image_* | carve) echo "$FUZZ_DIR/dict/image.dict" ;;
	archive) echo "$FUZZ_DIR/dict/archive.dict" ;;
	source) echo "$FUZZ_DIR/dict/source.dict" ;;
	esac
}

# build DIR [TARGET]: set up DIR when needed, then build TARGET's fuzzer, or every target.
build() {
	local dir=$1 what=${2:+fuzz/fuzz_$2}
	if ! command -v clang >/dev/null 2>&1; then
		echo "fuzz/run.sh: clang not found: the fuzz targets need clang's libFuzzer" >&2
		exit 77
	fi
	if [[ ! -f "$dir/meson-private/coredata.dat" || ! -f "$dir/build.ninja" ]]; then
		rm -rf -- "$dir"
		CC=clang nice -n 10 meson setup "$dir" -Dfuzz=true -Dtests=false -Dwerror=true \
			>"${TMPDIR:-/tmp}/deprive-fuzz-setup.log" 2>&1 || {
			cat "${TMPDIR:-/tmp}/deprive-fuzz-setup.log" >&2
			echo "fuzz/run.sh: meson setup $dir failed" >&2
			exit 2
		}
	elif ! grep -q 'fuzz_hashlist' "$dir/build.ninja"; then
		nice -n 10 meson configure "$dir" -Dfuzz=true >/dev/null || exit 2
	fi
	nice -n 10 meson compile -C "$dir" "${what:-fuzz}" >"$dir/fuzz-build.log" 2>&1 || {
		tail -n 40 "$dir/fuzz-build.log" >&2
		echo "fuzz/run.sh: building the fuzz targets in $dir failed" >&2
		exit 2
	}
}

# summarize NAME LOG CRASHDIR SECONDS: the one-line summary from libFuzzer's final stats.
summarize() {
	local name=$1 log=$2 crashes=$3 secs=$4
	local execs rate cov ft corp n
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	n=$(find "$crashes" -type f 2>/dev/null | wc -l)
	if [[ -z "$execs" ]]; then # -fork=N: the last "#N: cov: .. time: Ts" line instead
		local last
		last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -n 1)
		execs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$last")
		local t
		t=$(sed -n 's/.* time: \([0-9]*\)s.*/\1/p' <<<"$last")
		[[ -n "$execs" && -n "$t" && $t -gt 0 ]] && rate=$((execs / t))
	fi
	echo "$name: execs ${execs:-?}, execs/s ${rate:-?}, cov ${cov:-?}, ft ${ft:-?}," \
		"corpus ${corp:-?}, crashes $n, seconds $secs"
}

[[ $# -ge 1 ]] || usage
case $1 in
--list)
	targets
	exit 0
	;;
--build-only)
	build "${2:-$BUILD}"
	exit 0
	;;
esac
[[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
name=$1 secs=$2
shift 2
all=$(targets)
grep -qx "$name" <<<"$all" || {
	echo "fuzz/run.sh: no target '$name' (fuzz/run.sh --list)" >&2
	exit 2
}
build "$BUILD" "$name"

work=$BUILD/fuzz-work/$name
mkdir -p "$work/corpus" "$work/crashes"
args=(-max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-20}" -rss_limit_mb=2048 -error_exitcode=1
	-print_final_stats=1 -artifact_prefix="$work/crashes/")
dict=$(dict_of "$name")
[[ -n "$dict" && -f "$dict" ]] && args+=(-dict="$dict")
# an image decoded under the harness's 1 MP limit needs a few MB: a bigger single allocation
# means a decoder went past the limit (docs/security.md)
[[ $name == image* ]] && args+=(-malloc_limit_mb=128)
seeds=()
[[ -d "$FUZZ_DIR/corpus/$name" ]] && seeds+=("$FUZZ_DIR/corpus/$name")
[[ -d "$FUZZ_DIR/regress/$name" ]] && seeds+=("$FUZZ_DIR/regress/$name")

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
nice -n 10 "$BUILD/fuzz/fuzz_$name" "${args[@]}" "$@" "$work/corpus" "${seeds[@]}" \
	>"$work/fuzz.log" 2>&1 || rc=$?
if ((rc != 0)); then
	grep -E '^(==[0-9]+==ERROR|SUMMARY|[^ ]*runtime error|.*Test unit written)' "$work/fuzz.log" |
		head -n 8 >&2 || true
	echo "fuzz/run.sh: $name stopped with status $rc; log: $work/fuzz.log" >&2
fi
summarize "$name" "$work/fuzz.log" "$work/crashes" "$secs"
exit "$rc"
