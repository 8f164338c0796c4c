#!/usr/bin/env bash
# `make bundle`: build the room-laptop bundle (build.spec) into dist/kapsession and say how
# big it is. The venv (with PyInstaller) and the system libVLC must be there: `make bundle`
# installs them first.
set -euo pipefail
cd "$(dirname "$0")/.."

venv_bin=${VENV:-.venv}/bin
started=$SECONDS
"$venv_bin/pyinstaller" --noconfirm --log-level=WARN --distpath dist --workpath build build.spec
bundle=dist/kapsession
size_bytes=$(find "$bundle" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
size_mb=$((size_bytes / 1000000))
echo "bundle: $bundle built in $((SECONDS - started)) s; ${size_mb} MB" \
    "($(find "$bundle" -type f | wc -l) files; target <= 200 MB)"
echo "bundle: libVLC plugins: $(find "$bundle/_internal/vlc/plugins" -name '*.so' | wc -l)," \
    "cache $(stat -c %s "$bundle/_internal/vlc/plugins/plugins.dat") bytes"
echo "bundle: run it with $bundle/kapsession (or install packaging/kapsession.desktop)"
if ((size_mb > 200)); then
    echo "bundle: over the 200 MB target" >&2
    exit 1
fi
