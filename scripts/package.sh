#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build the Debian package end to end:
#   scripts/package.sh [-o OUTDIR]
# Installs what is missing (scripts/bootstrap.sh, then the packaging tools and any build
# dependency debian/control names that bootstrap does not), builds in a temp copy of the tree
# (dpkg-buildpackage writes ../*.deb and debian/ build files: nothing is left in the source
# tree), with the unit suites unless DEB_BUILD_OPTIONS has nocheck, runs lintian (any error,
# and any warning not overridden with its reason in debian/, fails), shows the package's
# contents and version, and copies the .deb, .changes and .buildinfo files to OUTDIR (default
# build-deb/ in the tree, ignored like every build*/ directory).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTDIR="$REPO_ROOT/build-deb"

usage() {
	echo "usage: scripts/package.sh [-o OUTDIR]" >&2
	exit 2
}
while getopts "o:h" opt; do
	case $opt in
	o) OUTDIR=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
(($# == 0)) || usage

"$REPO_ROOT/scripts/bootstrap.sh"

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
	SUDO=(sudo)
fi

# apt_install PKG...: install the packages that are not installed yet
apt_install() {
	local missing=() pkg status
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
		[[ "$status" == ii* ]] || missing+=("$pkg")
	done
	((${#missing[@]} > 0)) || return 0
	echo "package.sh: installing ${missing[*]}" >&2
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
}

apt_install debhelper dpkg-dev lintian bash-completion man-db

VERSION=$(dpkg-parsechangelog -l "$REPO_ROOT/debian/changelog" -SVersion)
UPSTREAM=${VERSION%-*}
ARCH=$(dpkg --print-architecture)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/deprive-package.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
TREE="$WORK/deprive-$UPSTREAM"
mkdir "$TREE"
# the tree as it is now; build directories, .git and earlier package builds left out
tar -C "$REPO_ROOT" --exclude='./build*' --exclude=./.git --exclude='./obj-*' \
	--exclude=./debian/deprive --exclude=./debian/.debhelper --exclude='./debian/*.substvars' \
	--exclude=./debian/files --exclude=./debian/debhelper-build-stamp -cf - . |
	tar -C "$TREE" -xf -

# build dependencies debian/control names that are still missing (a newer control file)
if ! unmet=$(cd "$TREE" && dpkg-checkbuilddeps 2>&1); then
	# "dpkg-checkbuilddeps: error: Unmet build dependencies: a (>= 1) b <!nocheck> c"
	deps=$(sed -n 's/.*Unmet build dependencies: //p' <<<"$unmet" |
		sed -E 's/\([^)]*\)//g; s/<[^>]*>//g; s/\|[^ ]*//g')
	# shellcheck disable=SC2086 # one word per package
	apt_install $deps
fi

echo "==> dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS='${DEB_BUILD_OPTIONS:-}')"
(cd "$TREE" && dpkg-buildpackage -us -uc -b)

CHANGES="$WORK/deprive_${VERSION}_${ARCH}.changes"
DEB="$WORK/deprive_${VERSION}_${ARCH}.deb"

echo "==> lintian"
lintian --display-info --fail-on error,warning "$CHANGES"
echo "lintian: no errors, no warnings that are not overridden (debian/deprive.lintian-overrides)"

echo "==> contents of $(basename "$DEB")"
dpkg-deb -c "$DEB"
mkdir "$WORK/root"
dpkg -x "$DEB" "$WORK/root"
"$WORK/root/usr/bin/deprive" --version

mkdir -p "$OUTDIR"
cp "$WORK"/*.deb "$CHANGES" "$WORK/deprive_${VERSION}_${ARCH}.buildinfo" "$OUTDIR/"
echo "package.sh: $(cd "$OUTDIR" && ls -- *"_${VERSION}_${ARCH}".*)"
echo "package.sh: written to $OUTDIR"
