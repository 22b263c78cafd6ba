#!/usr/bin/env bash
# tools/version.sh: flowmaster's version, as `flowmaster version`, the man
# page and the Debian package say it.
#
#   at a release tag vX.Y.Z       X.Y.Z
#   N commits after it            X.Y.Z-N-gHASH     (git describe)
#   before the first tag          X.Y.Z+gHASH       (X.Y.Z from VERSION)
#   outside git (a tarball)       X.Y.Z             (VERSION)
#
# "-dirty" is appended when tracked files have local changes.
set -u
cd "$(dirname "$0")/.." || exit 1
base=$(cat VERSION 2>/dev/null || echo 0.0.0)
if [[ -e .git ]] && d=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
	echo "${d#v}"
elif [[ -e .git ]] && h=$(git describe --always --dirty 2>/dev/null); then
	echo "$base+g$h"
else
	echo "$base"
fi
