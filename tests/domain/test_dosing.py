"""Doses in mg and mg/kg, esketamine devices and the REMS clock, spit and booster timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapsession.domain.dosing import (
    PLAUSIBLE_DOSE_MG,
    BoosterStatus,
    DoseInput,
    DoseInvalid,
    DoseUnit,
    IntranasalPlan,
    booster_window_state,
    devices_for_dose,
    mg_from_mg_per_kg,
    mg_per_kg_from_mg,
    parse_dose_input,
    parse_weight_kg,
    rems_monitoring_ends_at,
    spit_due_at,
)
from kapsession.domain.protocol import Anchor, Offset, Route
from kapsession.domain.protocol_file import load_protocol
from kapsession.domain.vitals import FieldProblem

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"
T0 = datetime(2026, 11, 26, 14, 40, tzinfo=UTC)
SL, IM, IV, IN = Route.SUBLINGUAL, Route.INTRAMUSCULAR, Route.INTRAVENOUS, Route.INTRANASAL


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def problems_of(
    dose: str, route: Route = SL, weight: str = "", **kw: DoseUnit
) -> list[FieldProblem]:
    with pytest.raises(DoseInvalid) as caught:
        parse_dose_input(dose, route=route, weight_text=weight, **kw)
    return caught.value.problems


# --- conversions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mg_per_kg", "weight_kg", "mg"),
    [(0.5, 70, 35.0), (0.5, 73.3, 36.7), (0.75, 80.2, 60.2), (0.25, 70.2, 17.6), (2.0, 150, 300.0)],
)
def test_mg_per_kg_becomes_mg_rounded_half_up_to_a_tenth(
    mg_per_kg: float, weight_kg: float, mg: float
) -> None:
    # 0.5 × 73.3 = 36.65 → 36.7 (half up, not to even); 0.25 × 70.2 = 17.55 → 17.6
    assert mg_from_mg_per_kg(mg_per_kg, weight_kg) == mg


@pytest.mark.parametrize(
    ("mg", "weight_kg", "mg_per_kg"),
    [(100, 70, 1.43), (35, 70, 0.5), (150, 80, 1.88), (1, 3, 0.33)],
)
def test_mg_becomes_mg_per_kg_rounded_half_up_to_a_hundredth(
    mg: float, weight_kg: float, mg_per_kg: float
) -> None:
    assert mg_per_kg_from_mg(mg, weight_kg) == mg_per_kg


# --- parsing a dose ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dose", "route", "weight", "unit", "expected"),
    [
        ("100", SL, "", None, DoseInput(SL, 100.0, DoseUnit.MG, 100.0)),
        ("100 mg", SL, "70", None, DoseInput(SL, 100.0, DoseUnit.MG, 100.0, 70.0)),
        ("200MG", SL, "", None, DoseInput(SL, 200.0, DoseUnit.MG, 200.0)),
        ("0.5 mg/kg", IV, "73,3 kg", None, DoseInput(IV, 0.5, DoseUnit.MG_PER_KG, 36.7, 73.3)),
        ("0,75mg/kg", IM, "80", None, DoseInput(IM, 0.75, DoseUnit.MG_PER_KG, 60.0, 80.0)),
        ("0.5", IV, "70", DoseUnit.MG_PER_KG, DoseInput(IV, 0.5, DoseUnit.MG_PER_KG, 35.0, 70.0)),
        ("56 mg", IN, "", None, DoseInput(IN, 56.0, DoseUnit.MG, 56.0)),
        ("72.25", SL, "", None, DoseInput(SL, 72.25, DoseUnit.MG, 72.25)),
    ],
)
def test_a_typed_dose_is_read_with_its_unit(
    dose: str, route: Route, weight: str, unit: DoseUnit | None, expected: DoseInput
) -> None:
    assert parse_dose_input(dose, route=route, weight_text=weight, unit=unit) == expected


@pytest.mark.parametrize(
    ("dose", "route", "weight", "shown"),
    [
        ("100 mg", SL, "70", "100 mg (1.43 mg/kg at 70 kg)"),
        ("0.5 mg/kg", IV, "73.3", "36.7 mg (0.5 mg/kg at 73.3 kg)"),
        ("100 mg", SL, "", "100 mg"),
    ],
)
def test_a_dose_is_shown_in_both_units_when_the_weight_is_known(
    dose: str, route: Route, weight: str, shown: str
) -> None:
    assert parse_dose_input(dose, route=route, weight_text=weight).describe() == shown


@pytest.mark.parametrize(
    ("dose", "route", "weight", "problems"),
    [
        ("", SL, "", [("dose", "Enter the dose, e.g. 100 mg or 0.5 mg/kg.")]),
        ("lots", SL, "", [("dose", "Dose must be a number of mg or mg/kg, e.g. 100 mg or "
                                   "0.5 mg/kg, not 'lots'.")]),
        ("-5 mg", SL, "", [("dose", "Dose must be a number of mg or mg/kg, e.g. 100 mg or "
                                    "0.5 mg/kg, not '-5 mg'.")]),
        ("2000 mg", SL, "", [("dose", "Dose 2000 mg is outside 1–1000 mg for sublingual dosing; "
                                      "check the number.")]),
        ("0.5", IV, "", [("dose", "Dose 0.5 mg is outside 1–700 mg for intravenous dosing; "
                                  "check the number. Did you mean 0.5 mg/kg?")]),
        ("560 mg", IN, "", [("dose", "Dose 560 mg is outside 1–250 mg for intranasal dosing; "
                                     "check the number.")]),
        ("0.5 mg/kg", IV, "", [("weight_kg", "A dose in mg/kg needs the client's weight in kg.")]),
        ("15 mg/kg", IM, "70", [("dose", "Dose 15 mg/kg is outside 0.01–10 mg/kg; check the "
                                         "number and the unit.")]),
        ("100 mg", SL, "400", [("weight_kg", "Weight 400 kg is outside 20–300 kg; check it (is "
                                             "it in pounds?).")]),
        ("100 mg", SL, "154 lb", [("weight_kg", "Weight must be in kg; 154 lb is 69.9 kg. Enter "
                                                "the weight in kg.")]),
        ("100 mg", SL, "heavy", [("weight_kg", "Weight must be a number of kg, not 'heavy'.")]),
        ("100 mg", SL, "1" + "0" * 27, [("weight_kg", "Weight 1e+27 kg is outside 20–300 kg; "
                                                     "check it (is it in pounds?).")]),
        ("9" * 30, SL, "", [("dose", "Dose 1e+30 mg is outside 1–1000 mg for sublingual "
                                     "dosing; check the number.")]),
        ("9 mg/kg", IV, "100", [("dose", "9 mg/kg at 100 kg is 900 mg, outside 1–700 mg for "
                                         "intravenous dosing; check the dose and weight.")]),
        ("abc", SL, "19", [("weight_kg", "Weight 19 kg is outside 20–300 kg; check it (is it in "
                                         "pounds?)."),
                           ("dose", "Dose must be a number of mg or mg/kg, e.g. 100 mg or "
                                    "0.5 mg/kg, not 'abc'.")]),
    ],
)  # fmt: skip
def test_an_impossible_dose_or_weight_is_refused_with_a_message(
    dose: str, route: Route, weight: str, problems: list[tuple[str, str]]
) -> None:
    assert [(p.field, p.message) for p in problems_of(dose, route, weight)] == problems


def test_a_typed_unit_that_contradicts_the_form_is_refused() -> None:
    problems = problems_of("100 mg", SL, "70", unit=DoseUnit.MG_PER_KG)
    assert problems == [
        FieldProblem(
            "dose", "The dose is typed in mg but the form asks for mg/kg; change one of them."
        )
    ]


@pytest.mark.parametrize(
    ("mg", "kg"), [(0, 70), (100, 0), (float("inf"), 70), (100, float("nan")), (-1, 70)]
)
def test_conversions_refuse_values_that_are_not_positive_numbers(mg: float, kg: float) -> None:
    with pytest.raises(ValueError, match="positive number"):
        mg_per_kg_from_mg(mg, kg)
    with pytest.raises(ValueError, match="positive number"):
        mg_from_mg_per_kg(mg, kg)


@pytest.mark.parametrize(("text", "kg"), [("70", 70.0), ("70,46 kg", 70.5), ("  ", None)])
def test_weight_is_kept_to_a_tenth_of_a_kg(text: str, kg: float | None) -> None:
    assert parse_weight_kg(text) == kg


@given(st.text(max_size=40), st.text(max_size=40), st.sampled_from(list(Route)))
def test_dose_parsing_refuses_with_dose_invalid_or_returns_a_sane_dose(
    dose: str, weight: str, route: Route
) -> None:
    # Given any text / When parsed / Then only DoseInvalid is raised, or the dose is in range
    try:
        parsed = parse_dose_input(dose, route=route, weight_text=weight)
    except DoseInvalid as invalid:
        assert invalid.problems
        return
    assert PLAUSIBLE_DOSE_MG[route].contains(parsed.dose_mg)


# --- intranasal esketamine ---------------------------------------------------------------------


@pytest.mark.parametrize(("dose_mg", "devices"), [(28, 1), (56, 2), (84, 3)])
def test_an_esketamine_dose_is_a_whole_number_of_28_mg_devices(dose_mg: int, devices: int) -> None:
    assert devices_for_dose(dose_mg, 28) == devices


@pytest.mark.parametrize("dose_mg", [60, 14, 0, 56.5])
def test_a_dose_that_is_not_whole_devices_is_refused(dose_mg: float) -> None:
    with pytest.raises(DoseInvalid) as caught:
        devices_for_dose(dose_mg, 28)
    assert caught.value.problems[0].message == (
        f"{dose_mg:g} mg is not a whole number of 28 mg devices (56 mg is 2 devices, 84 mg is 3); "
        "check the dose."
    )


def test_56_mg_is_two_devices_five_minutes_apart_and_monitoring_ends_120_min_after_the_first() -> (
    None
):
    # Given the shipped esketamine protocol and a 56 mg dose
    protocol = load_protocol(PROTOCOLS / "intranasal-esketamine.toml")
    plan = IntranasalPlan.from_spec(56, protocol.dosing)
    # When the first device is given at T0
    # Then there are two devices, the second due 5 minutes after the first
    assert plan.devices == 2
    assert plan.planned_times(T0) == (T0, at(5))
    assert plan.next_device_due([T0]) == at(5)
    # And once both are given, nothing more is due
    assert plan.next_device_due([T0, at(5.5)]) is None
    # And REMS monitoring ends exactly 120 minutes after the first device, not the last
    ends = rems_monitoring_ends_at(T0, protocol.discharge.min_minutes_after_first_dose)
    assert ends == at(120)


def test_the_next_device_follows_the_rest_after_the_previous_one_actually_given() -> None:
    # Given 84 mg (3 devices) and a second device given late, at +7 min
    plan = IntranasalPlan(84, 28, 5)
    given_times = [at(7), T0]  # in any order
    # Then the third is due 5 minutes after the second, at +12, not at +10
    assert plan.next_device_due(given_times) == at(12)
    assert plan.devices_remaining(given_times) == 1


def test_no_device_is_due_before_the_first() -> None:
    assert IntranasalPlan(56, 28, 5).next_device_due([]) is None


def test_a_plan_for_a_non_esketamine_protocol_is_refused() -> None:
    protocol = load_protocol(PROTOCOLS / "sublingual-kap-3h.toml")
    with pytest.raises(ValueError, match="not intranasal esketamine"):
        IntranasalPlan.from_spec(56, protocol.dosing)


# --- sublingual spit timer and booster window --------------------------------------------------


@pytest.mark.parametrize(("hold_min", "due"), [(10, at(10)), (7.5, at(7.5)), (15, at(15))])
def test_spit_is_due_after_the_hold_time(hold_min: float, due: datetime) -> None:
    assert spit_due_at(T0, hold_min) == due


def test_spit_timer_uses_the_protocols_hold_time() -> None:
    hold_min = load_protocol(PROTOCOLS / "sublingual-kap-3h.toml").dosing.hold_min
    assert hold_min is not None
    assert spit_due_at(T0, hold_min) == at(10)


WINDOW = (Offset(Anchor.DOSE, 30), Offset(Anchor.DOSE, 45))


@pytest.mark.parametrize(
    ("now_min", "status"),
    [
        (29.9, BoosterStatus.NOT_OPEN),
        (30, BoosterStatus.OPEN),  # both ends count as open
        (40, BoosterStatus.OPEN),
        (45, BoosterStatus.OPEN),
        (45.1, BoosterStatus.CLOSED),
    ],
)
def test_booster_window_opens_and_closes_by_the_protocol(
    now_min: float, status: BoosterStatus
) -> None:
    state = booster_window_state(at(now_min), T0, WINDOW)
    assert state.status is status
    assert (state.opens_at, state.closes_at) == (at(30), at(45))


def test_booster_window_waits_for_the_first_dose_and_may_not_exist() -> None:
    assert booster_window_state(at(35), None, WINDOW).status is BoosterStatus.AWAITING_DOSE
    assert booster_window_state(at(35), T0, None).status is BoosterStatus.NO_WINDOW


def test_a_window_anchored_at_the_start_needs_the_start_time() -> None:
    window = (Offset(Anchor.START, 70), Offset(Anchor.START, 85))
    started = at(-40)
    assert booster_window_state(at(31), T0, window, session_started_at=started).status is (
        BoosterStatus.OPEN
    )
    with pytest.raises(ValueError, match="session_started_at"):
        booster_window_state(at(31), T0, window)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        spit_due_at(datetime(2026, 11, 26, 14, 40), 10)
