#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Static analysis (scripts/test.sh's [static] stage; runs alone too), under nice:
#  1. cppcheck over src/ (with the headers of include/ and src/ it includes), with what it
#     needs to read the code in scripts/cppcheck/deprive.cfg and the false positives, each
#     with its reason, in scripts/cppcheck/suppressions.xml. A suppression that no longer
#     matches is a finding too, so the list cannot go stale.
#  2. clang-tidy over src/*/*.c with the checks of .clang-tidy (kept and dropped ones, with
#     reasons, are listed there), from the compile_commands.json of build-static/ (meson
#     setup -Dtests=false, made here or reused; STATIC_BUILD overrides), STATIC_JOBS (2)
#     files at a time.
# Findings are printed. Exit status: 0 when both are clean, 1 on any finding, 2 when the
# build dir cannot be set up, 77 when cppcheck or clang-tidy is missing (nothing run).
# The last line is "static-check: cppcheck N findings, clang-tidy N findings".
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
BUILD=${STATIC_BUILD:-build-static}
JOBS=${STATIC_JOBS:-2}

for tool in cppcheck clang-tidy; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "static-check: $tool not found (Debian: apt-get install $tool): nothing checked" >&2
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/deprive-static.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
start=$SECONDS

# --- build dir: compile_commands.json for clang-tidy, dp_config.h for both ----------------
# Reused when valid; "ninja build.ninja" reruns meson only when a meson.build changed, which
# also rewrites compile_commands.json (a source added to meson.build is then checked).
if [[ -f "$BUILD/meson-private/coredata.dat" && -f "$BUILD/build.ninja" ]] &&
	ninja -C "$BUILD" build.ninja >"$tmp/setup.log" 2>&1; then
	:
else
	rm -rf -- "$BUILD"
	if ! meson setup "$BUILD" -Dtests=false >"$tmp/setup.log" 2>&1; then
		cat "$tmp/setup.log" >&2
		echo "static-check: meson setup $BUILD failed" >&2
		exit 2
	fi
fi
if [[ ! -f "$BUILD/compile_commands.json" || ! -f "$BUILD/dp_config.h" ]]; then
	echo "static-check: $BUILD has no compile_commands.json or dp_config.h" >&2
	exit 2
fi

# --- cppcheck -----------------------------------------------------------------------------
# The configuration this project builds: GCC (HAVE_POPCNT_CLONE and the like are under
# __GNUC__), x86-64, glibc with _GNU_SOURCE. -D makes cppcheck check only that one, not
# every #ifdef combination. One job: with more, cppcheck 2.10 cannot tell which suppressions
# went unused (unmatchedSuppression, from "information"); the run takes under 10 s anyway.
# cppcheck reads no system header (missingIncludeSystem): libc, POSIX, GNU and OpenSSL come
# from its own library files, jansson's macros from deprive.cfg.
echo "==> cppcheck src/"
cppcheck_start=$SECONDS
cppcheck_log=$tmp/cppcheck.log
cppcheck_rc=0
nice -n 10 cppcheck --quiet --std=c11 --platform=unix64 \
	--enable=warning,style,performance,portability,information \
	--library=posix,gnu,openssl,scripts/cppcheck/deprive.cfg \
	-D__GNUC__ -D__x86_64__ -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-I include -I "$BUILD" \
	--suppress-xml=scripts/cppcheck/suppressions.xml --suppress=missingIncludeSystem \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	src 2>"$cppcheck_log" || cppcheck_rc=$?
cppcheck_n=$(grep -cE '^[^ ].*: (error|warning|style|performance|portability|information): ' \
	"$cppcheck_log" || true)
cat "$cppcheck_log"
if ((cppcheck_rc != 0 && cppcheck_n == 0)); then
	echo "static-check: cppcheck exited with status $cppcheck_rc" >&2
	cppcheck_n=1
fi
echo "==> cppcheck: $cppcheck_n findings ($((SECONDS - cppcheck_start)) s)"

# --- clang-tidy ---------------------------------------------------------------------------
# One process per file, each writing its own log (parallel output does not interleave);
# printed in file order. A file that does not compile counts as a finding (its errors are
# printed); a finding in a header counts once, however many files include it.
echo "==> clang-tidy src/*/*.c ($JOBS at a time)"
tidy_start=$SECONDS
mkdir "$tmp/tidy"
# shellcheck disable=SC2016 # $1/$2/$3 belong to the inner shell
printf '%s\n' src/*/*.c | nice -n 10 xargs -P "$JOBS" -I{} sh -c \
	'clang-tidy --quiet -p "$1" "$2" >"$3/$(echo "$2" | tr / _).log" 2>&1 ||
		echo "$2" >>"$3/failed"' _ "$BUILD" {} "$tmp/tidy" || true
# clang-tidy names files as the compile database does ($BUILD/../src/...): print them from
# the repository root
cat "$tmp/tidy"/*.log |
	grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' |
	sed -e "s#^$REPO_ROOT/$BUILD/\.\./##" -e "s#^$REPO_ROOT/##" -e "s#^\.\./##" \
		>"$tmp/tidy.out" || true
cat "$tmp/tidy.out"
tidy_n=$({ grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): ' "$tmp/tidy.out" || true; } |
	sort -u | wc -l)
if [[ -f "$tmp/failed" ]]; then
	nfailed=$(wc -l <"$tmp/failed")
	echo "static-check: clang-tidy failed on $nfailed file(s): $(tr '\n' ' ' <"$tmp/failed")" >&2
	if ((tidy_n == 0)); then
		tidy_n=$nfailed
	fi
fi
echo "==> clang-tidy: $tidy_n findings ($((SECONDS - tidy_start)) s)"

echo "==> static-check: $((SECONDS - start)) s in all"
echo "static-check: cppcheck $cppcheck_n findings, clang-tidy $tidy_n findings"
if ((cppcheck_n > 0 || tidy_n > 0)); then
	exit 1
fi
exit 0
