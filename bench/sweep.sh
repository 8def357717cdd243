#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sweep throughput benchmark: `deprive sweep` of a loop device (default 4 GiB, a sparse image
# in $TMPDIR holding ext4 with a few hundred MiB of random files and some photo-like JPEGs, a
# few victim copies among them and a few deleted) beside `dd if=DEV of=/dev/null bs=4M
# iflag=direct` of the same device in the same run, the page cache dropped before every run.
# Decoding is reported apart: a sweep with an exact list (SHA-256 only: nothing decoded) and
# one with the victim's `deprive hash` list (PDQ: every JPEG stream decoded), and the sweep's
# own figures from its report (streams, decoded) and from `scan --sweep` (sweep.seconds).
# Prints measured figures beside the target (deprive sweep >= 0.8 x dd); asserts nothing, but
# exits 1 when a sweep reports other matches than the copies planted. Root only.
#
# Environment:
#   DEPRIVE          deprive binary (default BENCH_BUILD/deprive)
#   BENCH_BUILD      meson build with the tests on, for bench/archive_photos (the JPEG
#                    generator; default REPO/build-bench-archive, configured release when
#                    missing; shared with bench/archive.sh)
#   BENCH_IMAGE_MB   size of the loop image (default 4096)
#   BENCH_RANDOM_MB  random files written (default 384), in files of BENCH_FILE_MB (16)
#   BENCH_JPEG_MB    lawful JPEGs written (default 48; 1600x1200 quality 90, ~0.5 MB each)
#   BENCH_VICTIMS    the victim's images (default 4), listed; two of them copied live
#   BENCH_DELETED    victim copies written and removed with rm (default 3): in free space
#   BENCH_REPEAT     runs per measurement, the median reported (default 3)
#   BENCH_LOOP_DIO   1 attaches the loop device with --direct-io=on (default 0: buffered; the
#                    page cache is dropped before every run either way)
#   TMPDIR           where the image and the work files go (default /tmp)
# See bench/README.md.
set -euo pipefail

# REPO_ROOT, BENCH_BUILD's default, log, die, bench_build
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
BENCH_IMAGE_MB=${BENCH_IMAGE_MB:-4096}
BENCH_RANDOM_MB=${BENCH_RANDOM_MB:-384}
BENCH_FILE_MB=${BENCH_FILE_MB:-16}
BENCH_JPEG_MB=${BENCH_JPEG_MB:-48}
BENCH_VICTIMS=${BENCH_VICTIMS:-4}
BENCH_DELETED=${BENCH_DELETED:-3}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_LOOP_DIO=${BENCH_LOOP_DIO:-0}
TARGET_RATIO=0.8
KEY=000102030405060708090a0b0c0d0e0f

WORK=$(mktemp -d "${TMPDIR:-/tmp}/deprive-bench-sweep.XXXXXX")
MNT=$WORK/mnt LOOP=""
cleanup() {
	set +e
	if mountpoint -q "$MNT" 2>/dev/null; then
		sync
		umount "$MNT" || { sleep 1; umount "$MNT"; }
	fi
	[[ -n "$LOOP" ]] && losetup -d "$LOOP"
	rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_tools() {
	[[ $(id -u) -eq 0 && -e /dev/loop-control ]] || die "needs root and /dev/loop-control (a loop device)"
	[[ -w /proc/sys/vm/drop_caches ]] || die "needs /proc/sys/vm/drop_caches writable"
	local t missing=()
	for t in meson ninja losetup mkfs.ext4 mount umount mountpoint dd openssl python3 awk sort; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[[ -x /usr/bin/time ]] || missing+=("/usr/bin/time (package time)")
	((${#missing[@]} == 0)) || die "missing: ${missing[*]} (scripts/bootstrap.sh installs them)"
	local avail_mb
	avail_mb=$(df -Pm "$WORK" | awk 'NR==2 {print $4}')
	((avail_mb > BENCH_RANDOM_MB + BENCH_JPEG_MB + 512)) ||
		die "need about $((BENCH_RANDOM_MB + BENCH_JPEG_MB + 512)) MiB free in $WORK (the image is sparse)"
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# --- the device -------------------------------------------------------------------------

# A keystream file of n MiB, distinct per seed.
random_file() {
	local path=$1 mb=$2 seed=$3
	# openssl dies of SIGPIPE when head has had enough: that is its normal end here
	{ openssl enc -aes-128-ctr -nosalt -K "$KEY" -iv "$(printf '%032x' "$seed")" </dev/zero 2>/dev/null || true; } |
		head -c "$((mb << 20))" >"$path"
	[[ $(stat -c %s "$path") -eq $((mb << 20)) ]] || die "cannot write $path"
}

make_device() {
	local img=$WORK/disk.img t0=$SECONDS
	truncate -s "${BENCH_IMAGE_MB}M" "$img"
	mkfs.ext4 -q -F "$img"
	local dio=""
	[[ "$BENCH_LOOP_DIO" == 1 ]] && dio="--direct-io=on"
	LOOP=$(losetup -f --show $dio "$img")
	mkdir -p "$MNT" "$WORK/lawful" "$WORK/victims"
	mount -t ext4 "$LOOP" "$MNT"
	mkdir -p "$MNT/data" "$MNT/Pictures" "$MNT/Downloads"
	local i nfiles=$(((BENCH_RANDOM_MB + BENCH_FILE_MB - 1) / BENCH_FILE_MB))
	for ((i = 0; i < nfiles; i++)); do
		random_file "$MNT/data/blob_$i.bin" "$BENCH_FILE_MB" $((i + 1))
	done
	# lawful photos, then the victim's (other seeds); archive_photos writes IMG_nnnnn.jpg
	"$GEN" "$WORK/lawful" $((BENCH_JPEG_MB << 20)) 1600x1200 90 424242 >/dev/null
	for ((i = 0; i < BENCH_VICTIMS; i++)); do # one image each (one thread, one byte wanted)
		mkdir -p "$WORK/v.$i"
		"$GEN" "$WORK/v.$i" 1 1600x1200 90 $((999000 + i)) 1 >/dev/null
		mv "$WORK/v.$i"/IMG_*.jpg "$WORK/victims/V_$i.jpg"
		rmdir "$WORK/v.$i"
	done
	cp "$WORK"/lawful/*.jpg "$MNT/Pictures/"
	mapfile -t VICTIMS < <(find "$WORK/victims" -name '*.jpg' | sort | head -n "$BENCH_VICTIMS")
	# the lists: the victim's `deprive hash` (digests and PDQ), and SHA-256 alone
	"$DEPRIVE" hash --label victim "${VICTIMS[@]}" >"$WORK/victim.list"
	sha256sum "${VICTIMS[@]}" | awk '{print $1 "  victim"}' >"$WORK/victim.sha256"
	# two victim copies live; BENCH_DELETED written among random files and removed
	cp "${VICTIMS[0]}" "$MNT/Pictures/IMG_live_0.jpg"
	((${#VICTIMS[@]} > 1)) && cp "${VICTIMS[1]}" "$MNT/Pictures/IMG_live_1.jpg"
	for ((i = 0; i < BENCH_DELETED; i++)); do
		cp "${VICTIMS[$((i % ${#VICTIMS[@]}))]}" "$MNT/Downloads/del_$i.jpg"
		random_file "$MNT/Downloads/pad_$i.bin" 1 $((5000 + i))
	done
	sync
	rm -f "$MNT"/Downloads/del_*.jpg
	sync
	LIVE_VICTIMS=$(( ${#VICTIMS[@]} > 1 ? 2 : 1 ))
	WANT_MATCHES=$((LIVE_VICTIMS + BENCH_DELETED))
	NJPEG=$(find "$WORK/lawful" -name '*.jpg' | wc -l)
	JPEG_BYTES=$(du -sb "$WORK/lawful" | awk '{print $1}')
	USED_MB=$(df -Pm "$MNT" | awk 'NR==2 {print $3}')
	ALLOCATED_MB=$(du -m "$img" | awk '{print $1}')
	umount "$MNT"
	DEV_BYTES=$(blockdev --getsize64 "$LOOP")
	log "bench: device made in $((SECONDS - t0)) s"
}

# --- measurements -----------------------------------------------------------------------

# run NAME CMD...: BENCH_REPEAT runs, the cache dropped before each; "wall user sys" per run
# appended to $WORK/NAME.runs.
run() {
	local name=$1 i
	shift
	: >"$WORK/$name.runs"
	for ((i = 0; i < BENCH_REPEAT; i++)); do
		drop_caches
		/usr/bin/time -f '%e %U %S %M' -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
			{
				tail -n 5 "$WORK/$name.err" >&2
				die "$name failed"
			}
		cat "$WORK/$name.time" >>"$WORK/$name.runs"
	done
}

# the smallest wall time of a measurement's runs
best() { awk '{print $1}' "$WORK/$1.runs" | sort -n | head -n 1; }

# median of column k (1: wall, 2: user, 3: sys, 4: RSS KiB; 5: user + sys)
median() {
	awk -v k="$2" '{v = (k == 5) ? $2 + $3 : $k; print v}' "$WORK/$1.runs" | sort -n |
		awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

main() {
	require_tools
	bench_build
	make_device
	local load0
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	run dd dd if="$LOOP" of=/dev/null bs=4M iflag=direct
	run ddbuf dd if="$LOOP" of=/dev/null bs=4M
	run exact "$DEPRIVE" -q sweep --hashes "$WORK/victim.sha256" -o "$WORK/exact.json" "$LOOP"
	run pdq "$DEPRIVE" -q sweep --hashes "$WORK/victim.list" -o "$WORK/pdq.json" "$LOOP"
	# scan --sweep of the filesystem mounted read-only: the walk, then the same sweep
	mount -t ext4 -o ro,noload "$LOOP" "$MNT"
	run scansweep "$DEPRIVE" -q scan --sweep --hashes "$WORK/victim.list" -o "$WORK/scan.json" "$MNT"
	umount "$MNT"
	local load1
	load1=$(cut -d' ' -f1-3 /proc/loadavg)

	local ok=1 m_exact m_pdq rem
	m_exact=$(jq_py "$WORK/exact.json" 'd["totals"]["matches"]')
	m_pdq=$(jq_py "$WORK/pdq.json" 'd["totals"]["matches"]')
	rem=$(jq_py "$WORK/scan.json" 'd["sweep"]["remnants"]')
	[[ "$m_exact" == "$WANT_MATCHES" && "$m_pdq" == "$WANT_MATCHES" && "$rem" == "$BENCH_DELETED" ]] || ok=0

	printf 'deprive sweep benchmark - %s, %s cores, %s\n' "$(date -u +%FT%TZ)" "$(nproc)" "$(uname -r)"
	printf 'deprive: %s (%s)\n' "$DEPRIVE" "$DEPRIVE_BUILD"
	printf 'device: %s, %s bytes (%d MiB; sparse image %s, %s MiB allocated; loop direct-io %s)\n' \
		"$LOOP" "$DEV_BYTES" $((DEV_BYTES >> 20)) "$WORK/disk.img" "$ALLOCATED_MB" \
		"$([[ $BENCH_LOOP_DIO == 1 ]] && echo on || echo off)"
	printf 'ext4: %s MiB used: %s MiB random files, %d lawful JPEGs (%s bytes, 1600x1200 q90), %d victim copies live, %d deleted\n' \
		"$USED_MB" "$BENCH_RANDOM_MB" "$NJPEG" "$JPEG_BYTES" "$LIVE_VICTIMS" "$BENCH_DELETED"
	printf 'page cache dropped before every run; median of %d runs\n' "$BENCH_REPEAT"
	printf 'load average (1, 5, 15 min) at start %s, at end %s: above 0 means other processes shared the cores\n\n' "$load0" "$load1"

	local dd_w dd_b
	dd_w=$(median dd 1)
	dd_b=$(best dd)
	printf '%-40s %7s %7s %7s %6s %7s %6s %7s  %s\n' measurement "wall s" "CPU s" "MB/s" "x dd" "best s" "x dd" "RSS MiB" note
	printf '%s\n' "----------------------------------------------------------------------------------------------------------------------"
	row() {
		local name=$1 label=$2 note=$3 w c rss b
		w=$(median "$name" 1)
		c=$(median "$name" 5)
		rss=$(median "$name" 4)
		b=$(best "$name")
		awk -v l="$label" -v w="$w" -v c="$c" -v B="$DEV_BYTES" -v d="$dd_w" -v r="$rss" -v n="$note" \
			-v b="$b" -v db="$dd_b" \
			'BEGIN {printf "%-40s %7.2f %7.2f %7.0f %6.2f %7.2f %6.2f %7.1f  %s\n", l, w, c, B / w / 1e6, d / w, b, db / b, r / 1024, n}'
	}
	local st_e st_p dec_p
	st_e=$(jq_py "$WORK/exact.json" 'd["totals"]["streams"]')
	st_p=$(jq_py "$WORK/pdq.json" 'd["totals"]["streams"]')
	dec_p=$(jq_py "$WORK/pdq.json" 'd["totals"]["decoded"]')
	local verdict_e
	verdict_e=$(awk -v d="$dd_w" -v w="$(median exact 1)" -v db="$dd_b" -v b="$(best exact)" -v t="$TARGET_RATIO" \
		'BEGIN {printf "target >= %s x dd: %s (median), %s (best)", t, (d / w >= t) ? "met" : "MISSED", (db / b >= t) ? "met" : "MISSED"}')
	row dd "dd bs=4M iflag=direct" "the device read floor"
	row ddbuf "dd bs=4M (buffered)" "through the page cache, as deprive reads"
	row exact "deprive sweep, SHA-256 list" "$st_e streams carved, none decoded, $m_exact matches; $verdict_e"
	row pdq "deprive sweep, deprive hash list (PDQ)" "$st_p streams, $dec_p decoded, $m_pdq matches"
	row scansweep "deprive scan --sweep (walk + sweep)" "$(jq_py "$WORK/scan.json" \
		'"sweep.seconds %.2f, %d MiB of live files not read again" % (d["sweep"]["seconds"], d["sweep"].get("bytes_skipped_live", 0) >> 20)'), $rem remnants"
	printf '\n'
	awk -v p="$(median pdq 1)" -v e="$(median exact 1)" -v pc="$(median pdq 5)" -v ec="$(median exact 5)" \
		-v n="$dec_p" 'BEGIN {
		if (n > 0)
			printf "decoding: %d streams decoded for PDQ: +%.2f s wall, +%.2f s CPU over the SHA-256-only sweep (%.1f ms CPU a stream)\n",
				n, p - e, pc - ec, (pc - ec) * 1000 / n
		}'
	printf 'MB/s: 10^6 device bytes per (median) wall second. x dd: dd iflag=direct wall / this wall, medians, then the best\n'
	printf 'runs of each (%s or above meets the target for the SHA-256 sweep). CPU s: user + sys (median). The image is\n' "$TARGET_RATIO"
	printf 'sparse: its holes are read as zeros without disk I/O.\n\n'
	printf 'runs (wall s, every run):\n'
	local n
	for n in dd ddbuf exact pdq scansweep; do
		printf '  %-10s %s\n' "$n" "$(awk '{printf "%s ", $1}' "$WORK/$n.runs")"
	done
	if ((ok)); then
		printf 'matches: %s (%d live victim copies + %d deleted) with each list, %s remnants from scan --sweep: right\n' \
			"$m_exact" "$LIVE_VICTIMS" "$BENCH_DELETED" "$rem"
	else
		printf 'matches: WRONG: SHA-256 list %s, PDQ list %s (want %d), scan --sweep remnants %s (want %d)\n' \
			"$m_exact" "$m_pdq" "$WANT_MATCHES" "$rem" "$BENCH_DELETED"
		exit 1
	fi
}

main "$@"
