"""How long one Argon2id hash of a PIN takes here, at the app's parameters (issue 18).

An attacker holding the database file tries every 6-digit PIN: 10^6 hashes. On this machine's
cores, each working on its own hash (`parallelism` is 1), that takes 10^6 x t / cores seconds;
the parameters are meant to make it more than a day (t > 0.173 s per hash on one core, 2 cores).

    .venv/bin/python scripts/measure_pin_hash.py
"""

from __future__ import annotations

import os
import statistics
import time

from kapsession.services.pins import PIN_HASH_PARAMETERS, pin_hasher

DAY_S = 86_400
SEARCH = 10**6  # every 6-digit PIN


def main() -> None:
    hasher = pin_hasher()
    stored = hasher.hash("482916")
    times = []
    for _ in range(7):
        start = time.perf_counter()
        hasher.verify(stored, "482916")
        times.append(time.perf_counter() - start)
    per_hash = statistics.median(times)
    cores = os.cpu_count() or 1
    search_s = SEARCH * per_hash / cores
    print(f"parameters: {PIN_HASH_PARAMETERS}")
    print(f"one hash: median {per_hash:.3f} s (min {min(times):.3f}, max {max(times):.3f})")
    print(
        f"every 6-digit PIN on {cores} cores: {search_s:,.0f} s = {search_s / DAY_S:.2f} days "
        f"({'more' if search_s > DAY_S else 'LESS'} than a day)"
    )
    for digits in (4, 8):
        print(f"every {digits}-digit PIN: {10**digits * per_hash / cores / DAY_S:,.2f} days")


if __name__ == "__main__":
    main()
