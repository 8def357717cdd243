#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Seeds of the container targets (fuzz/README.md), run by fuzz/gen-seeds.sh after the image
# seeds exist (it plants them), or alone to remake only these:
#   fuzz/corpus/archive/   small archives of every kind libarchive reads here: zip (stored,
#                          deflated, encrypted with the harness's password "fuzz", nested 10
#                          deep past the depth limit), tar (ustar, pax, GNU, sparse, hard and
#                          symbolic links; plain, gzip, bzip2, xz, zstd), cpio (newc, odc,
#                          bin where bsdtar writes it), 7z (bsdtar: lzma2, deflate, bzip2,
#                          ppmd, store), ISO 9660 (Rock Ridge, Joliet, zisofs; compressed:
#                          360 KB bare), single compressed
#                          files, a zip inside a tar.gz inside a 7z, a small zero bomb, many
#                          members. No rar: nothing here can write one (the dictionary has its
#                          headers).
#   fuzz/corpus/source/    a raw image with the planted images among filler and false starts,
#                          one with a re-encoded (perceptually equal) copy, and EWF sets of
#                          them made by ewfacquire (EnCase 6 compressed and not, SMART, EnCase 1)
#   fuzz/data/sweep-exact.jpg, sweep-pdq.png   the images fuzz_source's hash set is made from
# Needs zip, bsdtar, gzip, bzip2, xz, zstd; ewfacquire (ewf-tools) and cjpeg for the
# source seeds (skipped without them). Every seed stays under 64 KiB. Names and times are fixed,
# so a remake changes only what the tools themselves change.
#   fuzz/gen-seeds-containers.sh
set -euo pipefail

FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
C=$FUZZ_DIR/corpus
jpg=$C/image_jpeg/rgb.jpg
png=$C/image_png/rgb.png
[[ -f $jpg && -f $png ]] || {
	echo "gen-seeds-containers.sh: run fuzz/gen-seeds.sh first (no image seeds)" >&2
	exit 2
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/deprive-seeds.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
export TZ=UTC LC_ALL=C SOURCE_DATE_EPOCH=1700000000
stamp() { find "$@" -exec touch -h -d @1700000000 {} +; }
# tar without the owner's names and the times of this run
tar() { command tar --owner=0 --group=0 --numeric-owner "$@"; }
pax() { tar --format=pax --pax-option=delete=atime,delete=ctime "$@"; }

# ---- archives ----
A=$C/archive
rm -rf -- "$A"
mkdir -p "$A" "$tmp/t/dir"
cd "$tmp/t"
cp "$jpg" photo.jpg
cp "$png" dir/pic.png
printf 'the quick brown fox\n%.0s' {1..20} >notes.txt
ln -s notes.txt dir/link
ln notes.txt hard.txt
stamp .
zip -q -X -0 "$A/stored.zip" notes.txt photo.jpg
zip -q -X -9 "$A/deflated.zip" notes.txt dir/pic.png
zip -q -X -P fuzz "$A/encrypted.zip" notes.txt
zip -q -X -P wrong "$A/encrypted-wrong-password.zip" photo.jpg
tar --format=ustar -cf "$A/ustar.tar" notes.txt hard.txt dir
pax -cf - notes.txt dir/pic.png | gzip -9n >"$A/pax.tar.gz"
tar --format=gnu -cf - notes.txt photo.jpg | bzip2 -9 >"$A/gnu.tar.bz2"
tar --format=ustar -cf - photo.jpg | xz -9 >"$A/photo.tar.xz"
tar --format=ustar -cf - dir/pic.png | zstd -q -19 >"$A/pic.tar.zst"
# a sparse member (GNU sparse map): holes read as zeros
truncate -s 20000 sparse.bin
printf 'data in the middle' | dd of=sparse.bin bs=1 seek=9000 conv=notrunc status=none
stamp sparse.bin
tar --format=gnu --sparse -cf "$A/sparse-gnu.tar" sparse.bin
pax --sparse -cf "$A/sparse-pax.tar" sparse.bin
rm sparse.bin
bsdtar --format newc -cf "$A/newc.cpio" notes.txt hard.txt photo.jpg
bsdtar --format odc -cf "$A/odc.cpio" notes.txt dir/pic.png
bsdtar --format bin -cf "$A/bin.cpio" notes.txt 2>/dev/null || rm -f "$A/bin.cpio"
for m in lzma2 deflate bzip2 ppmd store; do
	bsdtar --format 7zip --options "7zip:compression=$m" -cf "$A/$m.7z" notes.txt dir/pic.png
done
gzip -9nc photo.jpg >"$A/photo.jpg.gz"
# ISO 9660 (Rock Ridge, Joliet; zisofs-compressed files): an image is 360 KB, past what the
# fuzzer's inputs grow to, and its signature is at 32769 - compressed, it is 1 KB and libarchive
# reads it through the filter
bsdtar --format iso9660 -cf - notes.txt dir | xz -9 >"$A/rockridge-joliet.iso.xz"
bsdtar --format iso9660 --options 'iso9660:zisofs,!joliet' -cf - notes.txt photo.jpg |
	gzip -9n >"$A/zisofs.iso.gz"
xz -9c notes.txt >"$A/notes.txt.xz"
bzip2 -9c dir/pic.png >"$A/pic.png.bz2"
zstd -q -19c notes.txt >"$A/notes.txt.zst"
# nested: a zip in a tar.gz in a 7z
zip -q -X in.zip photo.jpg
stamp in.zip
tar --format=ustar -cf - in.zip notes.txt | gzip -9n >mid.tar.gz
stamp mid.tar.gz
bsdtar --format 7zip -cf "$A/nested-7z-targz-zip.7z" mid.tar.gz
# nested ten deep: past the depth limit (8, and the harness's 2 and 1)
cp notes.txt n0.zip
for i in 1 2 3 4 5 6 7 8 9 10; do
	stamp "n$((i - 1)).zip"
	zip -q -X "n$i.zip" "n$((i - 1)).zip"
done
mv n10.zip "$A/nested-10-deep.zip"
# a zero bomb: 2 MiB of zeros in 2 KiB (past the harness's 64 KiB and 1 MiB limits)
head -c 2097152 /dev/zero >zeros.bin
stamp zeros.bin
zip -q -X -9 "$A/zeros-2m.zip" zeros.bin
gzip -9nc zeros.bin >"$A/zeros-2m.gz"
# many members: past the harness's 8 and 100
mkdir many
for i in $(seq 1 120); do printf '%d' "$i" >"many/$i"; done
stamp many
zip -q -X -r "$A/many-members.zip" many
tar --format=ustar -cf - many | gzip -9n >"$A/many-members.tar.gz"
# zip entries the central directory does not list: two zips joined with cat (the first's
# entries hidden), one of them written to a pipe (streamed: sizes in data descriptors)
zip -q -X - notes.txt photo.jpg >streamed.zip
cat streamed.zip "$A/stored.zip" >"$A/hidden-front-streamed.zip"
cat "$A/stored.zip" "$A/deflated.zip" >"$A/hidden-front.zip"
cd "$FUZZ_DIR"

# ---- raw images and EWF sets for the sweep ----
S=$C/source
rm -rf -- "$S"
mkdir -p "$S" "$FUZZ_DIR/data"
cp "$jpg" "$FUZZ_DIR/data/sweep-exact.jpg"
cp "$png" "$FUZZ_DIR/data/sweep-pdq.png"
filler() { head -c "$1" /dev/zero | tr '\0' "$2"; }
# filler, false starts (a JPEG and a PNG header cut short), the exact JPEG, the PNG, filler;
# a multiple of 512 bytes (ewfacquire drops a tail shorter than a sector)
{
	filler 1000 a
	printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00'
	filler 990 b
	printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR'
	filler 2000 c
	cat "$jpg"
	filler 700 d
	cat "$png"
	filler 1000 e
} >"$tmp/raw.img"
pad=$(((512 - $(stat -c %s "$tmp/raw.img") % 512) % 512))
filler "$pad" f >>"$tmp/raw.img"
cp "$tmp/raw.img" "$S/planted.raw"
if command -v cjpeg >/dev/null 2>&1 && command -v convert >/dev/null 2>&1; then
	# the PNG's picture as a JPEG: other bytes, the same PDQ hash or a near one
	convert "$png" ppm:- | cjpeg -quality 85 >"$tmp/near.jpg"
	{
		filler 512 g
		cat "$tmp/near.jpg"
		filler 600 h
	} >"$tmp/near.img"
	pad=$(((512 - $(stat -c %s "$tmp/near.img") % 512) % 512))
	filler "$pad" i >>"$tmp/near.img"
	cp "$tmp/near.img" "$S/near-copy.raw"
fi
if command -v ewfacquire >/dev/null 2>&1; then
	ewf() { # NAME FORMAT COMPRESSION RAW: the set (one segment) into the corpus
		(cd "$tmp" && ewfacquire -u -q -t "$1" -f "$2" -c "$3" -C 'Case 1' -D 'fuzz seed' \
			-E 'EV-1' -e 'Examiner' -N 'generated' -d sha1 -b 16 "$4" </dev/null >/dev/null)
		cp "$tmp/$1".[Ees]01 "$S/"
	}
	ewf planted-encase6 encase6 fast raw.img
	ewf planted-none encase6 none raw.img
	ewf planted-smart smart best raw.img
	ewf planted-encase1 encase1 fast raw.img
	[[ ! -f $tmp/near.img ]] || ewf near-copy ewfx fast near.img
fi

for d in "$A" "$S"; do
	printf '%-20s %3d files %6d bytes, largest %d\n' "$(basename "$d")" \
		"$(find "$d" -type f | wc -l)" "$(cat "$d"/* | wc -c)" \
		"$(find "$d" -type f -printf '%s\n' | sort -n | tail -n 1)"
done
