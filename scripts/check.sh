#!/usr/bin/env bash
# The checks behind `make lint` and `make test`, in order, stopping at the first failure.
#
#   scripts/check.sh lint                  ruff check, ruff format --check, mypy, lint-imports
#   scripts/check.sh test [PYTEST ARGS]    the same, then pytest against a private PostgreSQL,
#                                          in KAPSESSION_TEST_WORKERS pytest-xdist workers (2;
#                                          auto: one per core; 0: this one process)
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
# Two pytest-xdist workers by default (KAPSESSION_TEST_WORKERS=N, auto for one per core, 0 for
# one process), each test file kept on one worker (a file's module fixtures, such as the bundle
# build, are made once). The whole run has a time limit (KAPSESSION_TEST_TIME_LIMIT_S, an hour):
# a worker that dies can leave xdist waiting for ever, and a run that never ends must fail, not
# hang (--foreground: Ctrl+C in a terminal still reaches pytest). The slowest tests are listed
# at the end.
status=0
step timeout --foreground --kill-after=60 "${KAPSESSION_TEST_TIME_LIMIT_S:-3600}" \
    python -m pytest -n "${KAPSESSION_TEST_WORKERS:-2}" --dist loadfile --durations=25 "$@" ||
    status=$?
if [[ $status -eq 124 || $status -eq 137 ]]; then
    echo "check: pytest did not finish within ${KAPSESSION_TEST_TIME_LIMIT_S:-3600} s; stopped." >&2
    exit 1
fi
if [[ $status -eq 5 ]]; then
    echo "check: pytest collected no tests; that counts as a failure." >&2
    exit 1
fi
exit "$status"
