#!/usr/bin/env bash
# Wrap the frozen folder in a .deb: the program in /opt/hearth, `hearth` on the PATH,
# a menu entry and its icon.  Removing the package never touches ~/.local/share/Hearth
# or ~/.config/Hearth: conversations and keys stay until the user runs `hearth erase-data`.
#   make-deb.sh FOLDER VERSION OUTPUT.deb
set -euo pipefail
folder="$1" version="$2" output="$3"
here="$(cd "$(dirname "$0")" && pwd)"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/icons/hicolor/scalable/apps" "$stage/usr/share/doc/hearth"
cp -a "$folder" "$stage/opt/hearth"
ln -s /opt/hearth/hearth "$stage/usr/bin/hearth"
cp "$here/hearth.desktop" "$stage/usr/share/applications/hearth.desktop"
cp "$here/../../resources/hearth.svg" "$stage/usr/share/icons/hicolor/scalable/apps/hearth.svg"
cp "$here/../../LICENSE" "$stage/usr/share/doc/hearth/copyright"
size=$(du -sk "$stage" | cut -f1)
# The newest glibc symbol any bundled file needs: the build machine's glibc, at most.
glibc=$(find "$folder" -type f \( -name "*.so*" -o -perm -u+x \) -print0 | xargs -0 objdump -T 2>/dev/null |
  grep -o "GLIBC_[0-9.]*" | sed 's/GLIBC_//' | sort -Vu | tail -n 1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s/@GLIBC@/$glibc/" "$here/control" > "$stage/DEBIAN/control"
dpkg-deb --build --root-owner-group -Zxz "$stage" "$output" >&2
