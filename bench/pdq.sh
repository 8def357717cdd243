#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Perceptual (PDQ) scan benchmark: `deprive scan` with a one-entry PDQ list over generated
# 12-MP JPEGs (plus PNG and HEIC sets), one worker and all cores, default (scaled JPEG decode)
# and --pdq-exact, beside `djpeg -scale 1/4` and `djpeg` over the same files (the decode floor)
# in the same run. Prints measured figures beside the issue's anchors and says which targets
# are met; asserts nothing. See bench/README.md ("PDQ scan").
#
# Environment:
#   DEPRIVE        deprive binary (default REPO/build/deprive; when missing, a release build
#                  is made in REPO/build-bench)
#   BENCH_QUICK    1: smaller sets (40 JPEG, 6 PNG, 4 HEIC) unless the counts below are given
#   BENCH_IMAGES   JPEG images (default 200)
#   BENCH_PNG      PNG images (default 20; 0 skips the set)
#   BENCH_HEIC     HEIC images (default 10; 0 skips the set; needs heif-enc)
#   BENCH_WIDTH, BENCH_HEIGHT  image size (default 4000 x 3000, 12 MP)
#   BENCH_JPEG_QUALITY  cjpeg -quality (default 95: about 4 MB a file)
#   BENCH_REPEAT   runs per measurement, best kept (default 1)
#   TMPDIR         where the work directory (images, lists) goes; removed on exit
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_QUICK=${BENCH_QUICK:-0}
if [[ "$BENCH_QUICK" == 1 ]]; then
	BENCH_IMAGES=${BENCH_IMAGES:-40}
	BENCH_PNG=${BENCH_PNG:-6}
	BENCH_HEIC=${BENCH_HEIC:-4}
else
	BENCH_IMAGES=${BENCH_IMAGES:-200}
	BENCH_PNG=${BENCH_PNG:-20}
	BENCH_HEIC=${BENCH_HEIC:-10}
fi
BENCH_WIDTH=${BENCH_WIDTH:-4000}
BENCH_HEIGHT=${BENCH_HEIGHT:-3000}
BENCH_JPEG_QUALITY=${BENCH_JPEG_QUALITY:-95}
BENCH_REPEAT=${BENCH_REPEAT:-1}
NCPU=$(nproc)

# The issue's anchors, measured on this kind of machine on 12-MP JPEGs (not re-measured here:
# Meta's reference hasher is not installed).
ANCHOR_REF_MS=414    # Meta's reference PDQ tool, wall per image (~2.4 images/s)
ANCHOR_SCALE_MS=70   # djpeg -scale 1/4
ANCHOR_FULL_MS=90    # djpeg
TARGET_RATIO=1.3     # scan path within 1.3x of djpeg -scale 1/4
TARGET_PER_CORE=11   # images/s per core
TARGET_EXACT_X=2     # --pdq-exact at least 2x the reference

log() { printf '%s\n' "$*" >&2; }
die() {
	log "bench: $*"
	exit 1
}
now_ns() { date +%s%N; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/deprive-bench-pdq.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
trap 'exit 130' INT TERM

require_tools() {
	local t missing=()
	for t in cc pkg-config awk find xargs cat; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	command -v cjpeg >/dev/null 2>&1 || missing+=("cjpeg (package libjpeg-turbo-progs)")
	command -v djpeg >/dev/null 2>&1 || missing+=("djpeg (package libjpeg-turbo-progs)")
	[[ -x /usr/bin/time ]] || missing+=("/usr/bin/time (package time)")
	((${#missing[@]} == 0)) || die "missing: ${missing[*]} (scripts/bootstrap.sh installs them)"
}

# --- images -----------------------------------------------------------------

# A C generator: fast enough for 200 12-MP images in about a minute on 2 cores, and the same
# pixels on every machine (integer PRNG; libm's cos/exp only shape the smooth parts).
write_generator() {
	cat >"$WORK/gen.c" <<'C'
/* Photo-like test image: smooth gradients (random low-frequency waves and blobs per channel),
 * mid-frequency texture (two octaves of value noise) and per-pixel sensor noise, all from a
 * fixed seed. Writes binary PPM to stdout, or PNG to a file (libpng, default filters). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef WITH_PNG
#include <png.h>
#endif

static uint64_t st;
static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

#define WAVES 5
#define BLOBS 4
#define SHAPES 8 /* hard-edged discs and boxes: edges as in photos */
struct grid { int gw, gh, cell; float *v; };

static void grid_init(struct grid *g, int w, int h, int cell)
{
    g->cell = cell;
    g->gw = w / cell + 2;
    g->gh = h / cell + 2;
    g->v = malloc(sizeof(float) * (size_t)g->gw * g->gh);
    for (int i = 0; i < g->gw * g->gh; i++)
        g->v[i] = (float)(unif() * 2 - 1);
}
static float smooth(float t) { return t * t * (3 - 2 * t); }
static float grid_at(const struct grid *g, int x, int y)
{
    int gx = x / g->cell, gy = y / g->cell;
    float fx = smooth((float)(x % g->cell) / g->cell), fy = smooth((float)(y % g->cell) / g->cell);
    const float *r0 = g->v + (size_t)gy * g->gw + gx, *r1 = r0 + g->gw;
    float a = r0[0] + (r0[1] - r0[0]) * fx, b = r1[0] + (r1[1] - r1[0]) * fx;
    return a + (b - a) * fy;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: gen W H SEED [OUT.png]\n");
        return 2;
    }
    int w = atoi(argv[1]), h = atoi(argv[2]);
    st = strtoull(argv[3], NULL, 10) * 0x2545f4914f6cdd1dull + 12345;
    /* per channel: waves cos(ax + by + p) expanded as cos(ax)cos(by+p) - sin(ax)sin(by+p) */
    double base[3], amp[3][WAVES], fa[3][WAVES], fb[3][WAVES], ph[3][WAVES];
    double bx[BLOBS], by[BLOBS], br[BLOBS], bamp[3][BLOBS];
    for (int c = 0; c < 3; c++) {
        base[c] = 70 + unif() * 110;
        for (int k = 0; k < WAVES; k++) {
            double len = 600 + unif() * 5000, ang = unif() * 2 * M_PI;
            fa[c][k] = 2 * M_PI / len * cos(ang);
            fb[c][k] = 2 * M_PI / len * sin(ang);
            ph[c][k] = unif() * 2 * M_PI;
            amp[c][k] = 10 + unif() * 35;
        }
    }
    for (int k = 0; k < BLOBS; k++) {
        bx[k] = unif() * w, by[k] = unif() * h, br[k] = 150 + unif() * 700;
        for (int c = 0; c < 3; c++)
            bamp[c][k] = (unif() * 2 - 1) * 70;
    }
    double sx[SHAPES], sy[SHAPES], sr[SHAPES], sr2[SHAPES], samp[3][SHAPES];
    int disc[SHAPES];
    for (int k = 0; k < SHAPES; k++) {
        sx[k] = unif() * w, sy[k] = unif() * h, sr[k] = 80 + unif() * 500, sr2[k] = 80 + unif() * 500;
        disc[k] = unif() < 0.5;
        for (int c = 0; c < 3; c++)
            samp[c][k] = (unif() * 2 - 1) * 60;
    }
    float *cx = malloc(sizeof(float) * (size_t)w * 3 * WAVES * 2);
    for (int x = 0; x < w; x++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < WAVES; k++) {
                cx[(((size_t)x * 3 + c) * WAVES + k) * 2] = (float)cos(fa[c][k] * x);
                cx[(((size_t)x * 3 + c) * WAVES + k) * 2 + 1] = (float)sin(fa[c][k] * x);
            }
    float *bxx = malloc(sizeof(float) * (size_t)w * BLOBS);
    for (int x = 0; x < w; x++)
        for (int k = 0; k < BLOBS; k++)
            bxx[(size_t)x * BLOBS + k] = (float)exp(-(x - bx[k]) * (x - bx[k]) / (2 * br[k] * br[k]));
    struct grid coarse, fine;
    grid_init(&coarse, w, h, 40);
    grid_init(&fine, w, h, 7);
    double tex_amp = 14 + unif() * 10, fine_amp = 8 + unif() * 8, noise_amp = 9;
    double tint[3] = {0.8 + unif() * 0.4, 0.8 + unif() * 0.4, 0.8 + unif() * 0.4};

    uint8_t *row = malloc((size_t)w * 3);
    FILE *out = stdout;
#ifdef WITH_PNG
    png_structp png = NULL;
    png_infop info = NULL;
    if (argc > 4) {
        if ((out = fopen(argv[4], "wb")) == NULL) {
            perror(argv[4]);
            return 1;
        }
        png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        info = png_create_info_struct(png);
        if (setjmp(png_jmpbuf(png)))
            return 1;
        png_init_io(png, out);
        png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
    } else
#endif
        fprintf(out, "P6\n%d %d\n255\n", w, h);
    for (int y = 0; y < h; y++) {
        float cy[3][WAVES][2], by_[BLOBS];
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < WAVES; k++) {
                cy[c][k][0] = (float)(amp[c][k] * cos(fb[c][k] * y + ph[c][k]));
                cy[c][k][1] = (float)(amp[c][k] * sin(fb[c][k] * y + ph[c][k]));
            }
        for (int k = 0; k < BLOBS; k++)
            by_[k] = (float)exp(-(y - by[k]) * (y - by[k]) / (2 * br[k] * br[k]));
        for (int x = 0; x < w; x++) {
            float sh[3] = {0, 0, 0};
            for (int k = 0; k < SHAPES; k++) {
                double dx = x - sx[k], dy = y - sy[k];
                int in = disc[k] ? dx * dx + dy * dy < sr[k] * sr[k]
                                 : fabs(dx) < sr[k] && fabs(dy) < sr2[k];
                if (in)
                    for (int c = 0; c < 3; c++)
                        sh[c] += (float)samp[c][k];
            }
            float t = (float)(tex_amp * grid_at(&coarse, x, y) + fine_amp * grid_at(&fine, x, y));
            uint64_t r = rnd();
            for (int c = 0; c < 3; c++) {
                const float *xc = cx + ((size_t)x * 3 + c) * WAVES * 2;
                float v = (float)base[c];
                for (int k = 0; k < WAVES; k++)
                    v += xc[2 * k] * cy[c][k][0] - xc[2 * k + 1] * cy[c][k][1];
                for (int k = 0; k < BLOBS; k++)
                    v += (float)bamp[c][k] * bxx[(size_t)x * BLOBS + k] * by_[k];
                v += t * (float)tint[c] + sh[c];
                v += (float)noise_amp * ((float)((r >> (c * 16)) & 0xffff) / 32768.0f - 1.0f);
                row[(size_t)x * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : (uint8_t)(v + 0.5f);
            }
        }
#ifdef WITH_PNG
        if (png) {
            png_write_row(png, row);
            continue;
        }
#endif
        fwrite(row, 1, (size_t)w * 3, out);
    }
#ifdef WITH_PNG
    if (png) {
        png_write_end(png, info);
        png_destroy_write_struct(&png, &info);
    }
#endif
    return fclose(out) == 0 ? 0 : 1;
}
C
	GEN=$WORK/gen
	local pngflags
	# shellcheck disable=SC2086 # pkg-config's flags are words
	if pngflags=$(pkg-config --cflags --libs libpng 2>/dev/null) &&
		cc -O2 -DWITH_PNG -o "$GEN" "$WORK/gen.c" $pngflags -lm 2>"$WORK/gen.log"; then
		GEN_PNG=1
	else
		GEN_PNG=0
		cc -O2 -o "$GEN" "$WORK/gen.c" -lm 2>"$WORK/gen.log" || {
			cat "$WORK/gen.log" >&2
			die "cannot compile the image generator"
		}
	fi
}

# run_parallel SCRIPT ARGS...: one SCRIPT call per ARG, NCPU at a time.
run_parallel() {
	local script=$1
	shift
	printf '%s\n' "$@" | xargs -P "$NCPU" -I{} bash "$script" {}
}

# Seeds: JPEG i -> i, PNG i -> 10000 + i, HEIC i -> 20000 + i, so no two images share content.
generate_jpeg() {
	mkdir -p "$WORK/jpeg"
	cat >"$WORK/gen-jpeg.sh" <<SH
set -e
"$GEN" $BENCH_WIDTH $BENCH_HEIGHT \$1 | cjpeg -quality $BENCH_JPEG_QUALITY -outfile "$WORK/jpeg/IMG_\$(printf %04d \$1).jpg"
SH
	run_parallel "$WORK/gen-jpeg.sh" $(seq 1 "$BENCH_IMAGES")
}

generate_png() {
	mkdir -p "$WORK/png"
	cat >"$WORK/gen-png.sh" <<SH
set -e
"$GEN" $BENCH_WIDTH $BENCH_HEIGHT \$((10000 + \$1)) "$WORK/png/IMG_\$(printf %04d \$1).png"
SH
	run_parallel "$WORK/gen-png.sh" $(seq 1 "$BENCH_PNG")
}

# x265's ultrafast preset: the default takes ~18 s per 12-MP image here, ultrafast ~2.5 s.
generate_heic() {
	mkdir -p "$WORK/heic" "$WORK/heic-src"
	cat >"$WORK/gen-heic.sh" <<SH
set -e
n=\$(printf %04d \$1)
"$GEN" $BENCH_WIDTH $BENCH_HEIGHT \$((20000 + \$1)) | cjpeg -quality 98 -outfile "$WORK/heic-src/\$n.jpg"
heif-enc -q 50 -p preset=ultrafast -o "$WORK/heic/IMG_\$n.heic" "$WORK/heic-src/\$n.jpg" >/dev/null
rm -f "$WORK/heic-src/\$n.jpg"
SH
	run_parallel "$WORK/gen-heic.sh" $(seq 1 "$BENCH_HEIC")
	rmdir "$WORK/heic-src"
}

# set_stats DIR -> SET_FILES, SET_BYTES
set_stats() {
	SET_FILES=$(find "$1" -type f | wc -l)
	SET_BYTES=$(find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s}')
}

# make_list DIR NAME: a deprive list whose one entry is the PDQ hash (and quality) of DIR/NAME,
# from `deprive hash` (full decode). Only the pdq: token is kept: no digests and no size, so
# the scan cannot match or skip by content digest or size and must decode every image.
make_list() {
	local dir=$1 name=$2 list=$WORK/$3.list
	{
		echo "# deprive-hashes 1"
		"$DEPRIVE" hash "$dir/$name" | grep -o 'pdq:[0-9a-f]*:[0-9]*'
	} >"$list" || die "deprive hash $dir/$name gave no PDQ hash"
	printf '%s' "$list"
}

# --- measuring --------------------------------------------------------------

warm() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }

# measure DIR CMD...: page cache warmed from DIR, then CMD timed BENCH_REPEAT times (best
# kept), stdout to $WORK/out. Sets M_SECS, M_CPU (user+sys, children included), M_RSS (KiB,
# the largest process), M_RC.
measure() {
	local dir=$1 i t0 t1 secs rss cpu rc
	shift
	M_SECS="" M_CPU="" M_RSS="" M_RC=0
	for ((i = 0; i < BENCH_REPEAT; i++)); do
		warm "$dir"
		rc=0
		t0=$(now_ns)
		/usr/bin/time -f '%M %U %S' -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
		t1=$(now_ns)
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
		read -r rss cpu < <(tail -n 1 "$WORK/time" | awk '{printf "%s %.2f\n", $1, $2 + $3}')
		M_RC=$rc
		if [[ -z "$M_SECS" ]] || awk -v a="$secs" -v b="$M_SECS" 'BEGIN {exit !(a < b)}'; then
			M_SECS=$secs M_RSS=$rss M_CPU=$cpu
		fi
	done
	if ((M_RC != 0)); then
		log "bench: '$*' exited $M_RC:"
		tail -n 5 "$WORK/err" >&2 || true
	fi
}

ROWS=()
declare -A SECS RSS JOBS

# row KEY LABEL IMAGES JOBS ANCHOR NOTE: a table row from the last measure().
row() {
	local key=$1 label=$2 n=$3 jobs=$4 anchor=$5 note=${6:-}
	if ((M_RC != 0)); then
		row_na "$label" "failed: exit $M_RC (stderr shown above)"
		return 0
	fi
	SECS[$key]=$M_SECS RSS[$key]=$M_RSS JOBS[$key]=$jobs
	ROWS+=("$(awk -v l="$label" -v s="$M_SECS" -v c="$M_CPU" -v n="$n" -v j="$jobs" -v r="$M_RSS" \
		-v a="$anchor" -v t="$note" 'BEGIN {
			printf "%-36s %5d %4d %8.2f %7.2f %8.2f %8.1f %9.2f %9.2f %8.1f  %-22s %s",
				l, n, j, s, c, n / s, 1000 * s / n, n / s / j, (c > 0 ? n / c : 0), r / 1024, a, t
		}')")
}

row_na() {
	ROWS+=("$(printf '%-36s %5s %4s %8s %7s %8s %8s %9s %9s %8s  %-22s %s' "$1" - - - - - - - - - - "$2")")
}

# scan_note TARGET COUNT: what deprive's summary says it decoded and found.
scan_note() {
	local target=$1 count=$2 dec found hit
	dec=$(grep -o 'images decoded [0-9]*' "$WORK/out" | awk '{print $3}' || true)
	found=$(awk '/^findings:/ {print $2}' "$WORK/out" || true)
	hit=no
	grep -qF "$target" "$WORK/out" && hit=yes
	printf 'decoded %s/%s, findings %s, %s found: %s' "${dec:-?}" "$count" "${found:-?}" "$target" "$hit"
}

# bench_deprive KEY LABEL DIR LIST TARGET JOBS ANCHOR [ARGS...]
bench_deprive() {
	local key=$1 label=$2 dir=$3 list=$4 target=$5 jobs=$6 anchor=$7
	shift 7
	set_stats "$dir"
	measure "$dir" "$DEPRIVE" scan --hashes "$list" --jobs "$jobs" "$@" "$dir"
	row "$key" "$label" "$SET_FILES" "$jobs" "$anchor" "$(scan_note "$target" "$SET_FILES")"
}

# The decode floor: one djpeg process per file, output (RGB PPM) to /dev/null; process start
# (~1 ms) included. "all cores": xargs -P NCPU.
bench_djpeg() {
	local dir=$WORK/jpeg
	set_stats "$dir"
	# shellcheck disable=SC2016 # expanded by the inner bash
	measure "$dir" bash -c 'for f in "$1"/*.jpg; do djpeg -scale 1/4 "$f" >/dev/null; done' _ "$dir"
	row djpeg_s1 "djpeg -scale 1/4, 1 process" "$SET_FILES" 1 "70 ms, 14/s"
	# shellcheck disable=SC2016
	measure "$dir" bash -c 'for f in "$1"/*.jpg; do djpeg "$f" >/dev/null; done' _ "$dir"
	row djpeg_f1 "djpeg (full), 1 process" "$SET_FILES" 1 "90 ms, 11/s"
	# shellcheck disable=SC2016
	measure "$dir" bash -c 'find "$1" -name "*.jpg" -print0 | xargs -0 -P "$2" -n 1 sh -c '\''djpeg -scale 1/4 "$0" >/dev/null'\''' _ "$dir" "$NCPU"
	row djpeg_sN "djpeg -scale 1/4, xargs -P $NCPU" "$SET_FILES" "$NCPU" ""
}

# Peak RSS of a scan with the same list over an empty directory: the base the per-worker
# image memory adds to.
bench_base_rss() {
	mkdir -p "$WORK/empty"
	measure "$WORK/empty" "$DEPRIVE" scan --json --hashes "$JPEG_LIST" --jobs "$NCPU" "$WORK/empty"
	BASE_RSS=$M_RSS
	DEPRIVE_BUILD=$(grep -o '"build": *"[^"]*"' "$WORK/out" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/' || true)
}

# --- deprive binary ---------------------------------------------------------

find_deprive() {
	DEPRIVE=${DEPRIVE:-$REPO_ROOT/build/deprive}
	[[ -x "$DEPRIVE" ]] && return 0
	log "bench: $DEPRIVE not found; building a release binary in build-bench"
	local dir=$REPO_ROOT/build-bench
	if [[ ! -f "$dir/meson-private/coredata.dat" ]]; then
		rm -rf -- "$dir"
		meson setup "$dir" "$REPO_ROOT" -Dbuildtype=release -Dtests=false -Dwerror=false \
			>"$WORK/build.log" 2>&1 || {
			tail -n 20 "$WORK/build.log" >&2
			die "meson setup failed"
		}
	fi
	if ! meson compile -C "$dir" deprive:executable >"$WORK/build.log" 2>&1 || [[ ! -x "$dir/deprive" ]]; then
		tail -n 20 "$WORK/build.log" >&2
		die "building deprive failed"
	fi
	DEPRIVE=$dir/deprive
}

# --- report -----------------------------------------------------------------

ms_per() { awk -v s="${SECS[$1]:-}" -v n="$2" 'BEGIN {if (s != "") printf "%.1f", 1000 * s / n; else printf "n/a"}'; }
per_s() { awk -v s="${SECS[$1]:-}" -v n="$2" 'BEGIN {if (s != "") printf "%.2f", n / s; else printf "n/a"}'; }
met() { awk "BEGIN {exit !($1)}" && printf 'MET' || printf 'MISSED'; }

print_targets() {
	local n=$JPEG_N dec_mb file_mb
	echo "targets (JPEG set, $n images):"
	if [[ -n "${SECS[dp1]:-}" && -n "${SECS[djpeg_s1]:-}" ]]; then
		local r
		r=$(awk -v a="${SECS[dp1]}" -v b="${SECS[djpeg_s1]}" 'BEGIN {printf "%.2f", a / b}')
		printf '  scan path (--jobs 1) / djpeg -scale 1/4 (1 process) = %s ms / %s ms = %sx  (target <= %s): %s\n' \
			"$(ms_per dp1 "$n")" "$(ms_per djpeg_s1 "$n")" "$r" "$TARGET_RATIO" "$(met "$r <= $TARGET_RATIO")"
		r=$(awk -v a="${SECS[dp1]}" -v b="${SECS[djpeg_f1]:-0}" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "n/a"}')
		printf '  (for scale: scan path / full djpeg = %sx)\n' "$r"
	fi
	if [[ -n "${SECS[dpN]:-}" && -n "${SECS[djpeg_sN]:-}" ]]; then
		printf '  scan path (--jobs %s) / djpeg -scale 1/4 (xargs -P %s) = %sx  (same target): %s\n' "$NCPU" "$NCPU" \
			"$(awk -v a="${SECS[dpN]}" -v b="${SECS[djpeg_sN]}" 'BEGIN {printf "%.2f", a / b}')" \
			"$(met "${SECS[dpN]} / ${SECS[djpeg_sN]} <= $TARGET_RATIO")"
	fi
	if [[ -n "${SECS[dp1]:-}" ]]; then
		local p
		p=$(per_s dp1 "$n")
		printf '  scan path, one worker: %s images/s (target >= %s per core): %s\n' "$p" "$TARGET_PER_CORE" \
			"$(met "$p >= $TARGET_PER_CORE")"
	fi
	if [[ -n "${SECS[dpN]:-}" ]]; then
		local p
		p=$(awk -v s="${SECS[dpN]}" -v n="$n" -v j="$NCPU" 'BEGIN {printf "%.2f", n / s / j}')
		printf '  scan path, %s workers: %s images/s = %s per core (target >= %s per core): %s\n' "$NCPU" \
			"$(per_s dpN "$n")" "$p" "$TARGET_PER_CORE" "$(met "$p >= $TARGET_PER_CORE")"
	fi
	if [[ -n "${SECS[dpx1]:-}" ]]; then
		local p need
		p=$(per_s dpx1 "$n")
		need=$(awk -v m="$ANCHOR_REF_MS" -v x="$TARGET_EXACT_X" 'BEGIN {printf "%.2f", x * 1000 / m}')
		printf '  --pdq-exact, one worker: %s images/s = %s x the reference anchor (%s ms, %.2f images/s; target >= %s x = %s images/s): %s\n' \
			"$p" "$(awk -v p="$p" -v m="$ANCHOR_REF_MS" 'BEGIN {printf "%.1f", p * m / 1000}')" \
			"$ANCHOR_REF_MS" "$(awk -v m="$ANCHOR_REF_MS" 'BEGIN {print 1000 / m}')" "$TARGET_EXACT_X" "$need" \
			"$(met "$p >= $need")"
	fi
	# Memory: above the same scan over an empty directory, each worker holds one file (read
	# into memory once, digested and decoded there), at most one decoded full-size RGB image
	# (the scaled decode is smaller; a near match is decoded again in full) and the PDQ
	# hasher's scratch (up to 2 MiB, include/deprive/pdq.h).
	dec_mb=$(awk -v w="$BENCH_WIDTH" -v h="$BENCH_HEIGHT" 'BEGIN {printf "%.1f", w * h * 3 / 1048576}')
	file_mb=$(awk -v b="$JPEG_MAX_BYTES" 'BEGIN {printf "%.1f", b / 1048576}')
	printf '  peak RSS: base (same list, empty directory) %.1f MiB; bound = base + workers x (decoded %sx%s RGB %s MiB\n' \
		"$(awk -v r="$BASE_RSS" 'BEGIN {print r / 1024}')" "$BENCH_WIDTH" "$BENCH_HEIGHT" "$dec_mb"
	printf '            + largest file %s MiB + PDQ scratch 2 MiB)\n' "$file_mb"
	local k
	for k in dp1 dpN dpx1 dpxN; do
		[[ -n "${SECS[$k]:-}" ]] || continue
		local j=${JOBS[$k]} rss_mb bound per
		rss_mb=$(awk -v r="${RSS[$k]}" 'BEGIN {printf "%.1f", r / 1024}')
		bound=$(awk -v b="$BASE_RSS" -v j="$j" -v d="$dec_mb" -v f="$file_mb" 'BEGIN {printf "%.1f", b / 1024 + j * (d + f + 2)}')
		per=$(awk -v r="${RSS[$k]}" -v b="$BASE_RSS" -v j="$j" 'BEGIN {printf "%.1f", (r - b) / 1024 / j}')
		printf '    %-28s %7s MiB (bound %s MiB; %s MiB per worker above base = %s x the decoded image): %s\n' \
			"$(label_of "$k")" "$rss_mb" "$bound" "$per" \
			"$(awk -v p="$per" -v d="$dec_mb" 'BEGIN {printf "%.2f", p / d}')" "$(met "$rss_mb <= $bound")"
	done
}

label_of() {
	case $1 in
	dp1) echo "scan --jobs 1" ;;
	dpN) echo "scan --jobs $NCPU" ;;
	dpx1) echo "scan --pdq-exact --jobs 1" ;;
	dpxN) echo "scan --pdq-exact --jobs $NCPU" ;;
	esac
}

print_report() {
	echo
	echo "deprive PDQ scan benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $NCPU cores, $(uname -r)"
	printf 'deprive: %s (build %s)\n' "$DEPRIVE" "${DEPRIVE_BUILD:-?}"
	printf 'djpeg: %s\n' "$(djpeg -version 2>&1 | head -n 1)"
	printf 'images: %s; generated in %ss\n' "$SETS_LINE" "$GEN_SECONDS"
	printf 'page cache warm (every file read once before each run); best of %s run(s); load average at start %s, at end %s\n\n' \
		"$BENCH_REPEAT" "$LOADAVG_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf '%-36s %5s %4s %8s %7s %8s %8s %9s %9s %8s  %-22s %s\n' "measurement" "imgs" "jobs" "wall s" "CPU s" \
		"images/s" "ms/image" "img/s/core" "img/CPU s" "RSS MiB" "anchor" "note"
	printf '%s\n' "-------------------------------------------------------------------------------------------------------------------------------------------------------"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "ms/image = wall / images (with N workers: throughput, not latency). CPU s: user + sys,"
	echo "children included; img/CPU s = images / CPU s, the figure to compare when the load average"
	echo "shows other work on the cores. djpeg rows: one process per file, RGB PPM to /dev/null."
	echo "anchors (issue, measured earlier on this kind of machine, not in this run): Meta's reference"
	echo "PDQ tool ${ANCHOR_REF_MS} ms/image (2.4 images/s); djpeg -scale 1/4 ${ANCHOR_SCALE_MS} ms; djpeg ${ANCHOR_FULL_MS} ms."
	echo
	print_targets
	for l in "${SKIPPED[@]}"; do
		echo "$l"
	done
}

main() {
	require_tools
	find_deprive
	local need_mb avail_mb
	need_mb=$(((BENCH_IMAGES * 5 + BENCH_PNG * 20 + BENCH_HEIC * 3) * BENCH_WIDTH * BENCH_HEIGHT / 12000000 + 100))
	avail_mb=$(($(df -Pk "$WORK" | awk 'NR==2 {print $4}') / 1024))
	((avail_mb > need_mb)) || die "need about $need_mb MiB free in $WORK (have $avail_mb MiB)"

	SKIPPED=()
	local t0
	t0=$(now_ns)
	write_generator
	log "bench: generating $BENCH_IMAGES JPEG images (${BENCH_WIDTH}x$BENCH_HEIGHT, cjpeg -quality $BENCH_JPEG_QUALITY) in $WORK"
	generate_jpeg
	HAVE_PNG=0 HAVE_HEIC=0
	if ((BENCH_PNG > 0)) && ((GEN_PNG)); then
		log "bench: generating $BENCH_PNG PNG images (libpng, default filters and level)"
		generate_png
		HAVE_PNG=1
	elif ((BENCH_PNG > 0)); then
		SKIPPED+=("PNG set: skipped (the generator could not be built with libpng: pkg-config libpng failed)")
	else
		SKIPPED+=("PNG set: skipped (BENCH_PNG=0)")
	fi
	if ((BENCH_HEIC > 0)) && command -v heif-enc >/dev/null 2>&1 &&
		heif-enc --list-encoders 2>/dev/null | grep -qi x265; then
		log "bench: generating $BENCH_HEIC HEIC images (heif-enc -q 50, x265 preset ultrafast)"
		generate_heic
		HAVE_HEIC=1
	elif ((BENCH_HEIC > 0)); then
		SKIPPED+=("HEIC set: skipped (no heif-enc with an x265 HEIC encoder: package libheif-examples)")
	else
		SKIPPED+=("HEIC set: skipped (BENCH_HEIC=0)")
	fi
	GEN_SECONDS=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN {printf "%.0f", (b - a) / 1e9}')

	set_stats "$WORK/jpeg"
	JPEG_N=$SET_FILES
	JPEG_MAX_BYTES=$(find "$WORK/jpeg" -type f -printf '%s\n' | sort -n | tail -n 1)
	SETS_LINE=$(printf '%s JPEG %s MiB (%.1f MiB each)' "$JPEG_N" "$((SET_BYTES / 1048576))" \
		"$(awk -v b="$SET_BYTES" -v n="$JPEG_N" 'BEGIN {print b / n / 1048576}')")
	# The target: two thirds of the way through the set, so the match is not the first file.
	local jt pt ht
	jt=$(printf 'IMG_%04d.jpg' $(((BENCH_IMAGES * 2 + 2) / 3)))
	JPEG_LIST=$(make_list "$WORK/jpeg" "$jt" jpeg)
	if ((HAVE_PNG)); then
		set_stats "$WORK/png"
		SETS_LINE+=$(printf ', %s PNG %s MiB' "$SET_FILES" "$((SET_BYTES / 1048576))")
		pt=$(printf 'IMG_%04d.png' $(((BENCH_PNG + 1) / 2)))
		PNG_LIST=$(make_list "$WORK/png" "$pt" png)
	fi
	if ((HAVE_HEIC)); then
		set_stats "$WORK/heic"
		SETS_LINE+=$(printf ', %s HEIC %s MiB' "$SET_FILES" "$((SET_BYTES / 1048576))")
		ht=$(printf 'IMG_%04d.heic' $(((BENCH_HEIC + 1) / 2)))
		HEIC_LIST=$(make_list "$WORK/heic" "$ht" heic)
	fi

	LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
	log "bench: JPEG: deprive scan"
	bench_deprive dp1 "JPEG deprive scan --jobs 1" "$WORK/jpeg" "$JPEG_LIST" "$jt" 1 ">=11/s, <=1.3x djpeg/4"
	bench_deprive dpN "JPEG deprive scan --jobs $NCPU" "$WORK/jpeg" "$JPEG_LIST" "$jt" "$NCPU" ">= 11/s per core"
	bench_deprive dpx1 "JPEG deprive scan --pdq-exact -j1" "$WORK/jpeg" "$JPEG_LIST" "$jt" 1 "ref 2.4/s: >= 4.8/s" --pdq-exact
	bench_deprive dpxN "JPEG deprive scan --pdq-exact -j$NCPU" "$WORK/jpeg" "$JPEG_LIST" "$jt" "$NCPU" "" --pdq-exact
	log "bench: JPEG: djpeg"
	bench_djpeg
	if ((HAVE_PNG)); then
		log "bench: PNG: deprive scan"
		bench_deprive png1 "PNG deprive scan --jobs 1" "$WORK/png" "$PNG_LIST" "$pt" 1 ""
		bench_deprive pngN "PNG deprive scan --jobs $NCPU" "$WORK/png" "$PNG_LIST" "$pt" "$NCPU" ""
	fi
	if ((HAVE_HEIC)); then
		log "bench: HEIC: deprive scan"
		bench_deprive heic1 "HEIC deprive scan --jobs 1" "$WORK/heic" "$HEIC_LIST" "$ht" 1 ""
		bench_deprive heicN "HEIC deprive scan --jobs $NCPU" "$WORK/heic" "$HEIC_LIST" "$ht" "$NCPU" ""
	fi
	bench_base_rss
	print_report
}

main "$@"
