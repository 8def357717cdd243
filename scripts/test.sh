#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build and run the whole test suite in a normal build in build/, and again in an
# AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/ (all but the
# loop-filesystem and packaging suites, which run once); then
# compile (tests included, nothing run) a release build in build-release/ and a
# packager-style plain build with fortify and stack protector in build-plain/;
# then run cppcheck and clang-tidy over src/ (scripts/static-check.sh, build-static/);
# then smoke-test the fuzz targets in build-fuzz/ (clang only: fuzz/smoke.sh).
# Every build here has -Dwerror=true: warnings are fatal where this project
# chooses the compiler flags (meson.build leaves werror to packagers).
# Exits non-zero if anything fails. The last line printed is the summary
# "N passed, N failed[, N skipped]" summed over all of them; each compile-only
# build, the static analysis and the fuzz smoke test count as one passed or one
# failed (the last two as one skipped when their tools are missing).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/bootstrap.sh"

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/deprive-test.XXXXXX")
trap 'rm -rf "$LOGDIR"' EXIT

total_pass=0
total_fail=0
total_skip=0
status=0

# A build dir is usable when meson's private state and the ninja file exist.
build_dir_valid() {
	[[ -f "$1/meson-private/coredata.dat" && -f "$1/build.ninja" ]]
}

# configure DIR [meson options...]: set up or reconfigure; wipe when broken.
configure() {
	local dir=$1
	shift
	if build_dir_valid "$dir"; then
		if meson setup --reconfigure "$dir" "$@"; then
			return 0
		fi
		echo "test.sh: reconfiguring $dir failed; wiping it" >&2
	fi
	if [[ -e "$dir" ]]; then
		rm -rf -- "$dir"
	fi
	meson setup "$dir" "$@"
}

# summary_value LOG LABEL: the number after "LABEL:" in meson's summary.
summary_value() {
	local v
	v=$(grep -E "^$2:[[:space:]]+[0-9]+" "$1" | tail -n 1 | awk -F: '{gsub(/[[:space:]]/, "", $2); print $2}')
	echo "${v:-0}"
}

# run_suite NAME DIR [meson test options...]
run_suite() {
	local name=$1 dir=$2
	shift 2
	local log="$LOGDIR/$name.log" rc=0

	echo "==> [$name] meson compile -C $dir"
	if ! meson compile -C "$dir"; then
		echo "test.sh: [$name] build failed" >&2
		total_fail=$((total_fail + 1))
		status=1
		return 0
	fi

	echo "==> [$name] meson test -C $dir $*"
	meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log" || rc=$?

	local ok xfail fail xpass skip tmo
	ok=$(summary_value "$log" "Ok")
	xfail=$(summary_value "$log" "Expected Fail")
	fail=$(summary_value "$log" "Fail")
	xpass=$(summary_value "$log" "Unexpected Pass")
	skip=$(summary_value "$log" "Skipped")
	tmo=$(summary_value "$log" "Timeout")

	local p=$((ok + xfail)) f=$((fail + xpass + tmo))
	# meson failed without reporting a failing test (e.g. a rebuild error
	# or a crash of the harness): count it so the summary is not green.
	if ((rc != 0 && f == 0)); then
		f=1
	fi
	if ((rc != 0)); then
		status=1
	fi
	echo "==> [$name] $p passed, $f failed, $skip skipped (meson exit $rc)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + skip))
}

# build_only NAME DIR [meson options...]: configure and compile, run nothing;
# counts one passed or one failed.
build_only() {
	local name=$1 dir=$2
	shift 2
	echo "==> [$name] meson setup $dir $*"
	if ! configure "$dir" "$@"; then
		echo "test.sh: [$name] meson setup $dir failed" >&2
		total_fail=$((total_fail + 1))
		status=1
		return 0
	fi
	echo "==> [$name] meson compile -C $dir"
	if ! meson compile -C "$dir"; then
		echo "test.sh: [$name] build failed" >&2
		total_fail=$((total_fail + 1))
		status=1
		return 0
	fi
	echo "==> [$name] build ok (compile only)"
	total_pass=$((total_pass + 1))
}

# --- plain build -----------------------------------------------------------
if configure build -Dtests=true -Dwerror=true; then
	run_suite plain build
else
	echo "test.sh: meson setup build failed" >&2
	total_fail=$((total_fail + 1))
	status=1
fi

# --- ASan + UBSan build ----------------------------------------------------
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if configure build-asan -Dtests=true -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false; then
	# The suites that only exercise real filesystems (loop images, the free-space fill, shared
	# extents) and packaging run once, in the plain build: their C paths are the same the
	# unit and CLI suites drive under the sanitizers, and running them twice cost ~4 minutes
	# of the 15-minute budget (issue 12 allows it). Every other suite runs here too.
	run_suite asan build-asan --timeout-multiplier 3 --no-suite loopfs --no-suite freespace \
		--no-suite shared --no-suite package --no-suite guides --no-suite remnants
else
	echo "test.sh: meson setup build-asan failed" >&2
	total_fail=$((total_fail + 1))
	status=1
fi

# --- compile only: release (-O3) and a distribution-style plain build ----------
# GCC warns differently with optimisation and fortify (-Wdangling-pointer,
# -Wformat-truncation, -Wstringop-*): these builds catch what build/ does not.
build_only release build-release -Dtests=true -Dwerror=true -Dbuildtype=release
build_only fortify build-plain -Dtests=true -Dwerror=true -Dbuildtype=plain \
	"-Dc_args=-O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong"

# --- static analysis: cppcheck and clang-tidy (scripts/static-check.sh) -----------
# Any finding fails it; the checks kept, and the false positives with their reasons, are
# in scripts/cppcheck/ and .clang-tidy. One passed or one failed, like the compile-only
# builds; one skipped when cppcheck or clang-tidy is missing (exit 77).
echo "==> [static] scripts/static-check.sh"
static_rc=0
"$REPO_ROOT/scripts/static-check.sh" || static_rc=$?
if ((static_rc == 0)); then
	total_pass=$((total_pass + 1))
elif ((static_rc == 77)); then
	echo "test.sh: [static] skipped: cppcheck or clang-tidy not found"
	total_skip=$((total_skip + 1))
else
	echo "test.sh: [static] scripts/static-check.sh failed" >&2
	total_fail=$((total_fail + 1))
	status=1
fi

# --- fuzz targets: clang, libFuzzer, ASan + UBSan (fuzz/README.md) --------------
# fuzz/smoke.sh builds build-fuzz/, replays every committed corpus and crash
# reproducer, then fuzzes each target 5 s. One passed or one failed, like the
# compile-only builds; one skipped when clang is missing.
echo "==> [fuzz] fuzz/smoke.sh"
if ! command -v clang >/dev/null 2>&1; then
	echo "test.sh: [fuzz] skipped: clang not found (the fuzz targets need libFuzzer)"
	total_skip=$((total_skip + 1))
elif "$REPO_ROOT/fuzz/smoke.sh"; then
	total_pass=$((total_pass + 1))
else
	echo "test.sh: [fuzz] fuzz/smoke.sh failed" >&2
	total_fail=$((total_fail + 1))
	status=1
fi

if ((total_fail > 0)); then
	status=1
fi

echo
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
exit "$status"
