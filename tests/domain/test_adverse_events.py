"""What a nurse types as an adverse event, an intervention or a controlled-substance count is
checked before anything is stored, every problem named by its field (issue 16); the grading
uses FHIR R4's AdverseEvent codes one to one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapsession.domain.adverse_events import (
    COUNT_TOLERANCE_MG,
    DISPLAYS,
    FHIR_SYSTEMS,
    MAX_OXYGEN_L_MIN,
    EntryInvalid,
    Outcome,
    Seriousness,
    Severity,
    check_adverse_event,
    check_intervention,
    check_substance_count,
    witness_problem,
)
from kapsession.domain.clinic_rules import DEFAULT_RESCUE_MEDICATIONS

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _event(**changes: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "kind": "emesis", "other": "", "severity": "mild", "seriousness": "non-serious",
        "outcome": "ongoing", "onset_at": NOW - timedelta(minutes=5), "resolved_at": None,
        "actions": "", "now": NOW,
    }  # fmt: skip
    values.update(changes)
    return check_adverse_event(**values)  # type: ignore[arg-type]


def _fields(exc: pytest.ExceptionInfo[EntryInvalid]) -> list[str]:
    return [p.field for p in exc.value.problems]


def test_the_vocabularies_are_fhirs_adverse_event_codes() -> None:
    assert [s.value for s in Severity] == ["mild", "moderate", "severe"]
    assert [s.value for s in Seriousness] == ["serious", "non-serious"]
    assert [o.value for o in Outcome] == [
        "resolved", "recovering", "ongoing", "resolvedWithSequelae", "fatal", "unknown",
    ]  # fmt: skip
    assert FHIR_SYSTEMS[Outcome].endswith("/CodeSystem/adverse-event-outcome")
    assert all(code in DISPLAYS for enum in (Severity, Seriousness, Outcome) for code in enum)


def test_a_resolved_event_needs_its_resolution_time_and_a_time_needs_a_resolved_outcome() -> None:
    with pytest.raises(EntryInvalid) as missing:
        _event(outcome="resolved")
    assert _fields(missing) == ["resolved"]
    with pytest.raises(EntryInvalid) as ongoing:
        _event(resolved_at=NOW)
    assert _fields(ongoing) == ["outcome"]
    assert _event(outcome="resolved", resolved_at=NOW).resolved_at == NOW


def test_times_in_the_future_or_a_resolution_before_the_onset_are_refused() -> None:
    with pytest.raises(EntryInvalid) as future:
        _event(onset_at=NOW + timedelta(seconds=1))
    assert _fields(future) == ["onset"]
    with pytest.raises(EntryInvalid) as before:
        _event(outcome="resolved", resolved_at=NOW - timedelta(minutes=6))
    assert _fields(before) == ["resolved"]


def test_other_says_what_it_was_and_every_choice_is_made() -> None:
    with pytest.raises(EntryInvalid) as exc:
        _event(kind="other", severity="", seriousness="bad", outcome=None)
    assert _fields(exc) == ["other", "severity", "seriousness", "outcome"]
    assert _event(kind="other", other="headache").title == "Other: headache"


def test_oxygen_needs_a_flow_within_reach_and_a_device() -> None:
    def oxygen(flow: str, device: str = "nasal cannula"):  # type: ignore[no-untyped-def]
        return check_intervention(
            kind="oxygen", given_at=NOW, now=NOW, flow_text=flow, device=device
        )

    assert oxygen("2").title == "Oxygen 2 L/min nasal cannula"
    assert oxygen(f"{MAX_OXYGEN_L_MIN:g}").flow_l_min == MAX_OXYGEN_L_MIN
    for flow in ("0", f"{MAX_OXYGEN_L_MIN + 0.5:g}", "lots"):
        with pytest.raises(EntryInvalid) as exc:
            oxygen(flow)
        assert _fields(exc) == ["flow"], flow
    with pytest.raises(EntryInvalid) as no_device:
        oxygen("2", device=" ")
    assert _fields(no_device) == ["device"]


def test_a_rescue_medication_comes_from_the_clinics_list() -> None:
    def rescue(name: str, dose: str = "4", route: str = ""):  # type: ignore[no-untyped-def]
        return check_intervention(
            kind="rescue_medication", given_at=NOW, now=NOW,
            medications=DEFAULT_RESCUE_MEDICATIONS, medication=name, dose_text=dose, route=route,
        )  # fmt: skip

    given_ = rescue("ONDANSETRON")
    assert (given_.medication, given_.unit, given_.route) == ("ondansetron", "mg", "oral (ODT)")
    assert rescue("ondansetron", route="intravenous").route == "intravenous"
    with pytest.raises(EntryInvalid) as unknown:
        rescue("propofol")
    assert _fields(unknown) == ["medication"]
    with pytest.raises(EntryInvalid) as no_dose:
        rescue("ondansetron", dose="0")
    assert _fields(no_dose) == ["dose"]


def test_the_prescriber_called_says_who_and_what() -> None:
    with pytest.raises(EntryInvalid) as exc:
        check_intervention(kind="prescriber_called", given_at=NOW, now=NOW, text=" ")
    assert _fields(exc) == ["text"]


@given(
    given_mg=st.floats(min_value=0, max_value=1000, allow_nan=False),
    wasted_mg=st.floats(min_value=0, max_value=900, allow_nan=False),
    off=st.floats(min_value=-5, max_value=5, allow_nan=False),
)
def test_every_mg_drawn_is_given_or_wasted(given_mg: float, wasted_mg: float, off: float) -> None:
    drawn = given_mg + wasted_mg + off
    texts = (f"{drawn!r}", f"{given_mg!r}", f"{wasted_mg!r}")
    if drawn <= 0 or abs(off) > COUNT_TOLERANCE_MG + 1e-9:
        with pytest.raises(EntryInvalid):
            check_substance_count(*texts)
    elif abs(off) < COUNT_TOLERANCE_MG - 1e-9:
        count = check_substance_count(*texts)
        assert count.needs_witness == (wasted_mg > 0)


def test_a_waste_is_witnessed_by_someone_else() -> None:
    assert witness_problem("ana", None, 0.0) is None  # nothing wasted: no witness asked
    assert witness_problem("ana", None, 10.0) is not None
    assert witness_problem("ana", "ana", 10.0) is not None
    assert witness_problem("ana", "ben", 10.0) is None
