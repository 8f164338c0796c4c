#!/usr/bin/env bash
# Create (or repair) .venv and install kapsession into it, editable, with the dev tools.
#
#   scripts/venv.sh [STAMP]    STAMP: file touched on success (the Makefile's venv stamp)
#
# Environment: PYTHON (default python3), VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=${VENV:-.venv}
stamp=${1:-}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore

say() { echo "venv: $*" >&2; }

if ! command -v "$python" >/dev/null 2>&1; then
    say "'$python' was not found. Install Python 3.11 or newer (Debian/Ubuntu: python3)."
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "kapsession needs Python 3.11 or newer; '$python' is $("$python" -V 2>&1)."
    say "install a newer one and run again with it, e.g.: make run PYTHON=python3.11"
    exit 1
fi

# A venv left half-made (Debian without python3-venv creates one with no pip) or made by an
# interpreter that has since gone is thrown away and made again.
if [[ -e "$venv" ]] && ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    say "removing the unusable $venv"
    rm -rf "$venv"
fi

if [[ ! -e "$venv" ]]; then
    say "creating $venv with $("$python" -V 2>&1) ($(command -v "$python"))"
    if ! "$python" -m venv "$venv"; then
        rm -rf "$venv"
        say "could not create the virtualenv. On Debian/Ubuntu install the venv module:"
        say "    sudo apt-get install python3-venv     (or run: scripts/system-deps.sh run)"
        exit 1
    fi
fi

say "installing pip and kapsession[dev] into $venv (pip -qq: only errors are shown)"
"$venv/bin/python" -m pip install -qq --upgrade pip
"$venv/bin/python" -m pip install -qq -e '.[dev]'

if [[ -n "$stamp" ]]; then
    touch "$stamp"
fi
say "ready: $venv"
