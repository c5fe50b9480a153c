#!/usr/bin/env bash
# Build Hearth for Linux from a clean clone, with one command:
#
#   packaging/linux/build.sh
#
# Produces, in build/linux/:
#   hearth/                                  the relocatable program folder (run hearth/hearth)
#   hearth-VERSION-linux-x86_64.tar.gz       that folder as an archive
#   hearth_VERSION_amd64.deb                 a Debian/Ubuntu package (/opt/hearth, a menu entry)
#   report.json                              sizes, and the frozen self-test's report
#
# llama.cpp is the portable build with every CPU variant (packaging/llama-wheel.sh cpu); set
# HEARTH_LLAMA_VARIANT=cuda or vulkan for a GPU build of the same recipe.  The frozen program
# is then run offscreen with --self-test from a moved copy of the folder and from the unpacked
# .deb: a build whose program cannot answer is not a build.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$PWD/build/linux"
python="${PYTHON:-python3}"
variant="${HEARTH_LLAMA_VARIANT:-cpu}"
arch=$(uname -m)
source packaging/prepare.sh

echo "== freezing" >&2
rm -rf "$out" && mkdir -p "$out"
HEARTH_BUNDLED_MODEL="$model" HEARTH_VERSION="$version" "$venv/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$out" --workpath "$root/build/pyinstaller" packaging/hearth.spec

echo "== archive" >&2
name="hearth-$version-linux-$arch"
tar -C "$out" --transform "s,^hearth,$name," -czf "$out/$name.tar.gz" hearth

echo "== .deb" >&2
deb="$out/hearth_${version}_amd64.deb"
bash packaging/linux/make-deb.sh "$out/hearth" "$version" "$deb"

echo "== self-tests" >&2
moved=$(mktemp -d)
trap 'rm -rf "$moved"' EXIT
tar -C "$moved" -xzf "$out/$name.tar.gz"
bash packaging/linux/smoke.sh "$moved/$name/hearth" > "$out/self-test-archive.json"
mkdir "$moved/deb" && dpkg-deb -x "$deb" "$moved/deb"
bash packaging/linux/smoke.sh "$moved/deb/opt/hearth/hearth" > "$out/self-test-deb.json"

"$venv/bin/python" packaging/linux/report.py "$out" "$name.tar.gz" "$(basename "$deb")" > "$out/report.json"
cat "$out/report.json"
