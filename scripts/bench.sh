#!/usr/bin/env bash
# Run every bench_*.py in a folder (default benchmarks/) with the venv's python, then print one
# summary of every target's verdict. Exit 1 only when a gating target failed.
#
#   scripts/bench.sh [FOLDER]
#
# Each benchmark ends with one line per target, `verdict: <target> PASS|FAIL <figure> (target
# <required>)` (benchmarks/verdicts.py). Which targets gate is listed in FOLDER/targets.txt; a
# listed target without a verdict line (its script crashed) counts as failed.
set -uo pipefail
folder=
if [[ $# -gt 0 ]]; then
    folder=$(cd "$1" && pwd) || exit 2
fi
cd "$(dirname "$0")/.." || exit 1
folder=${folder:-benchmarks}

python=${VENV:-.venv}/bin/python
if [[ ! -x "$python" ]]; then
    echo "bench: no virtualenv; run 'make venv' first." >&2
    exit 1
fi
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
export PYTHONUNBUFFERED=1 # the output is teed: keep it live

if [[ ! -f "$folder/targets.txt" ]]; then
    echo "bench: no $folder/targets.txt (the list of targets and which of them gate)." >&2
    exit 2
fi

shopt -s nullglob
scripts=("$folder"/bench_*.py)
if [[ ${#scripts[@]} -eq 0 ]]; then
    echo "bench: no $folder/bench_*.py yet; nothing to run."
    exit 0
fi

results=$(mktemp -d "${TMPDIR:-/tmp}/kapsession-bench-results.XXXXXX") || exit 1
trap 'rm -rf "$results"' EXIT

number=0
for script in "${scripts[@]}"; do
    number=$((number + 1))
    kept=$results/$(printf '%03d' "$number")-$(basename "$script")
    echo "==> $python $script"
    "$python" "$script" | tee "$kept.log"
    echo "${PIPESTATUS[0]}" >"$kept.status"
    echo
done

"$python" benchmarks/verdicts.py "$folder/targets.txt" "$results"
