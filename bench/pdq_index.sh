#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PDQ index benchmark: the multi-index-hashing index (src/content/pdq_index.c) against a
# linear scan of the same targets - 1,000,000 random targets, 10,000 queries at radius 31,
# targets planted at distances 0..40 from a tenth of the queries. Prints build time, memory,
# queries per second of both, the speed-up, and whether both gave the same answers (match
# count and checksum); exits 1 if they did not. Takes about a minute.
#
# Environment:
#   PDQ_INDEX_BENCH  the benchmark program (default: REPO/build-bench-pdq/pdq_index_bench,
#                    built there as a release build with tests on when missing)
#   BENCH_TARGETS    targets (default 1000000)
#   BENCH_QUERIES    queries (default 10000)
#   BENCH_LINEAR     queries timed on the linear scan, the rest extrapolated (default 1000;
#                    BENCH_LINEAR=$BENCH_QUERIES compares every answer, ~10 s more a 1,000)
#   BENCH_THREADS    threads for the concurrent row (default: nproc)
#   BENCH_REPEAT     runs per measurement, best kept (default 3)
#   BENCH_SWEEP      1 (default): also time both at 1,000..100,000 targets (the switch-over)
# See bench/README.md.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_TARGETS=${BENCH_TARGETS:-1000000}
BENCH_QUERIES=${BENCH_QUERIES:-10000}
BENCH_LINEAR=${BENCH_LINEAR:-1000}
BENCH_THREADS=${BENCH_THREADS:-$(nproc)}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_SWEEP=${BENCH_SWEEP:-1}

log() { printf '%s\n' "$*" >&2; }
die() {
	log "bench: $*"
	exit 2
}

find_bench() {
	PDQ_INDEX_BENCH=${PDQ_INDEX_BENCH:-$REPO_ROOT/build-bench-pdq/pdq_index_bench}
	if [[ -x "$PDQ_INDEX_BENCH" ]]; then
		return 0
	fi
	local dir=$REPO_ROOT/build-bench-pdq log_file
	log "bench: $PDQ_INDEX_BENCH not found; making a release build in $dir"
	log_file=$(mktemp "${TMPDIR:-/tmp}/deprive-pdq-bench.XXXXXX")
	if [[ ! -f "$dir/meson-private/coredata.dat" ]]; then
		rm -rf -- "$dir"
		meson setup "$dir" "$REPO_ROOT" -Dbuildtype=release -Dtests=true -Dwerror=false \
			>"$log_file" 2>&1 || {
			tail -n 20 "$log_file" >&2
			rm -f -- "$log_file"
			die "meson setup failed"
		}
	fi
	meson compile -C "$dir" pdq_index_bench >"$log_file" 2>&1 || {
		tail -n 20 "$log_file" >&2
		rm -f -- "$log_file"
		die "building pdq_index_bench failed"
	}
	rm -f -- "$log_file"
	PDQ_INDEX_BENCH=$dir/pdq_index_bench
}

main() {
	find_bench
	local args=(--targets "$BENCH_TARGETS" --queries "$BENCH_QUERIES"
		--linear-queries "$BENCH_LINEAR" --threads "$BENCH_THREADS" --repeat "$BENCH_REPEAT")
	if [[ "$BENCH_SWEEP" == 1 ]]; then args+=(--sweep); fi
	local load_start rc=0
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "deprive PDQ index benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
	printf 'cpu: %s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
	printf 'program: %s\n' "$PDQ_INDEX_BENCH"
	printf 'load average at start %s\n' "$load_start"
	"$PDQ_INDEX_BENCH" "${args[@]}" || rc=$?
	printf '\nload average at end %s  (near 0: the wall times are good; else compare CPU time)\n' \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
	return "$rc"
}

main "$@"
