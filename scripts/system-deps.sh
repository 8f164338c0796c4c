#!/usr/bin/env bash
# Install the Debian/Ubuntu packages kapsession needs, and nothing when they are all there.
#
#   scripts/system-deps.sh run    libVLC, Qt's X11 libraries, PulseAudio client, fonts
#   scripts/system-deps.sh bundle run + what `make bundle` copies into the bundle (Wayland libraries)
#                                 binutils (PyInstaller's objdump) and Debian's libpython3.x
#   scripts/system-deps.sh test   bundle + pulseaudio, poppler-utils, xvfb, postgresql, sox, imagemagick,
#                                 desktop-file-utils, libfaketime, strace, xdotool, x11-utils
#   scripts/system-deps.sh ci     test + debootstrap (the fresh-root check in .ci/run)
#
# Installs with apt-get as root, with `sudo -n` when passwordless sudo works, or with `sudo`
# when a terminal is attached; otherwise prints the exact command and exits 1.
# Environment:
#   KAPSESSION_SKIP_SYSTEM_DEPS=1   do nothing (you manage system packages yourself)
#   KAPSESSION_ASSUME_MISSING="a b" treat these packages as missing (to test this script)
#   KAPSESSION_NO_SUDO=1            never call sudo (to test this script)
#   PYTHON                          the interpreter the venv is made with (default python3)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

usage() {
    echo "usage: $0 run|bundle|test|ci" >&2
    exit 2
}
[[ $# -eq 1 ]] || usage
mode=$1
case "$mode" in run | bundle | test | ci) ;; *) usage ;; esac

if [[ "${KAPSESSION_SKIP_SYSTEM_DEPS:-}" == 1 ]]; then
    exit 0
fi

run_pkgs=(
    # libVLC plays the session music.
    libvlc5 libvlc-bin vlc-plugin-base
    # Qt (from the PySide6 wheels): QtCore needs GLib; the xcb platform plugin needs these.
    libglib2.0-0 libxkbcommon0
    libxcb-cursor0 libxcb-icccm4 libxkbcommon-x11-0 libxcb-keysyms1 libxcb-image0
    libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
    libegl1 libgl1 libfontconfig1 libdbus-1-3
    # Qt Multimedia's FFmpeg backend (sound effects) links libXrandr.
    libxrandr2
    # Audio output and a font that is always there; `doctor` asks the sound server with pactl.
    libpulse0 pulseaudio-utils fonts-dejavu-core
)
# Qt's Wayland platform plugin links these; the bundle carries them so it runs on a Wayland desktop.
# PyInstaller reads the libraries it bundles with objdump (binutils).
bundle_pkgs=(libwayland-cursor0 libwayland-egl1 binutils)
test_pkgs=(pulseaudio poppler-utils xvfb postgresql sox imagemagick desktop-file-utils
    # The clock and durability tests run a child under libfaketime and strace; the X11 smoke
    # test drives the app with xdotool and finds its windows with xwininfo and xprop.
    libfaketime strace xdotool x11-utils)

wanted=("${run_pkgs[@]}")
if [[ "$mode" != run ]]; then
    wanted+=("${bundle_pkgs[@]}")
fi
if [[ "$mode" == test || "$mode" == ci ]]; then
    wanted+=("${test_pkgs[@]}")
fi
# CI may also build a clean Debian root for the short fresh-machine check (scripts/test-fresh.sh).
if [[ "$mode" == ci ]]; then
    wanted+=(debootstrap)
fi

# The venv needs `venv` and `ensurepip`; Debian ships ensurepip in python3-venv. A pyenv or
# self-built python usually has both, so detect rather than assume.
python=${PYTHON:-python3}
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    python_path=$(command -v "$python" || true)
    case "$(readlink -f "${python_path:-/nonexistent}")" in
        /usr/bin/*) wanted=(python3-venv "${wanted[@]}") ;;
        *)
            echo "system-deps: '$python' (${python_path:-not found}) cannot make a virtualenv" \
                "(no venv/ensurepip module). Install Debian's python3 and python3-venv, or" \
                "point PYTHON at a Python 3.11+ that has them." >&2
            ;;
    esac
fi

# PyInstaller bundles the interpreter's shared library; Debian ships it apart (libpython3.11).
if [[ "$mode" != run ]]; then
    python_path=$(command -v "$python" || true)
    case "$(readlink -f "${python_path:-/nonexistent}")" in
        /usr/bin/*)
            version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
            wanted+=("libpython$version")
            ;;
    esac
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: this is not a Debian/Ubuntu system, so nothing was installed." >&2
    echo "system-deps: install the equivalents of: ${wanted[*]}" >&2
    exit 0
fi

# Names that are installed, plus the names they provide (Ubuntu's t64 renames keep the old
# name as a Provides), in one dpkg-query call: this is the whole cost of a no-op run.
declare -A have=()
while IFS='|' read -r status pkg provides; do
    [[ "$status" == ?i* ]] || continue
    have[$pkg]=1
    if [[ -n "$provides" ]]; then
        IFS=',' read -ra provided <<<"$provides"
        for p in "${provided[@]}"; do
            p=${p# }
            have[${p%% *}]=1
        done
    fi
done < <(dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Provides}\n' 2>/dev/null)

assume_missing=${KAPSESSION_ASSUME_MISSING:-}
for p in ${assume_missing//,/ }; do
    unset "have[$p]"
done

missing=()
for p in "${wanted[@]}"; do
    [[ -n "${have[$p]:-}" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    [[ "$mode" == ci ]] && echo "system-deps: all ${#wanted[@]} $mode packages are installed"
    exit 0
fi

install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
install_args=(install -y --no-install-recommends -o DPkg::Lock::Timeout=120 "${missing[@]}")
echo "system-deps: missing Debian packages for '$mode': ${missing[*]}" >&2

# How to become root: nothing, sudo -n (passwordless), or sudo asking for a password.
as_root=()
if [[ $EUID -ne 0 ]]; then
    if [[ "${KAPSESSION_NO_SUDO:-}" != 1 ]] && command -v sudo >/dev/null 2>&1 \
        && sudo -n true >/dev/null 2>&1; then
        as_root=(sudo -n env DEBIAN_FRONTEND=noninteractive)
    elif [[ "${KAPSESSION_NO_SUDO:-}" != 1 ]] && command -v sudo >/dev/null 2>&1 \
        && [[ -t 0 ]]; then
        echo "system-deps: sudo will ask for your password to install them." >&2
        as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
    else
        echo "system-deps: cannot install them: not root and no usable sudo." >&2
        if command -v sudo >/dev/null 2>&1; then
            echo "system-deps: run this, then try again:" >&2
            printf '\n    sudo apt-get update && sudo %s\n\n' "$install_cmd" >&2
        else
            echo "system-deps: run this as root, then try again:" >&2
            printf '\n    apt-get update && %s\n\n' "$install_cmd" >&2
        fi
        exit 1
    fi
fi

# Refresh the package lists only when apt does not know a missing package (fresh machine,
# empty or old lists); a failed install gets one more try after a refresh (stale mirrors).
lists_known() {
    local candidate
    for p in "${missing[@]}"; do
        candidate=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
        [[ -n "$candidate" && "$candidate" != "(none)" ]] || return 1
    done
}
apt_update() {
    echo "system-deps: apt-get update" >&2
    "${as_root[@]}" apt-get update -q
}

updated=0
if ! lists_known; then
    apt_update
    updated=1
fi
echo "system-deps: $install_cmd" >&2
if ! "${as_root[@]}" apt-get "${install_args[@]}"; then
    if [[ $updated -eq 1 ]]; then
        echo "system-deps: apt-get install failed; see the messages above." >&2
        exit 1
    fi
    apt_update
    "${as_root[@]}" apt-get "${install_args[@]}" || {
        echo "system-deps: apt-get install failed; see the messages above." >&2
        exit 1
    }
fi
echo "system-deps: installed ${missing[*]}" >&2
