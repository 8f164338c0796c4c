"""Observation scales: ranges, published anchors, the registry and the nausea default."""

from __future__ import annotations

import pytest

from kapsession.domain.scales import (
    DEFAULT_NAUSEA_RESCUE_ANTIEMETIC_AT_OR_ABOVE,
    DISSOCIATION,
    MOAAS,
    NAUSEA,
    RASS,
    SCALES,
    SUDS,
    Scale,
    get_scale,
    suggests_rescue_antiemetic,
)
from kapsession.domain.vitals import READING_FIELDS


@pytest.mark.parametrize(
    ("key", "min_value", "max_value"),
    [("moaas", 0, 5), ("rass", -5, 4), ("dissociation", 0, 4), ("nausea", 0, 10), ("suds", 0, 10)],
)
def test_each_scale_has_its_published_range(key: str, min_value: int, max_value: int) -> None:
    # Given the registry
    # When a scale is looked up by its Reading attribute name
    scale = get_scale(key)
    # Then it spans the published range and is stored under the same name a Reading uses
    assert (scale.min_value, scale.max_value) == (min_value, max_value)
    assert scale.key == key
    assert key in READING_FIELDS


@pytest.mark.parametrize(
    ("value", "anchor"),
    [
        (5, "Responds readily to name spoken in normal tone"),
        (4, "Lethargic response to name spoken in normal tone"),
        (3, "Responds only after name is called loudly and/or repeatedly"),
        (2, "Responds only after mild prodding or shaking"),
        (1, "Responds only after painful trapezius squeeze"),
        (0, "Does not respond to painful trapezius squeeze"),
    ],
)
def test_moaas_anchors_use_the_published_wording(value: int, anchor: str) -> None:
    # Given MOAA/S (clinical-sources §3.1) / When a score's anchor is asked / Then it is verbatim
    assert MOAAS.anchor(value) == anchor


@pytest.mark.parametrize(
    ("value", "name"),
    [(4, "Combative"), (0, "Alert and calm"), (-1, "Drowsy"), (-3, "Moderate sedation"),
     (-5, "Unarousable")],
)  # fmt: skip
def test_rass_scores_have_their_names(value: int, name: str) -> None:
    assert RASS.names[value] == name


def test_every_rass_and_dissociation_score_is_named_and_anchored() -> None:
    # Given the two scales whose every step has a name / Then none is left out
    for scale in (RASS, DISSOCIATION):
        assert set(scale.names) == set(scale.values)
        assert set(scale.anchors) == set(scale.values)


def test_dissociation_is_a_clinician_level_not_the_cadss() -> None:
    # Given the dissociation scale / Then it is a 0–4 level named none … extreme, and its
    # anchors are our own words, not CADSS item text (copyrighted)
    assert [DISSOCIATION.names[v] for v in DISSOCIATION.values] == [
        "None",
        "Mild",
        "Moderate",
        "Severe",
        "Extreme",
    ]
    cadss_phrases = ("slow motion", "unreal", "as if in a movie", "outside your body", "fog")
    for text in DISSOCIATION.anchors.values():
        assert not any(phrase in text.lower() for phrase in cadss_phrases)


@pytest.mark.parametrize(
    ("scale", "value", "shown"),
    [
        (MOAAS, 5, "5/5 (Alert)"),
        (MOAAS, 2, "2/5 (Responds only after mild prodding or shaking)"),
        (RASS, -2, "-2 (Light sedation)"),
        (RASS, 3, "+3 (Very agitated)"),
        (RASS, 0, "0 (Alert and calm)"),
        (NAUSEA, 6, "6/10"),
        (SUDS, 0, "0/10 (Peace and complete calm)"),
    ],
)
def test_display_shows_sign_unit_and_name(scale: Scale, value: int, shown: str) -> None:
    assert scale.display(value) == shown


@pytest.mark.parametrize(("scale", "text"), [(RASS, "-5 to +4"), (MOAAS, "0 to 5")])
def test_range_text_is_signed_where_the_scale_is(scale: Scale, text: str) -> None:
    assert scale.range_text == text


@pytest.mark.parametrize(("nausea", "suggested"), [(0, False), (3, False), (4, True), (10, True)])
def test_nausea_at_or_above_the_default_suggests_a_rescue_antiemetic(
    nausea: int, suggested: bool
) -> None:
    # Given the protocol-like default of 4 (Boogaerts 2000) / When a rating is checked
    # Then 4 itself is included ("≥ 4")
    assert DEFAULT_NAUSEA_RESCUE_ANTIEMETIC_AT_OR_ABOVE == 4
    assert suggests_rescue_antiemetic(nausea) is suggested


def test_a_clinic_may_use_another_antiemetic_threshold() -> None:
    assert suggests_rescue_antiemetic(4, at_or_above=6) is False
    assert suggests_rescue_antiemetic(6, at_or_above=6) is True


def test_a_nausea_rating_off_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="outside 0 to 10"):
        suggests_rescue_antiemetic(11)


def test_an_unknown_scale_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="moaas"):
        get_scale("cadss")


def test_registry_and_anchors_cannot_be_changed_by_a_caller() -> None:
    # Given the shipped registry / When a caller tries to change it / Then it refuses
    with pytest.raises(TypeError):
        SCALES["moaas"] = RASS  # type: ignore[index]
    with pytest.raises(TypeError):
        MOAAS.anchors[5] = "changed"  # type: ignore[index]


@pytest.mark.parametrize(
    ("min_value", "max_value", "anchors"),
    [(5, 0, {}), (0, 5, {6: "off the scale"}), (0, 5, {-1: "below"})],
)
def test_a_scale_with_anchors_off_its_range_is_refused(
    min_value: int, max_value: int, anchors: dict[int, str]
) -> None:
    with pytest.raises(ValueError):
        Scale("x", "X", min_value, max_value, anchors)
