#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Smoke test of every fuzz target (scripts/test.sh runs it): build them (fuzz/run.sh's build
# dir, FUZZ_BUILD, default build-fuzz/), then per target, FUZZ_SMOKE_JOBS (2) at a time under
# nice -n 10: replay every committed input - fuzz/corpus/TARGET and the crash reproducers in
# fuzz/regress/TARGET - and fuzz for FUZZ_SMOKE_SECONDS (default 5) from them into a
# throwaway corpus. Nothing committed is written.
# Exit status: 0 when every target ran clean, 1 when one crashed (its log is printed), 77 when
# clang is missing (nothing run), 2 on build errors.
set -euo pipefail

FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$FUZZ_DIR/.." && pwd)
BUILD=${FUZZ_BUILD:-$REPO_ROOT/build-fuzz}
SECS=${FUZZ_SMOKE_SECONDS:-5}

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz/smoke.sh: clang not found: fuzz targets not built or run" >&2
	exit 77
fi
start=$SECONDS
"$FUZZ_DIR/run.sh" --build-only "$BUILD"
echo "fuzz/smoke.sh: built in $((SECONDS - start)) s"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/deprive-fuzz-smoke.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# one target: replay its committed inputs, fuzz SECS; writes $tmp/NAME.ok or $tmp/NAME.failed
smoke_one() {
	local name=$1 seeds=() extra=() d
	for d in "$FUZZ_DIR/corpus/$name" "$FUZZ_DIR/regress/$name"; do
		[[ -d "$d" ]] && seeds+=("$d")
	done
	[[ $name == image* ]] && extra+=(-malloc_limit_mb=128) # as fuzz/run.sh
	mkdir -p "$tmp/$name"
	local log=$tmp/$name.log
	# the seed inputs are all run before the time limit is looked at
	if nice -n 10 "$BUILD/fuzz/fuzz_$name" -max_total_time="$SECS" -timeout=25 \
		-rss_limit_mb=2048 -error_exitcode=1 -print_final_stats=1 -artifact_prefix="$tmp/$name/" \
		"${extra[@]}" "$tmp/$name" "${seeds[@]}" >"$log" 2>&1; then
		local n execs cov
		n=$(find "${seeds[@]}" -type f 2>/dev/null | wc -l)
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
		echo "fuzz/smoke.sh: $name ok ($n committed inputs, ${execs:-?} runs, cov ${cov:-?})" \
			>"$tmp/$name.ok"
	else
		{
			echo "fuzz/smoke.sh: $name FAILED:"
			grep -v '^#' "$log" | tail -n 60
		} >"$tmp/$name.failed"
	fi
}

# FUZZ_SMOKE_JOBS targets at a time (default 2, the cores test.sh's suites use too)
jobs=${FUZZ_SMOKE_JOBS:-2}
names=$("$FUZZ_DIR/run.sh" --list)
running=0
for name in $names; do
	if ((running >= jobs)); then
		wait -n || true
		running=$((running - 1))
	fi
	smoke_one "$name" &
	running=$((running + 1))
done
wait || true
failed=()
for name in $names; do
	if [[ -f "$tmp/$name.ok" ]]; then
		cat "$tmp/$name.ok"
	else
		cat "$tmp/$name.failed" >&2 2>/dev/null || echo "fuzz/smoke.sh: $name FAILED (no result)" >&2
		failed+=("$name")
	fi
done
echo "fuzz/smoke.sh: $((SECONDS - start)) s"
if ((${#failed[@]} > 0)); then
	echo "fuzz/smoke.sh: failed: ${failed[*]}" >&2
	exit 1
fi
