#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Wipe throughput benchmark: `deprive wipe` against `dd if=/dev/zero conv=notrunc,fdatasync`
# and `shred -n1 -u` over the same files (default 4 x 256 MiB + 200 x 1 MiB), on a fresh ext4
# loop image (as root) or a temp directory on the host filesystem (otherwise; the report says
# which). Prints measured figures; asserts nothing.
#
# Environment:
#   DEPRIVE          deprive binary (default REPO/build/deprive, else REPO/build-bench/deprive)
#   BENCH_IMAGE_MB   size of the ext4 image (default 2560; at least 2048)
#   BENCH_BIG        number of big files (default 4), BENCH_BIG_MB their size (default 256)
#   BENCH_SMALL      number of small files (default 200), BENCH_SMALL_MB their size (default 1)
#   BENCH_ZERO       1 (default) also times `deprive wipe --method zero`; 0 skips it
#   BENCH_LOOP_DIO   1 (default) attaches the loop device with --direct-io=on, so the host's
#                    page cache does not absorb the writes; 0 leaves it buffered
#   TMPDIR           where the image (or the tree) and the work files go
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_IMAGE_MB=${BENCH_IMAGE_MB:-2560}
BENCH_BIG=${BENCH_BIG:-4}
BENCH_BIG_MB=${BENCH_BIG_MB:-256}
BENCH_SMALL=${BENCH_SMALL:-200}
BENCH_SMALL_MB=${BENCH_SMALL_MB:-1}
BENCH_ZERO=${BENCH_ZERO:-1}
BENCH_LOOP_DIO=${BENCH_LOOP_DIO:-1}
KEY=000102030405060708090a0b0c0d0e0f

log() { printf '%s\n' "$*" >&2; }
die() {
	log "bench: $*"
	exit 1
}
now_ns() { date +%s%N; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/deprive-bench-wipe.XXXXXX")
MNT="" LOOP="" TREE_PARENT="" JOURNAL_DIR="$WORK"
cleanup() {
	set +e
	if [[ -n "$MNT" ]] && mountpoint -q "$MNT"; then
		sync
		umount "$MNT" || { sleep 1; umount "$MNT"; }
	fi
	[[ -n "$LOOP" ]] && losetup -d "$LOOP"
	[[ "$JOURNAL_DIR" != "$WORK" ]] && rm -rf -- "$JOURNAL_DIR"
	[[ -n "$TREE_PARENT" && "$TREE_PARENT" != "$MNT" ]] && rm -rf -- "$TREE_PARENT"
	rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_tools() {
	local t missing=()
	for t in openssl dd shred sha256sum awk find xargs mountpoint; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	((${#missing[@]} == 0)) || die "missing: ${missing[*]}"
	DEPRIVE=${DEPRIVE:-$REPO_ROOT/build/deprive}
	[[ -x "$DEPRIVE" ]] || DEPRIVE=$REPO_ROOT/build-bench/deprive
	[[ -x "$DEPRIVE" ]] || die "no deprive binary: build one (meson setup build && ninja -C build) or set DEPRIVE"
	((BENCH_IMAGE_MB >= 2048)) || die "BENCH_IMAGE_MB must be at least 2048"
}

# Where the files live: a fresh ext4 loop image as root, else a temp dir (with the journal on
# another filesystem, /dev/shm, because deprive refuses a journal on the wiped filesystem).
prepare_target() {
	if [[ $(id -u) -eq 0 && -e /dev/loop-control ]] && command -v mkfs.ext4 >/dev/null 2>&1; then
		local img=$WORK/fs.img
		truncate -s "${BENCH_IMAGE_MB}M" "$img"
		mkfs.ext4 -q -F "$img"
		local dio=""
		[[ "$BENCH_LOOP_DIO" == 1 ]] && dio="--direct-io=on"
		LOOP=$(losetup -f --show $dio "$img" 2>/dev/null) || LOOP=$(losetup -f --show "$img")
		MNT=$WORK/mnt
		mkdir -p "$MNT"
		mount -t ext4 "$LOOP" "$MNT"
		TREE_PARENT=$MNT
		local hostfs dio_state
		hostfs=$(stat -f -c %T "$WORK")
		dio_state=$(cat "/sys/block/${LOOP#/dev/}/loop/dio" 2>/dev/null || echo "?")
		WHERE="fresh ext4 image of $BENCH_IMAGE_MB MiB on $LOOP (loop direct I/O: $dio_state), image file on $hostfs ($WORK)"
	else
		TREE_PARENT=$(mktemp -d "${TMPDIR:-/tmp}/deprive-bench-tree.XXXXXX")
		local hostfs
		hostfs=$(stat -f -c %T "$TREE_PARENT")
		WHERE="temp directory on the host filesystem ($hostfs, $TREE_PARENT): not root, no loop device"
		if [[ $(stat -c %d "$TREE_PARENT") == $(stat -c %d "$WORK") ]]; then
			JOURNAL_DIR=$(mktemp -d /dev/shm/deprive-bench-journal.XXXXXX 2>/dev/null) ||
				die "no filesystem other than $TREE_PARENT for the journal"
			[[ $(stat -c %d "$JOURNAL_DIR") != $(stat -c %d "$TREE_PARENT") ]] ||
				die "no filesystem other than $TREE_PARENT for the journal"
		fi
	fi
	TREE=$TREE_PARENT/set
}

drop_caches() {
	sync
	if [[ -w /proc/sys/vm/drop_caches ]]; then
		echo 3 >/proc/sys/vm/drop_caches
		CACHES="dropped before each run"
	else
		CACHES="not dropped (not root): writes may be absorbed differently"
	fi
}

# The same pseudo-random files every time (AES-CTR keystream, one IV per file; openssl dies of
# SIGPIPE when head has enough, hence the || true under pipefail).
make_files() {
	rm -rf -- "$TREE"
	mkdir -p "$TREE/big" "$TREE/small"
	local i
	for ((i = 0; i < BENCH_BIG; i++)); do
		{ openssl enc -aes-128-ctr -K "$KEY" -iv "$(printf '%032x' $((i + 1)))" -nosalt </dev/zero 2>/dev/null || true; } |
			head -c $((BENCH_BIG_MB * 1048576)) >"$TREE/big/video_$i.mp4"
	done
	for ((i = 0; i < BENCH_SMALL; i++)); do
		{ openssl enc -aes-128-ctr -K "$KEY" -iv "$(printf '%032x' $((i + 1000)))" -nosalt </dev/zero 2>/dev/null || true; } |
			head -c $((BENCH_SMALL_MB * 1048576)) >"$TREE/small/photo_$i.jpg"
	done
	sync
}

TOTAL_BYTES=$(((BENCH_BIG * BENCH_BIG_MB + BENCH_SMALL * BENCH_SMALL_MB) * 1048576))
declare -A SECS NOTE

record() { # record KEY SECONDS NOTE
	SECS[$1]=$2
	NOTE[$1]=$3
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b - a) / 1e9}'; }

bench_deprive() { # bench_deprive KEY METHOD
	local key=$1 method=$2
	log "bench: deprive wipe --method $method: writing the files"
	make_files
	local plan=$JOURNAL_DIR/plan-$method.json
	rm -f -- "$plan" "$plan.journal" "$plan.wipe.json"
	"$DEPRIVE" -q scan --hashes "$LIST" -o "$plan" "$TREE" >/dev/null
	drop_caches
	log "bench: deprive wipe --method $method: timing"
	local t0 t1 rc=0
	t0=$(now_ns)
	"$DEPRIVE" -q wipe --hashes "$LIST" --method "$method" --order BENCH-0001 --yes "$plan" >"$WORK/deprive-$method.out" 2>&1 || rc=$?
	t1=$(now_ns)
	local left
	left=$(find "$TREE" -type f | wc -l)
	local erased
	erased=$(grep -o '"erased": *[0-9]*' "$plan.wipe.json" 2>/dev/null | head -n 1 | grep -o '[0-9]*$' || true)
	record "$key" "$(elapsed "$t0" "$t1")" "exit $rc, ${erased:-?} erased, $left file(s) left; re-hash + overwrite + read-back verify + scrub + unlink, journaled"
	# the write passes alone, as deprive timed them (passes[].seconds in the wipe result)
	if command -v python3 >/dev/null 2>&1 && [[ -f "$plan.wipe.json" ]]; then
		local w
		w=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print("%.3f" % sum(p.get("seconds", 0) for t in r["targets"] for p in t.get("overwrite", {}).get("passes", [])))' "$plan.wipe.json" 2>/dev/null || true)
		[[ -n "$w" ]] && record "${key}_passes" "$w" "the write passes alone (write + fdatasync), from passes[].seconds in the wipe result"
	fi
	return 0
}

bench_dd() {
	log "bench: dd: writing the files"
	make_files
	drop_caches
	log "bench: dd: timing"
	local t0 t1 f mb
	t0=$(now_ns)
	while IFS= read -r -d '' f; do
		mb=$(($(stat -c %s "$f") / 1048576))
		dd if=/dev/zero of="$f" bs=1M count="$mb" conv=notrunc,fdatasync status=none
	done < <(find "$TREE" -type f -print0)
	t1=$(now_ns)
	record dd "$(elapsed "$t0" "$t1")" "zeros, one dd per file, fdatasync each; no verify, no unlink"
}

bench_shred() {
	log "bench: shred: writing the files"
	make_files
	drop_caches
	log "bench: shred: timing"
	local t0 t1
	t0=$(now_ns)
	find "$TREE" -type f -print0 | xargs -0 shred -n1 -u
	t1=$(now_ns)
	local left
	left=$(find "$TREE" -type f | wc -l)
	record shred "$(elapsed "$t0" "$t1")" "one pseudo-random pass, renames and unlinks; no verify; $left file(s) left"
}

row() { # row KEY LABEL
	local s=${SECS[$1]:-}
	[[ -n "$s" ]] || return 0
	printf '%-30s %9s %10s %9s  %s\n' "$2" "$s" \
		"$(awk -v b="$TOTAL_BYTES" -v s="$s" 'BEGIN {printf "%.1f", (s > 0 ? b / s / 1e6 : 0)}')" \
		"$(awk -v b="$TOTAL_BYTES" -v s="$s" 'BEGIN {printf "%.1f", (s > 0 ? b / s / 1048576 : 0)}')" \
		"${NOTE[$1]}"
}

ratio() { # throughput ratio A/B = time B / time A
	awk -v a="${SECS[$1]:-}" -v b="${SECS[$2]:-}" \
		'BEGIN {if (a != "" && b != "" && a > 0) printf "%.2f", b / a; else printf "n/a"}'
}

main() {
	cd "$WORK"
	require_tools
	prepare_target
	LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
	log "bench: computing the hash list"
	make_files
	LIST=$JOURNAL_DIR/victims.sha256
	(cd "$TREE" && find . -type f -print0 | xargs -0 -P "$(nproc)" -n 16 sha256sum) >"$LIST"

	bench_deprive deprive nist-clear
	[[ "$BENCH_ZERO" == 1 ]] && bench_deprive deprive_zero zero
	bench_dd
	bench_shred

	echo
	echo "deprive wipe benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
	echo "where: $WHERE"
	echo "journal and plan: $JOURNAL_DIR ($(stat -f -c %T "$JOURNAL_DIR"))"
	printf 'files: %s x %s MiB + %s x %s MiB = %s bytes (%.2f GiB)\n' "$BENCH_BIG" "$BENCH_BIG_MB" \
		"$BENCH_SMALL" "$BENCH_SMALL_MB" "$TOTAL_BYTES" "$(awk -v b="$TOTAL_BYTES" 'BEGIN {print b / 1073741824}')"
	echo "deprive: $DEPRIVE"
	echo "page cache: $CACHES; load average at start $LOADAVG_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	printf '%-30s %9s %10s %9s  %s\n' "measurement" "seconds" "MB/s" "MiB/s" "note"
	printf '%s\n' "----------------------------------------------------------------------------------------------------------------"
	row deprive "deprive wipe (nist-clear)"
	row deprive_passes "  of which write passes"
	row deprive_zero "deprive wipe --method zero"
	row deprive_zero_passes "  of which write passes"
	row dd "dd if=/dev/zero fdatasync"
	row shred "shred -n1 -u"
	echo
	echo "throughput ratios (bytes/s; > 1: the first is faster):"
	printf '  deprive(nist-clear) / dd = %s   (target >= 0.9)\n' "$(ratio deprive dd)"
	[[ -n "${SECS[deprive_zero]:-}" ]] && printf '  deprive(zero)       / dd = %s\n' "$(ratio deprive_zero dd)"
	printf '  deprive(nist-clear) / shred -n1 = %s\n' "$(ratio deprive shred)"
	[[ -n "${SECS[deprive_passes]:-}" ]] &&
		printf '  deprive(nist-clear) write passes alone / dd = %s\n' "$(ratio deprive_passes dd)"
	echo
	echo "deprive writes every byte and reads it back from the device (O_DIRECT) to verify;"
	echo "dd and shred only write. MB = 10^6 bytes."
}

main "$@"
