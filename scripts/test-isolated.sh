#!/usr/bin/env bash
# Run every test file alone, once, each in a fresh pytest process: a file that passes in the
# whole suite but fails here leans on something an earlier file left behind.
#
#   scripts/test-isolated.sh [PATH...]    PATH: test files or folders (default: tests)
#
# Prints PASS or FAIL and the time for each file, then a summary; exits 1 if any file failed
# alone (pytest's "no tests ran" counts as a failure). One pytest-randomly seed is used for
# every file and printed (RANDOMLY_SEED=N chooses it), so a failure is reproduced with the
# command shown at the end. The output of a failing file is kept in the folder named there.
#
# PostgreSQL as in scripts/check.sh: scripts/test-postgres.sh is started and stopped again on
# any exit, unless KAPSESSION_TEST_POSTGRES_URL is already set. Not part of CI (the whole suite
# file by file takes much longer than one run).
set -euo pipefail
cd "$(dirname "$0")/.."

venv_bin=${VENV:-.venv}/bin
if [[ ! -x "$venv_bin/python" ]]; then
    echo "test-isolated: no virtualenv at ${venv_bin%/bin}; run 'make venv' first." >&2
    exit 1
fi
export PATH="$PWD/$venv_bin:$PATH"

paths=("$@")
[[ ${#paths[@]} -gt 0 ]] || paths=(tests)
mapfile -t files < <(find "${paths[@]}" -type f -name 'test_*.py' | sort)
if [[ ${#files[@]} -eq 0 ]]; then
    echo "test-isolated: no test files under: ${paths[*]}" >&2
    exit 1
fi

if [[ -z "${KAPSESSION_TEST_POSTGRES_URL:-}" ]]; then
    echo "==> scripts/test-postgres.sh start"
    trap 'bash scripts/test-postgres.sh stop || true' EXIT
    bash scripts/test-postgres.sh start
    KAPSESSION_TEST_POSTGRES_URL=$(bash scripts/test-postgres.sh url)
    export KAPSESSION_TEST_POSTGRES_URL
fi
echo "    KAPSESSION_TEST_POSTGRES_URL=$KAPSESSION_TEST_POSTGRES_URL"
export QT_QPA_PLATFORM=offscreen

seed=${RANDOMLY_SEED:-$((RANDOM * 32768 + RANDOM))}
logs=$(mktemp -d "${TMPDIR:-/tmp}/kapsession-isolated.XXXXXX")
echo "==> ${#files[@]} test files, each alone (--randomly-seed=$seed)"

failed=()
suite_start=$EPOCHREALTIME
for file in "${files[@]}"; do
    log="$logs/${file//\//_}.log"
    start=$EPOCHREALTIME
    status=0
    python -m pytest "$file" -q -p no:cacheprovider -p randomly --randomly-seed="$seed" \
        >"$log" 2>&1 || status=$?
    seconds=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if [[ $status -eq 0 ]]; then
        printf 'PASS %7ss  %s\n' "$seconds" "$file"
        rm -f "$log"
    else
        why="pytest exit $status"
        [[ $status -ne 5 ]] || why="$why: no tests ran"
        printf 'FAIL %7ss  %s  (%s)\n' "$seconds" "$file" "$why"
        grep -E '^(FAILED|ERROR) ' "$log" | head -n 10 | sed 's/^/         /' || true
        failed+=("$file")
    fi
done
total=$(awk -v a="$suite_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

echo "==> ${#files[@]} files in ${total}s: $((${#files[@]} - ${#failed[@]})) passed alone," \
    "${#failed[@]} failed alone"
if [[ ${#failed[@]} -eq 0 ]]; then
    rmdir "$logs"
    exit 0
fi
echo "    their output: $logs"
echo "    again, one of them: QT_QPA_PLATFORM=offscreen $venv_bin/python -m pytest FILE" \
    "-p randomly --randomly-seed=$seed"
exit 1
