#!/usr/bin/env bash
# Build Hearth for macOS: Hearth.app, its self-test, signing and notarisation, and a .dmg.
#
#   packaging/macos/build.sh
#
# The same steps as packaging/linux/build.sh, with Apple's tools:
#   1. llama.cpp with Metal (packaging/llama-wheel.sh metal; Apple CPUs need no variants);
#   2. a build environment with Hearth (not editable), PyInstaller and Pillow;
#   3. the default model, fetched and checked by Hearth's own code, to carry in the app;
#   4. icons from resources/hearth.svg; PyInstaller from packaging/hearth.spec -> Hearth.app;
#   5. the frozen self-test, offscreen;
#   6. when MACOS_SIGNING_IDENTITY is set (a "Developer ID Application: ..." identity already in
#      the keychain, see .github/workflows/installers.yml): every library, then the app, signed
#      with the hardened runtime and a secure timestamp;
#   7. Hearth-VERSION.dmg (the app and a link to /Applications), signed too;
#   8. when APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD are set: notarised with notarytool,
#      and the ticket stapled to the .dmg so Gatekeeper accepts it offline.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$PWD/build/macos"
python="${PYTHON:-python3}"
variant="${HEARTH_LLAMA_VARIANT:-metal}"
source packaging/prepare.sh

echo "== freezing" >&2
rm -rf "$out" && mkdir -p "$out"
"$venv/bin/python" packaging/icons.py "$out/icons"
HEARTH_BUNDLED_MODEL="$model" HEARTH_ICON="$out/icons/hearth.icns" HEARTH_VERSION="$version" \
  "$venv/bin/pyinstaller" --noconfirm --log-level WARN --distpath "$out" --workpath "$root/build/pyinstaller" \
  packaging/hearth.spec
app="$out/Hearth.app"

self_test() {
  local report
  report=$(QT_QPA_PLATFORM=offscreen "$1/Contents/MacOS/Hearth" --self-test | tail -n 1)
  echo "$report"
  echo "$report" | python3 packaging/check_self_test.py
}
echo "== self-test" >&2
self_test "$app" > "$out/self-test-app.json"

if [ -n "${MACOS_SIGNING_IDENTITY:-}" ]; then
  echo "== signing" >&2
  sign=(codesign --force --timestamp --options runtime --entitlements packaging/macos/entitlements.plist
        --sign "$MACOS_SIGNING_IDENTITY")
  # Inside out: libraries and plug-ins first, then the executable, then the bundle.
  find "$app/Contents" -type f \( -name "*.so" -o -name "*.dylib" -o -perm -u+x \) -print0 |
    xargs -0 -n 20 "${sign[@]}"
  "${sign[@]}" "$app"
  codesign --verify --deep --strict --verbose=2 "$app"
fi

echo "== disk image" >&2
dmg="$out/Hearth-$version.dmg"
stage=$(mktemp -d)
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
hdiutil create -volname "Hearth $version" -srcfolder "$stage" -ov -format UDZO "$dmg"
rm -rf "$stage"
[ -z "${MACOS_SIGNING_IDENTITY:-}" ] || codesign --force --timestamp --sign "$MACOS_SIGNING_IDENTITY" "$dmg"

if [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
  echo "== notarising" >&2
  xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
    --password "$APPLE_APP_PASSWORD" --wait
  xcrun stapler staple "$dmg"
  spctl --assess --type open --context context:primary-signature --verbose "$dmg"
fi

echo "== the app from the disk image" >&2
mount=$(mktemp -d)
hdiutil attach -nobrowse -readonly -mountpoint "$mount" "$dmg" >/dev/null
self_test "$mount/Hearth.app" > "$out/self-test-dmg.json"
hdiutil detach "$mount" >/dev/null
du -sh "$app" "$dmg"
