#!/usr/bin/env bash
# Run a command with the system's libVLC hidden: inside a private mount namespace, every
# libvlc/libvlccore file the linker knows and every vlc plugin folder is covered by an empty
# file or folder, so only a bundled libVLC can load. Nothing outside the namespace changes.
#
#   unshare --mount --propagation private [--map-root-user] bash hide_system_libvlc.sh CMD...
set -euo pipefail
empty_dir=$(mktemp -d)
empty_file="$empty_dir/.empty"
: >"$empty_file"
shopt -s nullglob
for lib in /usr/lib/*/libvlc.so* /usr/lib/*/libvlccore.so* /usr/lib/libvlc.so* \
    /usr/lib/libvlccore.so* /usr/local/lib/libvlc*.so*; do
    mount --bind "$empty_file" "$lib"
done
for plugins in /usr/lib/*/vlc /usr/lib/vlc /usr/local/lib/vlc; do
    [[ -d "$plugins" ]] && mount --bind "$empty_dir" "$plugins"
done
exec "$@"
