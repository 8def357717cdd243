#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Perceptual matching robustness: does `deprive scan` find edited copies of the victim's
# images, and leave unrelated images alone? 100 generated photo-like originals (1024x768 PNG)
# hashed with deprive's own hashing; nine edits of each written with libjpeg/libpng
# (re-encode q30, 50%, 25%, 90 and 180 degrees, mirror, 5% crop, corner watermark, 320-px
# thumbnail); 1,000 unrelated images; one real scan with the defaults (threshold 31, rotations
# and mirrors on). Prints, beside the targets (every listed edit found; crop and watermark
# measured; no unrelated image within 31): per edit found/total, rate, median and max distance
# and the misses; the unrelated images' nearest distances (min, 1st and 5th percentile,
# median); where crops and watermarks stop being found; and the same root scanned again by the
# deprive CLI, whose finding count must agree. Takes about 2 minutes on 2 cores.
#
# Usage: bench/pdq_robust.sh [BUILD_DIR]     (default REPO/build; configured with tests on
#                                             when it does not exist yet)
# Environment:
#   BENCH_ORIGINALS       originals (default 100)
#   BENCH_UNRELATED       unrelated images (default 1000)
#   BENCH_SIZE            originals' size (default 1024x768)
#   BENCH_UNRELATED_SIZE  unrelated images' size (default 1024x768)
#   BENCH_SWEEP           originals for the crop/watermark sweep (default 100; 0 skips it)
#   BENCH_SEED            seed (default 1: the test's 24 originals are the first 24 here)
#   BENCH_THREADS         generating threads (default: nproc)
#   BENCH_CLI             1 (default): also scan with the deprive CLI and compare
#   TMPDIR                where the work directory goes (about 1 GiB); removed on exit
# Exit status: 0 every target met, 1 a target missed (the table says which), 2 error.
# See bench/README.md.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${1:-$REPO_ROOT/build}
BENCH_ORIGINALS=${BENCH_ORIGINALS:-100}
BENCH_UNRELATED=${BENCH_UNRELATED:-1000}
BENCH_SIZE=${BENCH_SIZE:-1024x768}
BENCH_UNRELATED_SIZE=${BENCH_UNRELATED_SIZE:-1024x768}
BENCH_SWEEP=${BENCH_SWEEP:-100}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_THREADS=${BENCH_THREADS:-$(nproc)}
BENCH_CLI=${BENCH_CLI:-1}

log() { printf '%s\n' "$*" >&2; }
die() {
	log "bench: $*"
	exit 2
}
now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/deprive-bench-robust.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
trap 'exit 130' INT TERM

# The driver and the CLI from BUILD_DIR, built there when missing (a new directory gets the
# project's default debugoptimized build with tests on: the driver is built with the tests).
build() {
	if [[ ! -f "$BUILD_DIR/meson-private/coredata.dat" ]]; then
		log "bench: configuring $BUILD_DIR"
		meson setup "$BUILD_DIR" "$REPO_ROOT" -Dtests=true >"$WORK/build.log" 2>&1 || {
			tail -n 20 "$WORK/build.log" >&2
			die "meson setup failed"
		}
	fi
	meson compile -C "$BUILD_DIR" pdq_robust deprive:executable >"$WORK/build.log" 2>&1 || {
		tail -n 20 "$WORK/build.log" >&2
		die "building pdq_robust failed (is $BUILD_DIR configured with -Dtests=true?)"
	}
	DRIVER=$BUILD_DIR/pdq_robust
	DEPRIVE=$BUILD_DIR/deprive
	[[ -x "$DRIVER" && -x "$DEPRIVE" ]] || die "no pdq_robust or deprive in $BUILD_DIR"
}

# The same scan root and list through `deprive scan`: its finding count must be the driver's.
cli_check() {
	local t0 cli_n lib_n rc=0
	t0=$(now_ns)
	"$DEPRIVE" scan --hashes "$WORK/originals.list" "$WORK/root" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	if ((rc != 0)); then
		tail -n 5 "$WORK/cli.err" >&2
		die "deprive scan exited $rc"
	fi
	cli_n=$(awk '/^findings:/ {print $2; exit}' "$WORK/cli.out")
	lib_n=$(grep -o '[0-9]* findings' "$WORK/driver.out" | awk '{print $1; exit}')
	printf 'deprive scan --hashes originals.list root (the CLI, %s s): findings %s, the driver'"'"'s scan %s: %s\n' \
		"$(secs_since "$t0")" "${cli_n:-?}" "${lib_n:-?}" \
		"$([[ -n "$cli_n" && "$cli_n" == "$lib_n" ]] && echo same || echo DIFFERENT)"
	[[ -n "$cli_n" && "$cli_n" == "$lib_n" ]]
}

main() {
	command -v meson >/dev/null 2>&1 || die "meson not found (scripts/bootstrap.sh installs it)"
	local avail_mb need_mb
	need_mb=$(((BENCH_ORIGINALS * 7 + BENCH_UNRELATED / 2) * 11 / 10 + 100))
	avail_mb=$(($(df -Pk "$WORK" | awk 'NR==2 {print $4}') / 1024))
	((avail_mb > need_mb)) || die "need about $need_mb MiB free in $WORK (have $avail_mb MiB)"
	build
	echo "deprive perceptual robustness benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
	printf 'cpu: %s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
	printf 'driver: %s; deprive: %s\n' "$DRIVER" "$DEPRIVE"
	printf 'load average at start %s\n\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
	local t0 rc=0
	t0=$(now_ns)
	"$DRIVER" --dir "$WORK" --originals "$BENCH_ORIGINALS" --unrelated "$BENCH_UNRELATED" \
		--size "$BENCH_SIZE" --unrelated-size "$BENCH_UNRELATED_SIZE" --seed "$BENCH_SEED" \
		--threads "$BENCH_THREADS" --sweep "$BENCH_SWEEP" >"$WORK/driver.out" || rc=$?
	cat "$WORK/driver.out"
	((rc <= 1)) || die "pdq_robust failed (exit $rc)"
	printf 'driver wall time %s s\n' "$(secs_since "$t0")"
	if [[ "$BENCH_CLI" == 1 ]]; then
		cli_check || rc=1
	fi
	printf 'load average at end %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
	return "$rc"
}

main "$@"
