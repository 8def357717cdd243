#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# deprive end to end on a generated sample device:
#   victim side: hash the images (only the hashes leave);
#   examiner: scan the seized device, erase the matches, re-scan, sign a certificate;
#   auditor: verify with deprive and with plain minisign, read it, print the PDF, re-audit.
# As root with loop devices the "device" is a real ext4 image mounted with -o loop (unmounted
# and detached on exit, on failure too); otherwise a directory under a fresh temp dir.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
"$REPO_ROOT/scripts/bootstrap.sh"
if [[ ! -f build/build.ninja ]]; then
	meson setup build >/dev/null
fi
meson compile -C build deprive:executable >/dev/null
DEPRIVE="$REPO_ROOT/build/deprive"

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/deprive-demo.XXXXXX")
MNT="$DEMO/mnt"
LOOPDEV=""
cleanup() {
	if mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT" || umount -l "$MNT"; fi
	if [[ -n "$LOOPDEV" ]]; then losetup -d "$LOOPDEV" 2>/dev/null || true; fi
	rm -rf "$DEMO"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

WORK="$DEMO/case"      # the examiner's case folder: never on the seized device
VICTIM="$DEMO/victim"  # the victim's own copies of the images
mkdir -p "$WORK" "$VICTIM" "$MNT"
EXTRA=()
if [[ $(id -u) -eq 0 && -e /dev/loop-control ]] && command -v mkfs.ext4 >/dev/null; then
	say "making a 256 MiB ext4 sample device (loop-mounted at $MNT)"
	truncate -s 256M "$DEMO/seized.img"
	mkfs.ext4 -q -F "$DEMO/seized.img"
	LOOPDEV=$(losetup -f --show "$DEMO/seized.img")
	mount "$LOOPDEV" "$MNT"
	DEVICE="$MNT"
else
	say "not root or no loop devices: the sample device is a directory"
	DEVICE="$DEMO/device"
	mkdir -p "$DEVICE"
	EXTRA=(--journal-on-same-fs) # same filesystem as the case folder: say so in the result
fi

# the victim's images (generated content) and their copies on the device
for i in 1 2 3; do head -c $((40000 + i * 9000)) /dev/urandom > "$VICTIM/img$i.jpg"; done
mkdir -p "$DEVICE/DCIM/Camera" "$DEVICE/Documents" "$DEVICE/WhatsApp/Media/.hidden"
cp "$VICTIM/img1.jpg" "$DEVICE/DCIM/Camera/IMG_0001.jpg"
cp "$VICTIM/img2.jpg" "$DEVICE/WhatsApp/Media/.hidden/received.jpg"
cp "$VICTIM/img3.jpg" "$DEVICE/Documents/scan 3.jpg"
ln "$DEVICE/DCIM/Camera/IMG_0001.jpg" "$DEVICE/Documents/copy-hardlink.jpg"
for i in $(seq 1 40); do head -c $((1000 + i * 997)) /dev/urandom > "$DEVICE/DCIM/Camera/holiday_$i.jpg"; done
echo "shopping list" > "$DEVICE/Documents/notes.txt"
ln -s /etc/passwd "$DEVICE/Documents/link-outside"
mkfifo "$DEVICE/Documents/pipe.jpg"
( cd "$DEVICE" && find . -type f ! -name 'IMG_0001.jpg' ! -name received.jpg ! -name 'scan 3.jpg' \
	! -name copy-hardlink.jpg -print0 | sort -z | xargs -0 sha256sum ) > "$WORK/untouched.before"

say "victim side: hash the images; only these lines are handed over"
run "$DEPRIVE" hash "$VICTIM"/img*.jpg > "$WORK/victim-hashes.txt"
cat "$WORK/victim-hashes.txt"

say "the force's signing key (minisign-compatible; -W: no passphrase, for the demo only)"
run "$DEPRIVE" keygen -W -p "$WORK/force.pub" -s "$WORK/force.sec"

say "examiner: scan (read-only; nothing on the device changes)"
run "$DEPRIVE" scan --hashes "$WORK/victim-hashes.txt" -o "$WORK/scan.json" "$DEVICE"

say "examiner: scan, erase, re-scan and certify"
run "$DEPRIVE" run --hashes "$WORK/victim-hashes.txt" --key "$WORK/force.sec" \
	-o "$WORK/certificate.json" --order "DO/2026/0042" --order-type "deprivation order" \
	--court "Example Crown Court" --force "Example Constabulary" --officer "DC A. Example" \
	--exhibit "AE/1" --device-make "Example" --device-model "Phone 1" \
	--hash-supplier "victim, via the officer in case" "${EXTRA[@]}" --yes "$DEVICE"

say "nothing else on the device changed"
( cd "$DEVICE" && find . -type f ! -name 'IMG_0001.jpg' ! -name received.jpg ! -name 'scan 3.jpg' \
	! -name copy-hardlink.jpg -print0 | sort -z | xargs -0 sha256sum ) > "$WORK/untouched.after"
if cmp -s "$WORK/untouched.before" "$WORK/untouched.after"; then
	echo "all $(wc -l < "$WORK/untouched.after") other files byte-identical"
else
	echo "demo: a non-matching file changed!" >&2
	exit 1
fi

say "auditor: verify the certificate (deprive, then plain minisign)"
run "$DEPRIVE" verify -p "$WORK/force.pub" --journal "$WORK/certificate.json.journal" "$WORK/certificate.json"
run minisign -Vm "$WORK/certificate.json" -p "$WORK/force.pub"

say "auditor: read it, and render the printable PDF"
run "$DEPRIVE" show "$WORK/certificate.json" --pdf "$WORK/certificate.pdf" | sed -n "1,40p"
if command -v pdftotext >/dev/null; then
	echo "PDF: $(pdftotext "$WORK/certificate.pdf" - | grep -c .) lines of text, first ones:"
	pdftotext "$WORK/certificate.pdf" - | grep . | sed -n "1,5p"
fi

say "auditor, months later: the device holds none of the erased images"
run "$DEPRIVE" audit --cert "$WORK/certificate.json" -p "$WORK/force.pub" "$DEVICE"
echo
echo "demo complete (work files were in $DEMO, now removed)"
