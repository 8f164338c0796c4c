"""The shipped protocol files changed in issue 16 (dose limits, the booster's BP age, the time
after the last dose, sedation and dissociation in the checklist), so each is version 2; the
texts sessions stored before it (version 1, kept in protocols_before_16/ exactly as shipped
then) still read, with the issue's defaults, and time the session as they did."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kapsession.domain.protocol_file import load_protocol, parse_protocol
from kapsession.domain.timeline import compute_timeline

SHIPPED = Path(__file__).parents[2] / "assets" / "protocols"
BEFORE_16 = Path(__file__).parent / "protocols_before_16"
# the dosing protocols (issue 17 added templates of sessions without a dose, none before 16)
FILES = sorted(p.name for p in SHIPPED.glob("*.toml") if load_protocol(p).gives_dose)
START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def test_every_shipped_protocol_has_its_text_from_before_issue_16() -> None:
    assert sorted(p.name for p in BEFORE_16.glob("*.toml")) == FILES


@pytest.mark.parametrize("name", FILES)
def test_a_protocol_changed_in_issue_16_is_version_2(name: str) -> None:
    # Given the file as shipped now and as sessions stored it before issue 16
    text = (SHIPPED / name).read_text(encoding="utf-8")
    old = (BEFORE_16 / name).read_text(encoding="utf-8")
    now, before = load_protocol(SHIPPED / name), parse_protocol(old, "snapshot")
    # Then its sections changed (keys issue 16 added), and so did its version
    for added in ("[dosing.limits]", "min_minutes_after_last_dose", "dissociation-resolved"):
        assert added in text and added not in old
    assert (before.version, now.version) == (1, 2)
    assert (before.key, before.name) == (now.key, now.name)


@pytest.mark.parametrize("name", FILES)
def test_a_snapshot_from_before_issue_16_still_reads_with_the_defaults(name: str) -> None:
    # When a session's stored version-1 text is read
    text = (BEFORE_16 / name).read_text(encoding="utf-8")
    before = parse_protocol(text, "snapshot")
    now = load_protocol(SHIPPED / name)
    # Then it waits the default 60 minutes after the last dose and asks the two items
    assert before.discharge.min_minutes_after_last_dose == 60
    keys = [item.key for item in before.discharge.checklist]
    assert {"sedation-resolved", "dissociation-resolved"} <= set(keys)
    # And its minimum after the first dose, its hold-dose limits and its booster's BP age are
    # the ones it was stored with (the last one the default, 15)
    assert (
        before.discharge.min_minutes_after_first_dose == now.discharge.min_minutes_after_first_dose
    )
    assert before.hold_dose.block_systolic_above == now.hold_dose.block_systolic_above
    assert before.hold_dose.booster_bp_max_age_min == 15
    # And its session is timed as before: the same phases at the same offsets
    dose = START.replace(minute=40)
    then = compute_timeline(before, started_at=START, now=dose, first_dose_at=dose)
    again = compute_timeline(now, started_at=START, now=dose, first_dose_at=dose)
    assert [(p.spec.key, p.begins_at, p.ends_at) for p in then.phases] == [
        (p.spec.key, p.begins_at, p.ends_at) for p in again.phases
    ]
