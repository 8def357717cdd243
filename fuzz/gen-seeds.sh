#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Remake the committed seed corpora (fuzz/corpus/<target>/) and fuzz/data/: the library makes
# plans, journals, certificates, confirmations, keys, signatures and small images
# (fuzz/gen_seeds.c); the hash lists are fixtures/hashlists; archives, raw images and EWF sets
# come from fuzz/gen-seeds-containers.sh (zip, bsdtar, ewfacquire, ...). Old seeds are removed
# first. Keep every seed small (a few KB): libFuzzer grows its own corpus from them.
#   fuzz/gen-seeds.sh [BUILD_DIR]      (default build-fuzz, made by fuzz/run.sh if missing)
set -euo pipefail

FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$FUZZ_DIR/.." && pwd)
BUILD=${1:-$REPO_ROOT/build-fuzz}

"$FUZZ_DIR/run.sh" --build-only "$BUILD"
nice -n 10 meson compile -C "$BUILD" fuzz/gen_seeds >/dev/null

rm -rf -- "$FUZZ_DIR/corpus" "$FUZZ_DIR/data"
mkdir -p "$FUZZ_DIR/corpus/hashlist" "$FUZZ_DIR/corpus/hashlist_format" "$FUZZ_DIR/corpus/cert"
ASAN_OPTIONS=detect_leaks=0 "$BUILD/fuzz/gen_seeds" "$FUZZ_DIR"

# Hash lists: every fixture as it is, and for fuzz_hashlist_format with the format's number
# in front (the harness's starts[] order) and the part its start supplies removed.
lists=$REPO_ROOT/fixtures/hashlists
cp "$lists"/* "$FUZZ_DIR/corpus/hashlist/"
fmt_seed() { # NUMBER FIXTURE [sed arguments removing what the start supplies]
	local n=$1 f=$2 out=$FUZZ_DIR/corpus/hashlist_format/$2
	shift 2
	printf "\\x$(printf %02x "$n")" >"$out"
	if [[ $# -gt 0 ]]; then sed "$@" "$lists/$f" >>"$out"; else cat "$lists/$f" >>"$out"; fi
}
fmt_seed 0 stopncii.json -z 's/^[^[]*"hashRecords": *\[//'
fmt_seed 1 vics-flat.json -z 's/^[^[]*"value": *\[//'
fmt_seed 1 vics-nested.json -z 's/^[^[]*"value": *\[//'
fmt_seed 2 hashdeep.txt 1d
fmt_seed 3 deprive.txt 1d
fmt_seed 3 deprive-pdq.txt 1d
fmt_seed 4 plain.txt
fmt_seed 4 bad-65hex.txt
fmt_seed 5 sha256sum.txt
fmt_seed 6 bsd-tag.txt
fmt_seed 7 threatexchange.txt
fmt_seed 8 pdq-hasher.csv
cp "$REPO_ROOT/fixtures/case-example.json" "$FUZZ_DIR/corpus/cert/"

# Carving: small images inside other bytes (a cache record, an HTTP body), and a SQLite
# database (512-byte pages) whose image blobs run over overflow pages; fixed filler bytes.
c=$FUZZ_DIR/corpus/carve
mkdir -p "$c"
filler() { head -c "$1" /dev/zero | tr '\0' "$2"; }
{
	filler 300 x
	cat "$FUZZ_DIR/corpus/image_jpeg/rgb.jpg"
	printf 'HTTP/1.1 200 OK\r\n\r\n'
	cat "$FUZZ_DIR/corpus/image_png/grey2.png"
	filler 100 y
} >"$c/cache-records.bin"
if command -v sqlite3 >/dev/null 2>&1; then
	printf "pragma page_size=512; create table t(id integer primary key, b blob);
insert into t(b) values (readfile('%s')); insert into t(b) values (readfile('%s'));" \
		"$FUZZ_DIR/corpus/image_jpeg/rgb.jpg" "$FUZZ_DIR/corpus/image_png/grey2.png" |
		sqlite3 "$c/sqlite-overflow.db"
fi

# Archives, raw images and EWF sets (fuzz_archive, fuzz_source), from the image seeds above
"$FUZZ_DIR/gen-seeds-containers.sh" >/dev/null

for d in "$FUZZ_DIR"/corpus/*/; do
	printf '%-20s %3d files %6d bytes\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)" \
		"$(cat "$d"/* | wc -c)"
done
