#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Install every Debian package deprive needs to build, test and benchmark.
# Idempotent: prints nothing and touches nothing when everything is present.
# Runs apt-get update only when something is missing.
set -euo pipefail

PACKAGES=(
	# toolchain
	build-essential meson ninja-build pkg-config
	# libraries
	libsodium-dev libmagic-dev libarchive-dev libcmocka-dev libssl-dev
	libjansson-dev libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev
	libheif-dev libtiff-dev libhpdf-dev
	# the sweep's Expert Witness (E01) sets: libewf; tests/test_source.c makes them with ewfacquire
	libewf-dev ewf-tools
	# tools used by tests and benches
	minisign hashdeep poppler-utils
	# bench/pdq.sh: cjpeg and djpeg; heif-enc (optional, for its HEIC set)
	libjpeg-turbo-progs libheif-examples
	# bench/archive.sh: bsdtar, its baseline (bsdtar -xOf ARCHIVE | sha256sum)
	libarchive-tools
	# tests/test_verifier.c: the offline verifier page (docs/verify.html) in headless Chromium
	chromium chromium-driver python3-selenium
	# tests/test_package.c builds the .deb (debian/): dpkg-buildpackage, dh, the
	# bash-completion directory (pkg-config), man -l, and libjpeg-dev, the name
	# debian/control gives libjpeg62-turbo-dev (lintian: scripts/package.sh)
	dpkg-dev debhelper bash-completion man-db libjpeg-dev
	# filesystems for the loop-mount suites
	e2fsprogs xfsprogs btrfs-progs dosfstools exfatprogs ntfs-3g fusefat
	exfat-fuse fuse3 util-linux
	# tests/test_embedded.c: SQLite databases with image blobs
	sqlite3
	# fuzz/ (scripts/test.sh's fuzz stage): clang with libFuzzer and the sanitizer runtimes
	clang libclang-rt-dev
	# scripts/static-check.sh (scripts/test.sh's static stage)
	cppcheck clang-tidy
	# scripts/test.sh's valgrind stage (memcheck over the library unit suites)
	valgrind
	# tests/faultfs.c: the fault-injecting FUSE filesystem of the adversarial suite's EIO
	# cases (without it they skip)
	libfuse3-dev
	# misc
	file openssl time procps
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
	# "ii " = desired install, currently installed
	if [[ "$status" != ii* ]]; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

echo "bootstrap: missing packages: ${missing[*]}" >&2

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo -n)
		# Fall back to an interactive sudo when we have a terminal.
		if ! sudo -n true 2>/dev/null; then
			if [[ -t 0 ]]; then
				SUDO=(sudo)
			else
				echo "bootstrap: not root and sudo needs a password; install them with:" >&2
				echo "  sudo apt-get install ${missing[*]}" >&2
				exit 1
			fi
		fi
	else
		echo "bootstrap: not root and no sudo; install them with:" >&2
		echo "  apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install "${APT_OPTS[@]}" --no-install-recommends "${missing[@]}"

# Verify.
still=()
for pkg in "${missing[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
	[[ "$status" == ii* ]] || still+=("$pkg")
done
if ((${#still[@]} > 0)); then
	echo "bootstrap: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "bootstrap: installed ${missing[*]}" >&2
