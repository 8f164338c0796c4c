#!/usr/bin/env bash
# Install the built bundle (dist/kapsession, from `make bundle`) for one user or for the laptop:
#
#   bash packaging/install-linux.sh              into ~/.local (this user; no root needed)
#   sudo bash packaging/install-linux.sh /usr/local    for every user of the laptop
#
# Copies the bundle to PREFIX/lib/kapsession, links PREFIX/bin/kapsession to it, and adds the
# menu entry (kapsession.desktop) and its icons under PREFIX/share. Run it again to update;
# the data folder (the database, backups, logs) is elsewhere and is never touched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
prefix=${1:-$HOME/.local}
bundle=${KAPSESSION_BUNDLE_DIR:-$repo/dist/kapsession}

if [[ ! -x "$bundle/kapsession" ]]; then
    echo "install: no bundle at $bundle; build it first with: make bundle" >&2
    exit 1
fi
target="$prefix/lib/kapsession"
mkdir -p "$prefix/lib" "$prefix/bin" "$prefix/share/applications"
rm -rf "$target.new"
cp -a "$bundle" "$target.new"
rm -rf "$target"
mv "$target.new" "$target"
ln -sfn "$target/kapsession" "$prefix/bin/kapsession"
sed "s|^Exec=kapsession|Exec=$target/kapsession|" "$here/kapsession.desktop" \
    >"$prefix/share/applications/kapsession.desktop"
for png in "$repo"/assets/icons/kapsession-*.png; do
    size=${png##*-}
    size=${size%.png}
    mkdir -p "$prefix/share/icons/hicolor/${size}x${size}/apps"
    cp "$png" "$prefix/share/icons/hicolor/${size}x${size}/apps/kapsession.png"
done
mkdir -p "$prefix/share/icons/hicolor/scalable/apps"
cp "$repo/assets/icons/kapsession.svg" "$prefix/share/icons/hicolor/scalable/apps/kapsession.svg"
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$prefix/share/applications" || true
fi
echo "install: kapsession is in $target; run it from the menu or as $prefix/bin/kapsession"
