#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Scan throughput benchmark: deprive scan against the read floor, hashdeep,
# sha256sum and the hash functions' compute limit, on a ~4.7 GiB corpus of
# ~15,200 files. Prints measured figures; asserts nothing.
#
# Environment:
#   BENCH_DIR     cache for the corpus and lists (default /var/tmp/deprive-bench-corpus)
#   DEPRIVE       deprive binary (default REPO/build/deprive; when missing, a
#                 release build is made in REPO/build-bench)
#   BENCH_REPEAT  runs per measurement, best kept (default 1, after a warm-up)
#   BENCH_JOBS    passed to deprive as --jobs N (default: deprive's own default)
#   BENCH_SPEED_SECONDS  seconds per `openssl speed` algorithm (default 2)
# See bench/README.md.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/deprive-bench-corpus}
BENCH_REPEAT=${BENCH_REPEAT:-1}
BENCH_JOBS=${BENCH_JOBS:-}
BENCH_SPEED_SECONDS=${BENCH_SPEED_SECONDS:-2}

CORPUS=$BENCH_DIR/corpus
LISTS=$BENCH_DIR/lists
MARKER=$BENCH_DIR/.complete
CORPUS_VERSION="deprive-bench-corpus v1"
BIGLIST=$BENCH_DIR/big-1m.sha256
BIGLIST_MARKER=$BENCH_DIR/.big-1m.complete
EMPTY_DIR=$BENCH_DIR/empty

# AES-128-CTR keystream from /dev/zero with a fixed key: fast (~2 GB/s with
# AES-NI), deterministic, and every byte position distinct.
KEY=000102030405060708090a0b0c0d0e0f
IV=00000000000000000000000000000000

WORK=$(mktemp -d "${TMPDIR:-/tmp}/deprive-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log() { printf '%s\n' "$*" >&2; }
die() {
	log "bench: $*"
	exit 1
}
now_ns() { date +%s%N; }

require_tools() {
	local t missing=()
	for t in python3 find xargs cat md5sum sha256sum awk; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[[ -x /usr/bin/time ]] || missing+=("/usr/bin/time (package time)")
	command -v openssl >/dev/null 2>&1 || missing+=("openssl (package openssl)")
	((${#missing[@]} == 0)) || die "missing: ${missing[*]} (scripts/bootstrap.sh installs them)"
	HAVE_HASHDEEP=1
	if ! command -v hashdeep >/dev/null 2>&1; then
		HAVE_HASHDEEP=0
		log "bench: hashdeep not found (apt-get install hashdeep); its rows are skipped"
	fi
}

keystream() {
	openssl enc -aes-128-ctr -nosalt -K "$KEY" -iv "$IV" </dev/zero 2>/dev/null
}

# --- corpus -----------------------------------------------------------------

corpus_complete() {
	[[ -f "$MARKER" && "$(head -n 1 "$MARKER")" == "$CORPUS_VERSION" && -d "$CORPUS" &&
		-s "$LISTS/match.sha256" && -s "$LISTS/match.md5" &&
		-s "$LISTS/match.deprive" && -s "$LISTS/match.hashdeep" ]]
}

generate_corpus() {
	if corpus_complete; then
		log "bench: reusing corpus in $CORPUS"
		return 0
	fi
	log "bench: generating corpus in $CORPUS (about 4.7 GiB)"
	mkdir -p "$BENCH_DIR"
	local avail_kb
	avail_kb=$(df -Pk "$BENCH_DIR" | awk 'NR==2 {print $4}')
	((avail_kb > 6 * 1024 * 1024)) || die "need about 6 GiB free in $BENCH_DIR (have $((avail_kb / 1024)) MiB)"
	rm -f "$MARKER"
	rm -rf -- "$CORPUS" "$LISTS"
	mkdir -p "$CORPUS" "$LISTS"

	local t0 t1
	t0=$(now_ns)
	# The generator reads the keystream from stdin and cuts it into files; it
	# prints the relative paths of the 20 chosen "matches".
	cat >"$WORK/gen.py" <<'PY'
import os, random, sys

root = sys.argv[1]
rng = random.Random(20240601)
KiB, MiB = 1024, 1024 * 1024
files = []  # (relpath, size, magic)

# ~14,000 "photos", 50-400 KiB, Pictures/YYYY/MM/IMG_nnnnn.jpg
for i in range(14000):
    year = 2015 + i % 10
    month = 1 + (i // 10) % 12
    files.append((f"Pictures/{year}/{month:02d}/IMG_{i:05d}.jpg",
                  rng.randint(50 * KiB, 400 * KiB), b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"))
# ~1,000 "documents", 2-60 KiB, nested three deep
for i in range(1000):
    files.append((f"Documents/work/project{i % 20:02d}/{'drafts' if i % 3 else 'final'}/doc_{i:05d}.pdf",
                  rng.randint(2 * KiB, 60 * KiB), b"%PDF-1.4\n"))
# a few hundred 1-8 MiB files
for i in range(200):
    files.append((f"Downloads/batch{i % 10}/archive_{i:05d}.bin",
                  rng.randint(1 * MiB, 8 * MiB), b""))
# ~6 "videos", 60-200 MiB
for i in range(6):
    files.append((f"Videos/{2019 + i}/VID_{i:05d}.mp4",
                  rng.randint(60 * MiB, 200 * MiB), b"\x00\x00\x00\x18ftypmp42"))

src = sys.stdin.buffer
buf = bytearray(4 * MiB)
made = set()
for rel, size, magic in files:
    path = os.path.join(root, rel)
    d = os.path.dirname(path)
    if d not in made:
        os.makedirs(d, exist_ok=True)
        made.add(d)
    with open(path, "wb") as f:
        left = size
        first = True
        while left:
            n = min(left, len(buf))
            view = memoryview(buf)[:n]
            got = 0
            while got < n:
                r = src.readinto(view[got:])
                if not r:
                    sys.exit("keystream ended early")
                got += r
            if first and magic:
                view[:len(magic)] = magic
            first = False
            f.write(view)
            left -= n

# 20 matches: 14 photos, 3 documents, 2 mid-size, 1 video.
pick = random.Random(7)
chosen = (pick.sample(range(0, 14000), 14) + pick.sample(range(14000, 15000), 3)
          + pick.sample(range(15000, 15200), 2) + pick.sample(range(15200, 15206), 1))
for i in sorted(chosen):
    print(files[i][0])
PY
	# openssl dies of SIGPIPE when the generator is done: judge python alone.
	(set +o pipefail; keystream | python3 "$WORK/gen.py" "$CORPUS" >"$LISTS/match.paths") ||
		die "corpus generation failed"
	t1=$(now_ns)
	GEN_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e9}')

	write_lists
	printf '%s\n%s\n' "$CORPUS_VERSION" "generated in ${GEN_SECONDS}s" >"$MARKER"
	log "bench: corpus generated in ${GEN_SECONDS}s"
}

# Hash lists of the 20 matches in four formats.
write_lists() {
	local rel size md5 sha
	(cd "$CORPUS" && xargs -d '\n' sha256sum <"$LISTS/match.paths") >"$LISTS/match.sha256"
	(cd "$CORPUS" && xargs -d '\n' md5sum <"$LISTS/match.paths") >"$LISTS/match.md5"
	: >"$LISTS/match.deprive"
	{
		printf '%%%%%%%% HASHDEEP-1.0\n'
		printf '%%%%%%%% size,md5,sha256,filename\n'
		printf '## deprive bench: 20 matches\n'
		printf '## \n'
	} >"$LISTS/match.hashdeep"
	while IFS= read -r rel; do
		size=$(stat -c %s "$CORPUS/$rel")
		md5=$(awk -v p="$rel" '$2 == p {print $1}' "$LISTS/match.md5")
		sha=$(awk -v p="$rel" '$2 == p {print $1}' "$LISTS/match.sha256")
		printf 'md5:%s sha256:%s\n' "$md5" "$sha" >>"$LISTS/match.deprive"
		printf '%s,%s,%s,%s\n' "$size" "$md5" "$sha" "$rel" >>"$LISTS/match.hashdeep"
	done <"$LISTS/match.paths"
}

# 1,000,000-line sha256sum list of random digests (no file matches them).
generate_biglist() {
	mkdir -p "$EMPTY_DIR"
	if [[ -f "$BIGLIST_MARKER" && -s "$BIGLIST" ]]; then
		return 0
	fi
	log "bench: generating 1,000,000-entry hash list"
	python3 - "$BIGLIST" <<'PY'
import random, sys
rng = random.Random(1000000)
with open(sys.argv[1], "w") as f:
    for i in range(1000000):
        f.write(f"{rng.getrandbits(256):064x}  images/{i // 1000:04d}/{i:07d}.jpg\n")
PY
	touch "$BIGLIST_MARKER"
}

corpus_stats() {
	CORPUS_FILES=$(find "$CORPUS" -type f | wc -l)
	CORPUS_BYTES=$(find "$CORPUS" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s}')
	CORPUS_DIRS=$(find "$CORPUS" -type d | wc -l)
}

# --- measuring --------------------------------------------------------------

# Read the whole corpus so it is in the page cache. Done before every run:
# the kernel may reclaim cold page cache between measurements (DAMON), and a
# cached pass costs only ~1 s.
warm() {
	find "$CORPUS" -type f -print0 | xargs -0 cat >/dev/null
}

# measure CMD...: run BENCH_REPEAT times with stdout to $WORK/out; sets
# M_SECS (best wall time), M_CPU (user+sys seconds of that run, children
# included), M_RSS (its peak RSS KiB), M_RC (exit status of the last run).
measure() {
	local i t0 t1 secs rss cpu rc
	M_SECS=""
	M_CPU=""
	M_RSS=""
	M_RC=0
	for ((i = 0; i < BENCH_REPEAT; i++)); do
		warm
		rc=0
		t0=$(now_ns)
		/usr/bin/time -f '%M %U %S' -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
		t1=$(now_ns)
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
		read -r rss cpu < <(tail -n 1 "$WORK/time" | awk '{printf "%s %.2f\n", $1, $2 + $3}')
		M_RC=$rc
		if [[ -z "$M_SECS" ]] || awk -v a="$secs" -v b="$M_SECS" 'BEGIN {exit !(a < b)}'; then
			M_SECS=$secs
			M_RSS=$rss
			M_CPU=$cpu
		fi
	done
	if ((M_RC != 0)); then
		log "bench: '$*' exited $M_RC:"
		tail -n 5 "$WORK/err" >&2 || true
	fi
}

ROWS=()
declare -A SECS

# row KEY LABEL FILES NOTE: add a table row from the last measure().
row() {
	local key=$1 label=$2 files=$3 note=${4:-}
	if ((M_RC != 0)); then
		row_na "$label" "failed: exit $M_RC (stderr shown above)"
		return 0
	else
		SECS[$key]=$M_SECS # failed runs stay out of the ratios
	fi
	ROWS+=("$(awk -v l="$label" -v s="$M_SECS" -v b="$CORPUS_BYTES" -v f="$files" \
		-v r="$M_RSS" -v c="$M_CPU" -v n="$note" 'BEGIN {
			gbs = (s > 0 && b > 0) ? sprintf("%.3f", b / s / 1e9) : "-"
			fps = (s > 0 && f > 0) ? sprintf("%.0f", f / s) : "-"
			printf "%-44s %9.3f %8.2f %8s %8s %9s %9.1f  %s", l, s, c, gbs, f, fps, r / 1024, n
		}')")
}

row_na() {
	ROWS+=("$(printf '%-44s %9s %8s %8s %8s %9s %9s  %s' "$1" - - - - - - "$2")")
}

bench_read_floor() {
	# shellcheck disable=SC2016 # $1 is expanded by the inner bash
	measure bash -c 'find "$1" -type f -print0 | xargs -0 cat >/dev/null' _ "$CORPUS"
	row read "read floor: find | xargs cat" "$CORPUS_FILES"
}

bench_hashdeep() {
	if ((HAVE_HASHDEEP == 0)); then
		row_na "hashdeep -c md5,sha256" "hashdeep not installed"
		row_na "hashdeep -c sha256" "hashdeep not installed"
		return 0
	fi
	measure hashdeep -r -o f -c md5,sha256 "$CORPUS"
	row hd_both "hashdeep -c md5,sha256" "$CORPUS_FILES" "$(nthreads_note)"
	measure hashdeep -r -o f -c sha256 "$CORPUS"
	row hd_sha "hashdeep -c sha256" "$CORPUS_FILES"
}

nthreads_note() { printf '%s cores' "$(nproc)"; }

bench_sha256sum() {
	# shellcheck disable=SC2016 # $1 is expanded by the inner bash
	measure bash -c 'find "$1" -type f -print0 | xargs -0 -P2 -n 64 sha256sum >/dev/null' _ "$CORPUS"
	row sha256sum "find | xargs -P2 -n64 sha256sum" "$CORPUS_FILES"
}

# matched_note: how many of the 20 match paths appear in deprive's output.
matched_note() {
	local k
	k=$(grep -oF -f "$LISTS/match.paths" "$WORK/out" 2>/dev/null | sort -u | wc -l || true)
	if ((k > 0)); then
		printf 'matched %s/20' "$k"
	else
		printf 'matches not listed on stdout'
	fi
}

# deprive_scan [--no-carve] LIST...
deprive_scan() {
	local args=(-q scan)
	local l
	if [[ ${1:-} == --no-carve ]]; then
		args+=(--no-carve)
		shift
	fi
	for l in "$@"; do
		args+=(--hashes "$l")
	done
	if [[ -n "$BENCH_JOBS" ]]; then args+=(--jobs "$BENCH_JOBS"); fi
	measure "$DEPRIVE" "${args[@]}" "$SCAN_ROOT"
}

bench_deprive() {
	if [[ -z "$DEPRIVE" ]]; then
		row_na "deprive scan md5+sha256 list" "no deprive binary"
		row_na "deprive scan sha256sum list" "no deprive binary"
		row_na "deprive scan hashdeep list (sizes)" "no deprive binary"
		return 0
	fi
	SCAN_ROOT=$CORPUS
	# carving (embedded images) is on by default and reads every byte; --no-carve rows are
	# the same scans without it, so the two show what carving costs
	deprive_scan "$LISTS/match.deprive"
	row dp_both "deprive scan md5+sha256 list" "$CORPUS_FILES" "$(matched_note)"
	deprive_scan --no-carve "$LISTS/match.deprive"
	row dp_both_nc "deprive scan md5+sha256 list --no-carve" "$CORPUS_FILES" "$(matched_note)"
	deprive_scan "$LISTS/match.sha256"
	row dp_sha "deprive scan sha256sum list" "$CORPUS_FILES" "$(matched_note)"
	deprive_scan "$LISTS/match.hashdeep"
	row dp_size "deprive scan hashdeep list (sizes)" "$CORPUS_FILES" "$(matched_note)"
	deprive_scan --no-carve "$LISTS/match.hashdeep"
	row dp_size_nc "deprive scan hashdeep list --no-carve" "$CORPUS_FILES" "$(matched_note)"
}

bench_hashdeep_match() {
	if ((HAVE_HASHDEEP == 0)); then
		row_na "hashdeep -m -k hashdeep list" "hashdeep not installed"
		return 0
	fi
	measure hashdeep -r -o f -m -k "$LISTS/match.hashdeep" "$CORPUS"
	local k
	k=$(grep -cF "$CORPUS/" "$WORK/out" || true)
	row hd_match "hashdeep -m -k hashdeep list" "$CORPUS_FILES" "matched $k/20"
}

bench_biglist() {
	if [[ -z "$DEPRIVE" ]]; then
		BIG_LINE="1M-entry list load: skipped (no deprive binary)"
		return 0
	fi
	SCAN_ROOT=$EMPTY_DIR
	deprive_scan "$BIGLIST"
	if ((M_RC != 0)); then
		BIG_LINE="1M-entry list load: failed, exit $M_RC (stderr shown above)"
		return 0
	fi
	BIG_LINE=$(printf '1M-entry sha256sum list load (%s MiB), empty root: %.3f s (CPU %s s), peak RSS %.1f MiB' \
		"$(($(stat -c %s "$BIGLIST") / 1048576))" "$M_SECS" "$M_CPU" "$(awk -v r="$M_RSS" 'BEGIN {print r / 1024}')")
}

# speed_of ALG: bytes/s of one core on 1 MiB blocks.
speed_of() {
	openssl speed -mr -evp "$1" -bytes 1048576 -seconds "$BENCH_SPEED_SECONDS" 2>/dev/null |
		awk -F: '$1 == "+F" {v = $4} END {print v + 0}'
}

bench_compute_limit() {
	SPEED_MD5=$(speed_of md5)
	SPEED_SHA1=$(speed_of sha1)
	SPEED_SHA256=$(speed_of sha256)
	NCPU=$(nproc)
	LIMIT_BOTH=$(awk -v m="$SPEED_MD5" -v s="$SPEED_SHA256" -v n="$NCPU" \
		'BEGIN {if (m > 0 && s > 0) print n / (1 / m + 1 / s); else print 0}')
	LIMIT_SHA=$(awk -v s="$SPEED_SHA256" -v n="$NCPU" 'BEGIN {print n * s}')
}

# --- deprive binary ---------------------------------------------------------

find_deprive() {
	DEPRIVE=${DEPRIVE:-$REPO_ROOT/build/deprive}
	if [[ -x "$DEPRIVE" ]]; then
		return 0
	fi
	log "bench: $DEPRIVE not found; building a release binary in build-bench"
	DEPRIVE=""
	local dir=$REPO_ROOT/build-bench
	if [[ ! -f "$dir/meson-private/coredata.dat" ]]; then
		rm -rf -- "$dir"
		meson setup "$dir" "$REPO_ROOT" -Dbuildtype=release -Dtests=false -Dwerror=false >"$WORK/build.log" 2>&1 ||
			{
				log "bench: meson setup failed (see below); deprive rows skipped"
				tail -n 20 "$WORK/build.log" >&2
				return 0
			}
	fi
	if meson compile -C "$dir" deprive:executable >"$WORK/build.log" 2>&1 && [[ -x "$dir/deprive" ]]; then
		DEPRIVE=$dir/deprive
	else
		log "bench: building deprive failed; deprive rows skipped"
		tail -n 20 "$WORK/build.log" >&2
	fi
}

# --- report -----------------------------------------------------------------

ratio() { # ratio A B -> A/B with 2 decimals, or n/a
	awk -v a="${SECS[$1]:-}" -v b="${SECS[$2]:-}" \
		'BEGIN {if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else printf "n/a"}'
}

gbs() { awk -v v="$1" 'BEGIN {printf "%.3f", v / 1e9}'; }

print_report() {
	echo
	echo "deprive scan benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
	printf 'corpus: %s (%s files, %s directories, %.2f GiB = %.2f GB)\n' "$CORPUS" "$CORPUS_FILES" \
		"$CORPUS_DIRS" "$(awk -v b="$CORPUS_BYTES" 'BEGIN {print b / 1073741824}')" \
		"$(awk -v b="$CORPUS_BYTES" 'BEGIN {print b / 1e9}')"
	[[ -f "$MARKER" ]] && printf 'corpus %s\n' "$(sed -n 2p "$MARKER")"
	printf 'deprive: %s\n' "${DEPRIVE:-none}"
	printf 'page cache warm; best of %s run(s) each; load average at start %s, at end %s\n\n' \
		"$BENCH_REPEAT" "$LOADAVG_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf '%-44s %9s %8s %8s %8s %9s %9s  %s\n' "measurement" "seconds" "CPU s" "GB/s" "files" "files/s" "RSS MiB" "note"
	printf '%s\n' "---------------------------------------------------------------------------------------------------------------------"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "compute limit (openssl speed -evp, 1 MiB blocks, one core):"
	printf '  md5 %s GB/s, sha1 %s GB/s, sha256 %s GB/s\n' \
		"$(gbs "$SPEED_MD5")" "$(gbs "$SPEED_SHA1")" "$(gbs "$SPEED_SHA256")"
	printf '  md5+sha256 in one pass on %s cores: %s GB/s  (= %s / (1/md5 + 1/sha256))\n' \
		"$NCPU" "$(gbs "$LIMIT_BOTH")" "$NCPU"
	printf '  sha256 only on %s cores: %s GB/s\n' "$NCPU" "$(gbs "$LIMIT_SHA")"
	if [[ -n "${SECS[dp_both]:-}" ]]; then
		printf '  deprive md5+sha256 reaches %s%% of that limit\n' \
			"$(awk -v b="$CORPUS_BYTES" -v s="${SECS[dp_both]}" -v l="$LIMIT_BOTH" \
				'BEGIN {printf "%.0f", (s > 0 && l > 0) ? 100 * b / s / l : 0}')"
	fi
	echo
	echo "ratios (wall time):"
	printf '  deprive(md5+sha256) / hashdeep(md5+sha256) = %s   (< 1: deprive faster)\n' "$(ratio dp_both hd_both)"
	printf '  deprive(sha256)     / hashdeep(sha256)     = %s   (< 1: deprive faster)\n' "$(ratio dp_sha hd_sha)"
	printf '  hashdeep -m -k      / deprive(size list)   = %s   (> 1: deprive faster)\n' "$(ratio hd_match dp_size)"
	printf '  hashdeep -m -k      / deprive(size list, --no-carve) = %s\n' "$(ratio hd_match dp_size_nc)"
	printf '  carving cost: deprive(md5+sha256) / the same --no-carve = %s   (target <= 1.10)\n' \
		"$(ratio dp_both dp_both_nc)"
	echo
	echo "$BIG_LINE"
}

main() {
	require_tools
	generate_corpus
	generate_biglist
	corpus_stats
	find_deprive

	LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
	log "bench: warming the page cache"
	warm

	log "bench: read floor";           bench_read_floor
	log "bench: hashdeep";             bench_hashdeep
	log "bench: sha256sum";            bench_sha256sum
	log "bench: deprive scan";         bench_deprive
	log "bench: hashdeep -m";          bench_hashdeep_match
	log "bench: 1M-entry list";        bench_biglist
	log "bench: openssl speed";        bench_compute_limit
	print_report
}

main "$@"
