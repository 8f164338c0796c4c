#!/usr/bin/env bash
# The README's two commands on a fresh Debian 12: a clean root made with debootstrap (minbase
# plus python3, git, make and sudo, nothing else), the committed project cloned into it, then
# `make run` (to a shown window) and `make test` run there as root with CI=true.
#
#   scripts/test-fresh.sh full     make run, then the whole `make test` (about 20 minutes);
#                                  when it passes, .ci/fresh-proven records the set-up it proved
#   scripts/test-fresh.sh short    make run, then `make test` on the smoke subset (.ci/run)
#   scripts/test-fresh.sh proven   exit 0 when the committed set-up files (scripts/, Makefile,
#                                  pyproject.toml, .ci/run) are those .ci/fresh-proven records
#
# Needs root (debootstrap, chroot, mounts) and the debootstrap package. The root reaches the
# package registries through the host's apt sources, pip configuration and CA certificates,
# copied in; nothing else of the host is. Mounts (/proc, /dev, /dev/shm) live in a private
# mount namespace, so they vanish with the script. The root is made anew on every run.
# Environment:
#   KAPSESSION_FRESH_DIR   where the root is made (default /var/tmp/kapsession-fresh)
#   KAPSESSION_FRESH_KEEP=1  leave the root in place afterwards (to look inside)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in full | short | proven) ;; *)
    echo "usage: $0 full|short|proven" >&2
    exit 2
    ;;
esac

say() { echo "test-fresh: $*" >&2; }

# What a fresh machine's set-up depends on, as committed: one hash of those files' blobs.
setup_paths=(scripts Makefile pyproject.toml .ci/run)
stamp=.ci/fresh-proven
setup_hash() {
    git ls-tree -r "${1:-HEAD}" -- "${setup_paths[@]}" | git hash-object --stdin
}
if [[ "$mode" == proven ]]; then
    if [[ -r "$stamp" ]] && [[ "$(awk '/^setup / {print $2}' "$stamp")" == "$(setup_hash)" ]]; then
        say "the set-up files are those proven on a fresh root: $(awk '/^proven / {$1=""; print}' "$stamp")"
        exit 0
    fi
    say "the set-up files changed since they were last proven on a fresh root"
    exit 1
fi

if [[ $EUID -ne 0 ]]; then
    say "needs root (debootstrap, chroot and mounts); run it with sudo."
    exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    apt-get install -y -q --no-install-recommends debootstrap >/dev/null \
        || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends debootstrap >/dev/null; } \
        || { say "could not install debootstrap: apt-get install debootstrap"; exit 1; }
fi

# The smoke subset: what broke on a fresh machine before (the bundle needs objdump, Debian's
# own Python at a closed pipe), the real libVLC and PulseAudio, a real PostgreSQL, the GUI and
# a PDF read back with poppler.
smoke_tests=(
    tests/cli/test_cli_broken_pipe.py
    tests/cli/test_cli_commands.py
    tests/audio/test_sound_check.py
    tests/storage/test_storage_sessions.py
    tests/ui/test_ui_live_screen.py
    tests/export/test_export_pdf.py
    tests/bundle/test_bundle_smoke.py
)

# The Debian mirror and suite the host uses (deb822 sources, the stanza that is not security).
mirror=""
suite=""
if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    read -r mirror suite < <(awk '
        /^URIs:/ { uri = $2 }
        /^Suites:/ { s = $2 }
        /^$/ { if (uri != "" && uri !~ /security/) { print uri, s; found = 1; exit } uri = ""; s = "" }
        END { if (!found && uri != "" && uri !~ /security/) print uri, s }
    ' /etc/apt/sources.list.d/debian.sources)
fi
mirror=${mirror:-http://deb.debian.org/debian}
suite=${suite:-bookworm}

base=${KAPSESSION_FRESH_DIR:-/var/tmp/kapsession-fresh}
root=$base/root
project=/root/kapsession
log=$base/debootstrap.log

cleanup() {
    if [[ "${KAPSESSION_FRESH_KEEP:-}" != 1 ]]; then
        rm -rf "$root"
    fi
}
trap cleanup EXIT

mkdir -p "$base"
rm -rf "$root"
started=$SECONDS
say "debootstrap --variant=minbase $suite from $mirror into $root"
if ! debootstrap --variant=minbase --include=python3,git,make,sudo "$suite" "$root" "$mirror" \
    >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    say "debootstrap failed; the whole log is in $log"
    exit 1
fi
say "clean root ready after $((SECONDS - started)) s"

# What reaches the registries: apt sources, pip's configuration, CA certificates, DNS.
# (A host with one-line sources only: the root keeps debootstrap's own list of the mirror.)
if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    rm -f "$root/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
fi
[[ -r /etc/pip.conf ]] && cp /etc/pip.conf "$root/etc/pip.conf"
mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
# Installing ca-certificates in the root rewrites that bundle from its own sources; a copy here
# is one of them, so the host's certificates stay trusted after it.
cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/host-registries.crt"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# The committed project, as a fresh clone would have it.
git clone --quiet --no-hardlinks "$PWD" "$root$project"
say "cloned $(git -C "$root$project" log -1 --format='%h %s' | cut -c1-72)"

if [[ "$mode" == full ]]; then
    test_args=""
else
    test_args="-q ${smoke_tests[*]}"
fi

# Inside: a root shell of a fresh machine (no host environment), CI=true so that a missing
# component fails instead of being skipped. Each step's time is printed for the README.
inside=$(
    cat <<EOF
set -euo pipefail
cd $project
t0=\$SECONDS
KAPSESSION_STARTUP_PROBE=shown QT_QPA_PLATFORM=offscreen make run
echo "test-fresh: make run reached a shown window after \$((SECONDS - t0)) s" >&2
t1=\$SECONDS
make test PYTEST_ARGS="$test_args"
echo "test-fresh: make test ($mode) passed after \$((SECONDS - t1)) s" >&2
EOF
)

status=0
unshare --mount --propagation private bash -euo pipefail -c '
    root=$1
    shift
    # The root a mount point of its own, as / is on a real machine (unshare --propagation
    # private, used by the bundle test, refuses a / that is not one).
    mount --bind "$root" "$root"
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --make-rprivate "$root/dev"
    mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
    exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb CI=true \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "$1"
' fresh "$root" "$inside" || status=$?

if [[ $status -eq 0 ]]; then
    say "$mode: passed on a fresh Debian root in $((SECONDS - started)) s in all"
    if [[ "$mode" == full ]]; then
        commit=$(git -C "$root$project" rev-parse HEAD)
        {
            echo "# Written by scripts/test-fresh.sh full after it passed; commit it. .ci/run"
            echo "# runs the short form on a fresh root whenever the set-up files differ from these."
            echo "setup $(setup_hash "$commit")"
            echo "proven $(date -u +%Y-%m-%d) at ${commit:0:12}: root, make run and make test in $((SECONDS - started)) s"
        } >"$stamp"
        say "wrote $stamp"
    fi
else
    say "$mode: FAILED (exit $status) after $((SECONDS - started)) s"
fi
exit "$status"
