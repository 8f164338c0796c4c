"""A dose against the prescriber's order and the protocol's limits (issue 16): what differs
needs the prescriber's override, what the protocol forbids (a booster it has none of, outside
its window, over its count, anything after discharge or the end) no override allows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kapsession.domain.dose_order import (
    NO_ORDER,
    DoseKind,
    DoseOrder,
    SessionDoses,
    booster_available,
    check_dose,
    check_order,
    usual_order,
)
from kapsession.domain.dosing import DoseUnit, parse_dose_input
from kapsession.domain.protocol import DosingSpec, Medication, Route
from kapsession.domain.protocol_file import load_protocol

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def dosing(name: str) -> DosingSpec:
    return load_protocol(PROTOCOLS / name).dosing


SL = dosing("sublingual-kap-3h.toml")
IN = dosing("intranasal-esketamine.toml")
IM = dosing("intramuscular-kap.toml")
IV = dosing("iv-infusion.toml")
SL_ORDER = DoseOrder(
    Medication.KETAMINE, Route.SUBLINGUAL, 200, None, 1, 100, (30, 45), max_total_mg=300
)
FIRST = SessionDoses(first_dose_at=None)


def at_minute(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def after_first(mg: float = 200, boosters: int = 0, **more: object) -> SessionDoses:
    given_mg = (mg,) + (100.0,) * boosters
    return SessionDoses(first_dose_at=T0, given_mg=given_mg, boosters_given=boosters, **more)  # type: ignore[arg-type]


def rules(check: object) -> list[str]:
    return [d.rule for d in check.deviations]  # type: ignore[attr-defined]


# --- the protocol's limits at their exact edges -------------------------------------------
@given(st.integers(min_value=1000, max_value=4000))
def test_a_sublingual_first_dose_inside_100_to_400_mg_passes_the_limits(tenths: int) -> None:
    dose = parse_dose_input(f"{tenths / 10:g}", route=Route.SUBLINGUAL)
    check = check_dose(dose, kind=DoseKind.INITIAL, dosing=SL, order=None, so_far=FIRST, at=T0)
    assert rules(check) == [NO_ORDER] and check.refusals == ()  # no order: the limits pass


@given(st.one_of(st.integers(10, 999), st.integers(4001, 9000)))
def test_a_sublingual_first_dose_outside_100_to_400_mg_needs_an_override(tenths: int) -> None:
    dose = parse_dose_input(f"{tenths / 10:g}", route=Route.SUBLINGUAL)
    check = check_dose(dose, kind=DoseKind.INITIAL, dosing=SL, order=None, so_far=FIRST, at=T0)
    assert check.needs_override
    assert rules(check)[0] in ("limit_min_mg", "limit_max_mg")


def test_esketamine_56_and_84_pass_112_and_224_need_an_override() -> None:
    for mg, wanted in ((56, []), (84, []), (28, ["limit_allowed_mg"])):
        dose = parse_dose_input(str(mg), route=Route.INTRANASAL)
        check = check_dose(dose, kind=DoseKind.INITIAL, dosing=IN, order=None, so_far=FIRST, at=T0)
        assert rules(check) == [*wanted, NO_ORDER], mg
    for mg in (112, 224):
        dose = parse_dose_input(str(mg), route=Route.INTRANASAL)
        check = check_dose(dose, kind=DoseKind.INITIAL, dosing=IN, order=None, so_far=FIRST, at=T0)
        assert check.needs_override
        assert {"limit_max_mg", "limit_allowed_mg", "limit_session_mg"} <= set(rules(check))
        assert "above the protocol's limit of 84 mg a dose" in check.message


@given(st.integers(min_value=40, max_value=140))
def test_im_per_kg_limits_and_the_60_mg_cap_at_their_edges(weight: int) -> None:
    # Given 0.5 and 0.75 mg/kg at a weight: inside the per-kg limits, capped at 60 mg
    for per_kg in ("0.5", "0.75"):
        dose = parse_dose_input(
            per_kg, route=Route.INTRAMUSCULAR, weight_text=str(weight), unit=DoseUnit.MG_PER_KG
        )
        check = check_dose(dose, kind=DoseKind.INITIAL, dosing=IM, order=None, so_far=FIRST, at=T0)
        over_cap = dose.dose_mg > 60
        assert ("limit_max_mg" in rules(check)) == over_cap
        assert not {"limit_min_mg_per_kg", "limit_max_mg_per_kg"} & set(rules(check))
    # And 0.49 and 0.76 mg/kg are outside them
    for per_kg, rule in (("0.49", "limit_min_mg_per_kg"), ("0.76", "limit_max_mg_per_kg")):
        dose = parse_dose_input(
            per_kg, route=Route.INTRAMUSCULAR, weight_text=str(weight), unit=DoseUnit.MG_PER_KG
        )
        check = check_dose(dose, kind=DoseKind.INITIAL, dosing=IM, order=None, so_far=FIRST, at=T0)
        assert rule in rules(check)


def test_iv_2_mg_per_kg_at_120_kg_is_inside_the_limits_but_not_the_usual_order() -> None:
    dose = parse_dose_input(
        "2", route=Route.INTRAVENOUS, weight_text="120", unit=DoseUnit.MG_PER_KG
    )
    alone = check_dose(dose, kind=DoseKind.INITIAL, dosing=IV, order=None, so_far=FIRST, at=T0)
    assert rules(alone) == [NO_ORDER]
    ordered = check_dose(
        dose, kind=DoseKind.INITIAL, dosing=IV, order=usual_order(IV), so_far=FIRST, at=T0
    )
    assert rules(ordered) == ["order_dose"]
    assert "The order is 0.5 mg/kg; this dose is 2 mg/kg." in ordered.message
    over = parse_dose_input(
        "2.01", route=Route.INTRAVENOUS, weight_text="120", unit=DoseUnit.MG_PER_KG
    )
    assert "limit_max_mg_per_kg" in rules(
        check_dose(over, kind=DoseKind.INITIAL, dosing=IV, order=None, so_far=FIRST, at=T0)
    )


def test_a_dose_limited_per_kg_without_a_weight_is_refused_until_the_weight_is_entered() -> None:
    dose = parse_dose_input("40", route=Route.INTRAMUSCULAR)
    check = check_dose(dose, kind=DoseKind.INITIAL, dosing=IM, order=None, so_far=FIRST, at=T0)
    assert check.refusals and "Enter the client's weight" in check.message


# --- the order ----------------------------------------------------------------------------
@given(st.integers(min_value=1000, max_value=4000), st.sampled_from(DoseKind))
def test_a_dose_without_an_order_needs_the_prescriber_whatever_its_amount(
    tenths: int, kind: DoseKind
) -> None:
    # Given no order recorded for the participant, a first dose or a booster in its window
    dose = parse_dose_input(f"{tenths / 10:g}", route=Route.SUBLINGUAL)
    so_far = FIRST if kind is DoseKind.INITIAL else after_first()
    # When it is checked
    check = check_dose(dose, kind=kind, dosing=SL, order=None, so_far=so_far, at=at_minute(40))
    # Then it needs the prescriber: the no-order deviation, saying what to do
    assert check.needs_override and NO_ORDER in rules(check)
    assert "No order is recorded: the prescriber gives the order before the dose" in check.message
    # And with the order recorded, the same dose needs nothing more than the order asks
    ordered = replace(SL_ORDER, dose_mg=tenths / 10, booster_mg=tenths / 10, max_total_mg=None)
    check = check_dose(dose, kind=kind, dosing=SL, order=ordered, so_far=so_far, at=at_minute(40))
    assert NO_ORDER not in rules(check)


@given(st.integers(min_value=1000, max_value=4000))
def test_only_the_ordered_dose_passes_the_order(tenths: int) -> None:
    dose = parse_dose_input(f"{tenths / 10:g}", route=Route.SUBLINGUAL)
    check = check_dose(dose, kind=DoseKind.INITIAL, dosing=SL, order=SL_ORDER, so_far=FIRST, at=T0)
    assert ("order_dose" in rules(check)) == (tenths != 2000)


def test_the_sessions_maximum_counts_every_dose_at_its_exact_edge() -> None:
    order = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, 2, 50, (30, 45), 300)
    dosing_two = replace(SL, limits=replace(SL.limits, max_boosters=2))
    booster = parse_dose_input("50", route=Route.SUBLINGUAL)
    # 200 + 50 = 250, then + 50 = 300: at the maximum
    so_far = SessionDoses(first_dose_at=T0, given_mg=(200, 50), boosters_given=1)
    check = check_dose(
        booster,
        kind=DoseKind.BOOSTER,
        dosing=dosing_two,
        order=order,
        so_far=so_far,
        at=at_minute(40),
    )
    assert check.deviations == () and check.refusals == ()
    # 300 + 50.1 is over it
    more = parse_dose_input("50.1", route=Route.SUBLINGUAL)
    check = check_dose(
        more, kind=DoseKind.BOOSTER, dosing=dosing_two, order=order, so_far=so_far, at=at_minute(40)
    )
    assert "order_max_total" in rules(check)


def test_a_booster_the_order_does_not_allow_needs_an_override() -> None:
    no_booster = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None)
    booster = parse_dose_input("100", route=Route.SUBLINGUAL)
    check = check_dose(
        booster,
        kind=DoseKind.BOOSTER,
        dosing=SL,
        order=no_booster,
        so_far=after_first(),
        at=at_minute(35),
    )
    assert check.needs_override and rules(check) == ["order_no_booster"]
    other = parse_dose_input("90", route=Route.SUBLINGUAL)
    check = check_dose(
        other,
        kind=DoseKind.BOOSTER,
        dosing=SL,
        order=SL_ORDER,
        so_far=after_first(),
        at=at_minute(35),
    )
    assert rules(check) == ["order_booster_dose"]


# --- boosters under the protocol's rules (no override) ----------------------------------
@given(st.floats(min_value=0, max_value=180, allow_nan=False))
def test_a_booster_is_offered_only_inside_the_window(minute: float) -> None:
    ok, why = booster_available(SL, after_first(), at_minute(minute))
    assert ok == (30 <= minute <= 45)
    if not ok:
        assert why.startswith(
            ("No booster yet: the window T+30–45 opens", "No booster: the window T+30–45 closed")
        )


def test_a_booster_over_the_protocols_count_is_refused() -> None:
    booster = parse_dose_input("100", route=Route.SUBLINGUAL)
    check = check_dose(
        booster,
        kind=DoseKind.BOOSTER,
        dosing=SL,
        order=SL_ORDER,
        so_far=after_first(boosters=1),
        at=at_minute(40),
    )
    assert check.refusals and not check.needs_override
    assert "allows 1 booster a session, already given" in check.message


def test_esketamine_im_and_iv_offer_no_booster() -> None:
    for spec, mg in ((IN, "56"), (IM, "30"), (IV, "30")):
        ok, why = booster_available(spec, after_first(56), at_minute(35))
        assert not ok and why.startswith("No booster: the protocol")
        dose = parse_dose_input(mg, route=spec.route, weight_text="60")
        check = check_dose(
            dose,
            kind=DoseKind.BOOSTER,
            dosing=spec,
            order=None,
            so_far=after_first(56),
            at=at_minute(35),
        )
        assert check.refusals
    assert "record them with V" in booster_available(IN, after_first(56), at_minute(35))[1]


def test_no_dose_after_discharge_or_the_end() -> None:
    for so_far, words in (
        (after_first(discharged_at=at_minute(34)), "No dose after discharge"),
        (after_first(ended_at=at_minute(34)), "No dose after the end of the session."),
    ):
        ok, why = booster_available(SL, so_far, at_minute(35))
        assert not ok and why.startswith(words)
        booster = parse_dose_input("100", route=Route.SUBLINGUAL)
        check = check_dose(
            booster,
            kind=DoseKind.BOOSTER,
            dosing=SL,
            order=SL_ORDER,
            so_far=so_far,
            at=at_minute(35),
        )
        assert check.refusals and words in check.message


# --- entering an order ----------------------------------------------------------------
def test_the_usual_order_comes_from_the_protocol() -> None:
    assert usual_order(SL).summary() == "200 mg SL · booster ≤1 × 100 mg at T+30–45 · max 400 mg"
    assert usual_order(IN).summary() == "56 mg IN · no booster · max 84 mg"
    assert usual_order(IM).summary() == "0.5 mg/kg IM · no booster · max 60 mg"
    for spec in (SL, IN, IM, IV):
        assert check_order(usual_order(spec), spec) == []


def test_an_order_with_a_booster_where_the_protocol_has_none_is_refused() -> None:
    order = DoseOrder(Medication.ESKETAMINE, Route.INTRANASAL, 56, None, 1, 28, (10, 20))
    fields = [p.field for p in check_order(order, IN)]
    assert "order_boosters" in fields
    both = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, 1.0)
    assert [p.field for p in check_order(both, SL)] == ["order_dose"]
