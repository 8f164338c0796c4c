#!/usr/bin/env bash
# The checks behind `make lint` and `make test`, in order, stopping at the first failure.
#
#   scripts/check.sh lint                  ruff check, ruff format --check, mypy, lint-imports
#   scripts/check.sh test [PYTEST ARGS]    the same, then pytest against a private PostgreSQL
#
# `test` starts scripts/test-postgres.sh and stops it again on any exit, unless
# KAPSESSION_TEST_POSTGRES_URL is already set (then that server is used). pytest's exit 5
# ("no tests ran") counts as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

venv_bin=${VENV:-.venv}/bin
mode=${1:-}
shift || true
case "$mode" in lint | test) ;; *)
    echo "usage: $0 lint|test [pytest args]" >&2
    exit 2
    ;;
esac

if [[ ! -x "$venv_bin/python" ]]; then
    echo "check: no virtualenv at ${venv_bin%/bin}; run 'make venv' first." >&2
    exit 1
fi
export PATH="$PWD/$venv_bin:$PATH"

step() {
    echo "==> $*"
    "$@"
}

step ruff check .
step ruff format --check .
step mypy kapsession
step lint-imports

[[ "$mode" == test ]] || exit 0

if [[ -z "${KAPSESSION_TEST_POSTGRES_URL:-}" ]]; then
    echo "==> scripts/test-postgres.sh start"
    trap 'bash scripts/test-postgres.sh stop || true' EXIT
    bash scripts/test-postgres.sh start
    KAPSESSION_TEST_POSTGRES_URL=$(bash scripts/test-postgres.sh url)
    export KAPSESSION_TEST_POSTGRES_URL
fi
echo "    KAPSESSION_TEST_POSTGRES_URL=$KAPSESSION_TEST_POSTGRES_URL"

export QT_QPA_PLATFORM=offscreen
status=0
step python -m pytest "$@" || status=$?
if [[ $status -eq 5 ]]; then
    echo "check: pytest collected no tests; that counts as a failure." >&2
    exit 1
fi
exit "$status"
