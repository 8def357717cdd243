#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Archive scan benchmark: `deprive scan` over one ~1 GiB archive of photo-like JPEGs (tar.gz,
# zip stored, zip deflated) with an exact-only list, against `bsdtar -xOf ARCHIVE | sha256sum`
# on the same archive in the same run (the decompression floor; target: deprive within 1.3x of
# it), then with a PDQ list (every member image decoded) for the decode cost. Prints measured
# figures beside the baselines and says whether the target is met; asserts nothing but the
# findings. See bench/README.md ("bench/archive.sh").
#
# Environment:
#   DEPRIVE        deprive binary (default: BENCH_BUILD/deprive)
#   BENCH_BUILD    meson build directory for deprive and the photo generator (default
#                  REPO/build-bench-archive: configured release with tests on when missing)
#   BENCH_BYTES    JPEG bytes per archive (default 1073741824: 1 GiB)
#   BENCH_SIZE     image size (default 4032x3024, 12 MP)
#   BENCH_QUALITY  JPEG quality (default 97: about 2.8 MB a file)
#   BENCH_REPEAT   runs per measurement, the median reported (default 3)
#   BENCH_MATCHES  members listed in the exact list (default 5)
#   BENCH_RANDOM   unrelated random SHA-256 lines in it (default 1000)
#   BENCH_CASES    archives to make and scan (default "tgz zip zipd": tar.gz, zip stored, zip
#                  deflated)
#   BENCH_PDQ      1 (default): also scan with a PDQ list; 0 skips it
#   BENCH_PARTS    1 (default): also time the parts (read, whole-file SHA-256, bsdtar alone,
#                  deprive --no-archives); 0 skips them
#   BENCH_CACHE    cold (default when root: page cache dropped before every run) or warm
#   TMPDIR         where the work directory goes (default /var/tmp); removed on exit
set -euo pipefail

# REPO_ROOT, BENCH_BUILD's default, log, die, bench_build
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
BENCH_BYTES=${BENCH_BYTES:-1073741824}
BENCH_SIZE=${BENCH_SIZE:-4032x3024}
BENCH_QUALITY=${BENCH_QUALITY:-97}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_MATCHES=${BENCH_MATCHES:-5}
BENCH_RANDOM=${BENCH_RANDOM:-1000}
BENCH_CASES=${BENCH_CASES:-tgz zip zipd}
BENCH_PDQ=${BENCH_PDQ:-1}
BENCH_PARTS=${BENCH_PARTS:-1}
if [[ -z "${BENCH_CACHE:-}" ]]; then
	if [[ $(id -u) -eq 0 && -w /proc/sys/vm/drop_caches ]]; then BENCH_CACHE=cold; else BENCH_CACHE=warm; fi
fi
NCPU=$(nproc)
JOBS_LIST="1 $NCPU" # --jobs 1, then deprive's default (one worker per CPU)
((NCPU > 1)) || JOBS_LIST=1
TARGET_RATIO=1.3

now_ns() { date +%s%N; }

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/deprive-bench-archive.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
trap 'exit 130' INT TERM

require_tools() {
	local t missing=()
	for t in meson ninja tar gzip python3 sha256sum openssl awk sort; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	command -v bsdtar >/dev/null 2>&1 || missing+=("bsdtar (package libarchive-tools)")
	[[ -x /usr/bin/time ]] || missing+=("/usr/bin/time (package time)")
	((${#missing[@]} == 0)) || die "missing: ${missing[*]} (scripts/bootstrap.sh installs them)"
	if [[ "$BENCH_CACHE" == cold && ! -w /proc/sys/vm/drop_caches ]]; then
		die "BENCH_CACHE=cold needs root (writing /proc/sys/vm/drop_caches); use BENCH_CACHE=warm"
	fi
}

# --- build --------------------------------------------------------------------

# deprive and the photo generator (common.sh), and the build's type for the report.
build() {
	bench_build
	BUILD_TYPE=$(meson introspect --buildoptions "$BENCH_BUILD" 2>/dev/null |
		python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' \
			2>/dev/null || echo '?')
}

# --- data ---------------------------------------------------------------------

case_label() {
	case $1 in
	tgz) echo "tar.gz (gzip -6)" ;;
	zip) echo "zip stored" ;;
	zipd) echo "zip deflated (-6)" ;;
	*) echo "$1" ;;
	esac
}
case_file() {
	case $1 in
	tgz) echo "$WORK/cases/tgz/photos.tar.gz" ;;
	zip) echo "$WORK/cases/zip/photos.zip" ;;
	zipd) echo "$WORK/cases/zipd/photos-deflated.zip" ;;
	*) die "unknown case '$1' (BENCH_CASES: tgz zip zipd)" ;;
	esac
}

make_data() {
	local need_mb avail_mb ncases
	ncases=$(wc -w <<<"$BENCH_CASES")
	need_mb=$((BENCH_BYTES * (ncases + 1) / 1048576 + 200))
	avail_mb=$(($(df -Pk "$WORK" | awk 'NR==2 {print $4}') / 1024))
	((avail_mb > need_mb)) || die "need about $need_mb MiB free in $WORK (have $avail_mb MiB)"

	local t0
	t0=$(now_ns)
	mkdir -p "$WORK/photos"
	log "bench: generating photo-like JPEGs ($BENCH_SIZE, quality $BENCH_QUALITY) until $BENCH_BYTES bytes, in $WORK"
	"$GEN" "$WORK/photos" "$BENCH_BYTES" "$BENCH_SIZE" "$BENCH_QUALITY" 1 "$NCPU" >"$WORK/gen.out" ||
		die "the photo generator failed"
	read -r PHOTOS PHOTO_BYTES <"$WORK/gen.out"
	GEN_SECONDS=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN {printf "%.0f", (b - a) / 1e9}')
	(cd "$WORK/photos" && find . -maxdepth 1 -name 'IMG_*.jpg' -printf '%f\n' | LC_ALL=C sort) >"$WORK/members.txt"
	((PHOTOS == $(wc -l <"$WORK/members.txt"))) || die "generator wrote $PHOTOS files, found $(wc -l <"$WORK/members.txt")"

	# The exact list: BENCH_MATCHES members spread through the archive (10%, 30%, ... of the
	# way), among BENCH_RANDOM random SHA-256 lines, shuffled: sha256sum format, no sizes.
	local i k
	: >"$WORK/matches.txt"
	for ((i = 0; i < BENCH_MATCHES; i++)); do
		k=$(((2 * i + 1) * PHOTOS / (2 * BENCH_MATCHES) + 1))
		sed -n "${k}p" "$WORK/members.txt" >>"$WORK/matches.txt"
	done
	LC_ALL=C sort -u -o "$WORK/matches.txt" "$WORK/matches.txt"
	(cd "$WORK/photos" && xargs -d '\n' sha256sum <"$WORK/matches.txt") >"$WORK/matches.sha256"
	python3 - "$WORK/matches.sha256" "$BENCH_RANDOM" >"$WORK/exact.sha256" <<'PY'
import random, sys
rng = random.Random(20260601)
lines = open(sys.argv[1]).read().splitlines()
lines += [f"{rng.getrandbits(256):064x}  unrelated/{i:06d}.jpg" for i in range(int(sys.argv[2]))]
rng.shuffle(lines)
print("\n".join(lines))
PY
	# The PDQ list: the last member's PDQ hash only (from `deprive hash`, full decode): it is
	# found perceptually (distance 0), after every other member has been decoded.
	PDQ_MEMBER=$(tail -n 1 "$WORK/members.txt")
	{
		echo "# deprive-hashes 1"
		"$DEPRIVE" hash "$WORK/photos/$PDQ_MEMBER" | grep -o 'pdq:[0-9a-f]*:[0-9]*'
	} >"$WORK/pdq.list" || die "deprive hash $PDQ_MEMBER gave no PDQ hash"

	local c f
	for c in $BENCH_CASES; do
		f=$(case_file "$c")
		mkdir -p "$(dirname "$f")"
		log "bench: writing $(case_label "$c") archive"
		case $c in
		tgz) tar -C "$WORK/photos" -czf "$f" -T "$WORK/members.txt" ;;
		zip | zipd)
			python3 - "$WORK/photos" "$WORK/members.txt" "$f" "$c" <<'PY'
import os, sys, zipfile
src, names, out, kind = sys.argv[1:5]
method = zipfile.ZIP_STORED if kind == "zip" else zipfile.ZIP_DEFLATED
with zipfile.ZipFile(out, "w", compression=method, allowZip64=True) as z:
    for n in open(names).read().splitlines():
        z.write(os.path.join(src, n), arcname=n)
PY
			;;
		esac
	done
	rm -rf -- "$WORK/photos" # the archives hold them; the lists are made
	DATA_SECONDS=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN {printf "%.0f", (b - a) / 1e9}')
}

# --- measuring ----------------------------------------------------------------

# Before every run: the page cache dropped (cold), or the archive read once (warm).
prepare() {
	if [[ "$BENCH_CACHE" == cold ]]; then
		sync
		echo 3 >/proc/sys/vm/drop_caches
	else
		cat "$1" >/dev/null
	fi
}

declare -A SECS CPU RSS RUNS RC

# measure KEY FILE CMD...: CMD run BENCH_REPEAT times under /usr/bin/time -v (stdout to
# $WORK/out.KEY); SECS = median wall seconds, CPU = median user+sys (children included), RSS =
# largest peak RSS of any run (KiB; for a pipeline, of its largest process), RUNS = all walls.
measure() {
	local key=$1 file=$2 i t0 t1 rc walls=() cpus=() rss=0 r u s
	shift 2
	RC[$key]=0
	for ((i = 0; i < BENCH_REPEAT; i++)); do
		prepare "$file"
		rc=0
		t0=$(now_ns)
		/usr/bin/time -v -o "$WORK/time" "$@" >"$WORK/out.$key" 2>"$WORK/err.$key" || rc=$?
		t1=$(now_ns)
		((rc == 0)) || RC[$key]=$rc
		walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')")
		u=$(awk -F': ' '/User time/ {print $2}' "$WORK/time")
		s=$(awk -F': ' '/System time/ {print $2}' "$WORK/time")
		cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}')")
		r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time")
		((r > rss)) && rss=$r
	done
	SECS[$key]=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
	CPU[$key]=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
	RSS[$key]=$rss
	RUNS[$key]=$(printf '%s ' "${walls[@]}")
	if ((RC[$key] != 0)); then
		log "bench: '$*' exited ${RC[$key]}:"
		tail -n 5 "$WORK/err.$key" >&2 || true
	fi
}

# check_report KEY WANT_PDQ: the findings of the report $WORK/report.KEY.json against the
# members listed (and, with WANT_PDQ 1, the PDQ member found perceptually). Sets CHECK (words)
# and DECODED (images decoded).
check_report() {
	local key=$1 want_pdq=$2
	read -r CHECK_OK DECODED CHECK < <(python3 - "$WORK/report.$key.json" \
		"$WORK/matches.txt" "$PDQ_MEMBER" "$want_pdq" "$PHOTOS" <<'PY'
import json, sys
path, matches, pdq_member, want_pdq, photos = sys.argv[1:6]
try:
    r = json.load(open(path))
except Exception as e:
    print("0 0 report unreadable:", str(e).replace("\n", " ")[:60]); sys.exit()
want = {n: "exact" for n in open(matches).read().split()}
if want_pdq == "1":
    want[pdq_member] = "pdq"
got, bad = {}, []
for f in r.get("findings", []):
    loc = f.get("location", [])
    name = loc[-1] if len(loc) == 2 and isinstance(loc[-1], str) else repr(loc)
    methods = {m.get("method") for m in f.get("matched", [])}
    got[name] = "pdq" if methods == {"pdq"} else "exact" if "exact" in methods else "?"
for n, m in want.items():
    if got.get(n) != m:
        bad.append(f"{n}:{got.get(n, 'missing')}")
bad += [f"extra:{n}" for n in got if n not in want]
t = r.get("totals", {})
members = t.get("archives", {}).get("members", 0)
if members != int(photos):
    bad.append(f"members {members}/{photos}")
ok = not bad and t.get("findings") == len(want)
print(1 if ok else 0, t.get("images_decoded", 0),
      f"{len(got)}/{len(want)} right" if ok else "WRONG " + ",".join(bad)[:80])
PY
	)
}

# deprive_run KEY CASE JOBS LIST... : deprive scan (jobs "" = its default) over the case's
# directory, report to $WORK/report.KEY.json, checked.
deprive_run() {
	local key=$1 c=$2 jobs=$3 want_pdq=0 args=(scan) l f
	shift 3
	for l in "$@"; do
		args+=(--hashes "$l")
		[[ "$l" == *pdq.list ]] && want_pdq=1
	done
	[[ -n "$jobs" ]] && args+=(--jobs "$jobs")
	f=$(case_file "$c")
	measure "$key" "$f" "$DEPRIVE" "${args[@]}" -o "$WORK/report.$key.json" "$(dirname "$f")"
	check_report "$key" "$want_pdq"
	CHECKS[$key]=$CHECK
	OKS[$key]=$CHECK_OK
	DECODES[$key]=$DECODED
}
declare -A CHECKS OKS DECODES BASEHASH

baseline_run() {
	local c=$1 f
	f=$(case_file "$c")
	# shellcheck disable=SC2016 # $1 is expanded by the inner bash
	measure "base_$c" "$f" bash -o pipefail -c 'bsdtar -xOf "$1" | sha256sum' _ "$f"
	BASEHASH[$c]=$(awk '{print $1}' "$WORK/out.base_$c")
	# shellcheck disable=SC2016
	measure "baseo_$c" "$f" bash -o pipefail -c 'bsdtar -xOf "$1" | openssl dgst -sha256 -r' _ "$f"
}

parts_run() {
	local c=$1 f
	f=$(case_file "$c")
	measure "read_$c" "$f" cat "$f"
	measure "fsha_$c" "$f" openssl dgst -sha256 "$f"
	# shellcheck disable=SC2016
	measure "bsd_$c" "$f" bash -c 'bsdtar -xOf "$1" >/dev/null' _ "$f"
	measure "noarc_$c" "$f" "$DEPRIVE" scan --no-archives --jobs 1 --hashes "$WORK/exact.sha256" \
		-o "$WORK/report.noarc_$c.json" "$(dirname "$f")"
}

# --- report -------------------------------------------------------------------

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
mbs() { awk -v b="$PHOTO_BYTES" -v s="$1" 'BEGIN {if (s > 0) printf "%.0f", b / s / 1e6; else printf "-"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a != "" && b > 0) printf "%.2f", a / b; else printf "n/a"}'; }
met() { awk -v r="$1" -v t="$TARGET_RATIO" 'BEGIN {exit !(r != "n/a" && r <= t)}' && printf 'met' || printf 'MISSED'; }
spread() { printf '%s' "${RUNS[$1]}" | awk '{min = $1; max = $1; for (i = 2; i <= NF; i++) {if ($i < min) min = $i; if ($i > max) max = $i} printf "%.2f-%.2f", min, max}'; }
failed() { ((${RC[$1]:-1} != 0)); }

print_exact() {
	local c j key r label
	printf '%-22s %4s %9s %7s %9s %7s %6s %-11s %9s %6s %8s %8s  %s\n' "case" "jobs" "deprive s" "CPU s" \
		"base s" "CPU s" "ratio" "target 1.3x" "CPU ratio" "MB/s" "RSS MiB" "base RSS" "findings"
	printf '%s\n' "---------------------------------------------------------------------------------------------------------------------------------"
	for c in $BENCH_CASES; do
		for j in $JOBS_LIST; do
			key=ex${j}_$c
			label=$(case_label "$c")
			if failed "$key" || failed "base_$c"; then
				printf '%-22s %4s  failed (deprive exit %s, baseline exit %s)\n' "$label" "$j" \
					"${RC[$key]:-?}" "${RC[base_$c]:-?}"
				continue
			fi
			r=$(ratio "${SECS[$key]}" "${SECS[base_$c]}")
			printf '%-22s %4s %9.2f %7.2f %9.2f %7.2f %6s %-11s %9s %6s %8s %8s  %s\n' "$label" \
				"$j$([[ $j == "$NCPU" ]] && echo '*')" "${SECS[$key]}" "${CPU[$key]}" "${SECS[base_$c]}" \
				"${CPU[base_$c]}" "$r" "$(met "$r")" "$(ratio "${CPU[$key]}" "${CPU[base_$c]}")" \
				"$(mbs "${SECS[$key]}")" "$(mib "${RSS[$key]}")" \
				"$(mib "${RSS[base_$c]}")" "${CHECKS[$key]}"
		done
	done
	echo "* deprive's default (one worker per CPU; no --jobs given)"
	echo
	echo "the baseline with OpenSSL's SHA-256 (the library deprive digests with) instead of coreutils':"
	printf '%-22s %9s %7s %8s %22s %22s\n' "case" "base s" "CPU s" "RSS MiB" "deprive -j1: wall, CPU" \
		"deprive -j$NCPU: wall, CPU"
	for c in $BENCH_CASES; do
		failed "baseo_$c" && continue
		printf '%-22s %9.2f %7.2f %8s %22s %22s\n' "$(case_label "$c")" "${SECS[baseo_$c]}" "${CPU[baseo_$c]}" \
			"$(mib "${RSS[baseo_$c]}")" \
			"$(ratio "${SECS[ex1_$c]:-}" "${SECS[baseo_$c]}")x, $(ratio "${CPU[ex1_$c]:-}" "${CPU[baseo_$c]}")x" \
			"$(ratio "${SECS[ex${NCPU}_$c]:-}" "${SECS[baseo_$c]}")x, $(ratio "${CPU[ex${NCPU}_$c]:-}" "${CPU[baseo_$c]}")x"
	done
	echo "(on $NCPU idle cores the pipeline's two processes run side by side: its wall time is then"
	echo "about its slower half, while deprive does both passes and every digest in one thread)"
}

print_parts() {
	local c
	echo "the parts (median wall s / CPU s):"
	printf '%-22s %14s %14s %14s %14s %14s %14s\n' "case" "cat (read)" "openssl sha256" "bsdtar >null" \
		"--no-archives" "deprive -j1" "sum of parts"
	for c in $BENCH_CASES; do
		printf '%-22s %14s %14s %14s %14s %14s %14s\n' "$(case_label "$c")" \
			"${SECS[read_$c]}/${CPU[read_$c]}" "${SECS[fsha_$c]}/${CPU[fsha_$c]}" \
			"${SECS[bsd_$c]}/${CPU[bsd_$c]}" "${SECS[noarc_$c]}/${CPU[noarc_$c]}" \
			"${SECS[ex1_$c]:-?}/${CPU[ex1_$c]:-?}" \
			"$(awk -v a="${CPU[noarc_$c]}" -v b="${CPU[bsd_$c]}" -v m="$PHOTO_BYTES" -v s="$SHA_SPEED" \
				'BEGIN {if (s > 0) printf "%.2f", a + b + m / s; else printf "?"}')"
	done
	echo "sum of parts = CPU of --no-archives (the whole-file SHA-256 pass) + bsdtar's CPU + the"
	printf 'members'"'"' SHA-256 at openssl speed (%s GB/s one core): what one thread doing both passes costs\n' \
		"$(awk -v s="$SHA_SPEED" 'BEGIN {printf "%.2f", s / 1e9}')"
}

print_pdq() {
	local c j key ex extra
	echo "with a PDQ list (every member image decoded; the exact list too):"
	printf '%-22s %4s %9s %7s %8s %9s %10s %13s %12s %8s  %s\n' "case" "jobs" "wall s" "CPU s" "decoded" \
		"images/s" "+s vs exact" "decode img/s" "CPU ms/img" "RSS MiB" "findings"
	printf '%s\n' "---------------------------------------------------------------------------------------------------------------------------"
	for c in $BENCH_CASES; do
		for j in $JOBS_LIST; do
			key=pdq${j}_$c
			ex=ex${j}_$c
			if failed "$key"; then
				printf '%-22s %4s  failed (exit %s)\n' "$(case_label "$c")" "$j" "${RC[$key]:-?}"
				continue
			fi
			extra=$(awk -v a="${SECS[$key]}" -v b="${SECS[$ex]:-0}" 'BEGIN {printf "%.2f", a - b}')
			printf '%-22s %4s %9.2f %7.2f %8s %9.2f %10s %13s %12s %8s  %s\n' "$(case_label "$c")" \
				"$j$([[ $j == "$NCPU" ]] && echo '*')" "${SECS[$key]}" "${CPU[$key]}" "${DECODES[$key]}" \
				"$(awk -v n="${DECODES[$key]}" -v s="${SECS[$key]}" 'BEGIN {print (s > 0 ? n / s : 0)}')" \
				"$extra" \
				"$(awk -v n="${DECODES[$key]}" -v e="$extra" 'BEGIN {if (e > 0) printf "%.2f", n / e; else printf "-"}')" \
				"$(awk -v n="${DECODES[$key]}" -v a="${CPU[$key]}" -v b="${CPU[$ex]:-0}" \
					'BEGIN {if (n > 0) printf "%.1f", 1000 * (a - b) / n; else printf "-"}')" \
				"$(mib "${RSS[$key]}")" "${CHECKS[$key]}"
		done
	done
	echo "decode img/s = images decoded / (wall with the PDQ list - wall with the exact list alone);"
	echo "CPU ms/img = (CPU with the PDQ list - CPU with the exact list alone) / images: the decoding"
	echo "and PDQ hashing alone. One archive is one worker's: its members are decoded one at a time."
}

print_report() {
	echo
	echo "deprive archive scan benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $NCPU cores, $(uname -r)"
	printf 'deprive: %s (%s; %s build)\n' "$DEPRIVE" "${DEPRIVE_BUILD:-?}" "$BUILD_TYPE"
	printf 'bsdtar: %s; sha256sum: %s\n' "$(bsdtar --version | head -n 1)" "$(sha256sum --version | head -n 1)"
	printf 'members: %s JPEGs (%s, quality %s), %s bytes (%.2f GiB, %.1f MB each); data made in %ss (images %ss)\n' \
		"$PHOTOS" "$BENCH_SIZE" "$BENCH_QUALITY" "$PHOTO_BYTES" \
		"$(awk -v b="$PHOTO_BYTES" 'BEGIN {print b / 1073741824}')" \
		"$(awk -v b="$PHOTO_BYTES" -v n="$PHOTOS" 'BEGIN {print b / n / 1e6}')" "$DATA_SECONDS" "$GEN_SECONDS"
	local c
	for c in $BENCH_CASES; do
		printf '  %-22s %s bytes  %s\n' "$(case_label "$c")" "$(stat -c %s "$(case_file "$c")")" "$(basename "$(case_file "$c")")"
	done
	printf 'exact list: %s members of the archive among %s random SHA-256 lines (sha256sum format, no sizes)\n' \
		"$BENCH_MATCHES" "$BENCH_RANDOM"
	printf 'PDQ list: the PDQ hash of the last member, %s, alone\n' "$PDQ_MEMBER"
	if [[ "$BENCH_CACHE" == cold ]]; then
		echo "page cache dropped before every run (cold); median of $BENCH_REPEAT runs"
	else
		echo "page cache warm (the archive read once before every run); median of $BENCH_REPEAT runs"
	fi
	printf 'load average (1, 5, 15 min) at start %s, at end %s: above 0 means other processes shared the %s cores\n' \
		"$LOADAVG_START" "$(cut -d' ' -f1-3 /proc/loadavg)" "$NCPU"
	echo
	print_exact
	local hashes
	hashes=$(for c in $BENCH_CASES; do echo "${BASEHASH[$c]:-}"; done | sort -u | wc -l)
	printf 'baseline output: %s\n' "$( ((hashes == 1)) && echo "the same SHA-256 of the concatenated members for every archive" ||
		echo "DIFFERENT hashes between archives")"
	echo "MB/s: 10^6 member bytes (the JPEGs) per wall second. RSS: peak resident set (of the largest"
	echo "process for the pipelines). CPU s: user + sys, children included: compare CPU when the load"
	echo "average shows other work on the cores."
	if ((BENCH_PARTS)); then
		echo
		print_parts
	fi
	if ((BENCH_PDQ)); then
		echo
		print_pdq
	fi
	echo
	printf 'runs (wall s, every run):\n'
	local k
	for k in $(printf '%s\n' "${!RUNS[@]}" | sort); do
		printf '  %-12s %s\n' "$k" "${RUNS[$k]}"
	done
}

main() {
	require_tools
	build
	make_data
	SHA_SPEED=$(openssl speed -mr -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null |
		awk -F: '$1 == "+F" {v = $4} END {print v + 0}')
	LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
	local c j
	for c in $BENCH_CASES; do
		log "bench: $(case_label "$c"): baseline"
		baseline_run "$c"
		log "bench: $(case_label "$c"): deprive, exact list"
		for j in $JOBS_LIST; do
			deprive_run "ex${j}_$c" "$c" "$([[ $j == 1 ]] && echo 1)" "$WORK/exact.sha256"
		done
		if ((BENCH_PARTS)); then
			log "bench: $(case_label "$c"): the parts"
			parts_run "$c"
		fi
	done
	if ((BENCH_PDQ)); then
		for c in $BENCH_CASES; do
			for j in $JOBS_LIST; do
				log "bench: $(case_label "$c"): deprive, PDQ list, jobs $j"
				deprive_run "pdq${j}_$c" "$c" "$([[ $j == 1 ]] && echo 1)" "$WORK/exact.sha256" "$WORK/pdq.list"
			done
		done
	fi
	print_report
	local k bad=0
	for k in "${!OKS[@]}"; do
		((OKS[$k] == 1)) || bad=1
	done
	((bad == 0)) || {
		log "bench: some scan found the wrong members (see the findings column)"
		exit 1
	}
}

main "$@"
