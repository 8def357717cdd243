# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
#
# What bench/archive.sh and bench/sweep.sh share, sourced by both (not run on its own): the
# repository root, the build they share (BENCH_BUILD, default REPO/build-bench-archive), their
# messages (log, die), and bench_build, which builds deprive and the photo generator
# bench/archive_photos there. bench_build needs WORK (its log goes there) and sets GEN, DEPRIVE
# (unless given) and DEPRIVE_BUILD (deprive --version).

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-$REPO_ROOT/build-bench-archive}

log() { printf '%s\n' "$*" >&2; }
die() {
	log "bench: $*"
	exit 1
}

# deprive and the photo generator (bench/archive_photos.c: tests/robust.c's scenes, libjpeg),
# which meson builds with the tests: a missing build is configured release, tests on.
bench_build() {
	if [[ ! -f "$BENCH_BUILD/meson-private/coredata.dat" ]]; then
		log "bench: configuring $BENCH_BUILD (release, tests on)"
		meson setup "$BENCH_BUILD" "$REPO_ROOT" -Dbuildtype=release -Dtests=true -Dwerror=false \
			>"$WORK/build.log" 2>&1 || {
			tail -n 20 "$WORK/build.log" >&2
			die "meson setup failed"
		}
	fi
	# ninja, not meson compile: it regenerates first, so a target added since setup is known
	nice -n 10 ninja -C "$BENCH_BUILD" archive_photos deprive >"$WORK/build.log" 2>&1 || {
		tail -n 20 "$WORK/build.log" >&2
		die "building archive_photos and deprive in $BENCH_BUILD failed (configured with -Dtests=true?)"
	}
	# shellcheck disable=SC2034 # GEN and DEPRIVE_BUILD: for the scripts that source this
	GEN=$BENCH_BUILD/archive_photos
	DEPRIVE=${DEPRIVE:-$BENCH_BUILD/deprive}
	[[ -x "$DEPRIVE" ]] || die "no deprive binary at $DEPRIVE"
	# shellcheck disable=SC2034
	DEPRIVE_BUILD=$("$DEPRIVE" --version 2>/dev/null | head -n 1 || true)
}
