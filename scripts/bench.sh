#!/usr/bin/env bash
# Run every benchmarks/bench_*.py with the venv's python; fail when any of them fails.
# Each script prints its own ratios and exits non-zero when it misses its target.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

python=${VENV:-.venv}/bin/python
if [[ ! -x "$python" ]]; then
    echo "bench: no virtualenv; run 'make venv' first." >&2
    exit 1
fi
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}

shopt -s nullglob
scripts=(benchmarks/bench_*.py)
if [[ ${#scripts[@]} -eq 0 ]]; then
    echo "bench: no benchmarks/bench_*.py yet; nothing to run."
    exit 0
fi

failed=()
for script in "${scripts[@]}"; do
    echo "==> $python $script"
    if ! "$python" "$script"; then
        failed+=("$script")
    fi
done

echo
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "bench: ${#failed[@]} of ${#scripts[@]} failed: ${failed[*]}" >&2
    exit 1
fi
echo "bench: all ${#scripts[@]} passed"
