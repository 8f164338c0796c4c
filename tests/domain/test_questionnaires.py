"""PHQ-9, GAD-7 and PCL-5: scoring at every severity band's edges, incomplete answers never
scored, answers outside the options refused naming the item, PHQ-9 item 9 flagged, PCL-5's
clusters, and change between two scores."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapsession.domain.questionnaires import (
    GAD7,
    INSTRUMENTS,
    PCL5,
    PHQ9,
    AnswerError,
    Instrument,
    Score,
    change,
    check_answer,
    instrument,
    score,
)


def answers_totalling(form: Instrument, total: int) -> dict[int, int]:
    """Every item answered, adding up to `total` (the highest answers first)."""
    answers: dict[int, int] = {}
    left = total
    for item in form.items:
        answers[item.number] = min(form.max_answer, left)
        left -= answers[item.number]
    assert left == 0
    return answers


# the published bands: (lowest total, label) and the instrument's top total
BANDS = [
    (PHQ9, [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"),
            (20, "severe")], 27),
    (GAD7, [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")], 21),
    (PCL5, [(0, "below the provisional PTSD cut-point"), (33, "provisional PTSD")], 80),
]  # fmt: skip


@pytest.mark.parametrize(("form", "bands", "top"), BANDS, ids=lambda v: getattr(v, "name", ""))
def test_every_band_starts_and_ends_where_the_instrument_says(
    form: Instrument, bands: list[tuple[int, str]], top: int
) -> None:
    assert form.max_total == top
    edges = [low for low, _ in bands[1:]]
    for index, (low, label) in enumerate(bands):
        high = edges[index] - 1 if index < len(edges) else top
        for total in (low, high):
            # Given every item answered to this total, Then the band is the published one
            result = score(form, answers_totalling(form, total))
            assert result.total == total
            assert result.band is not None and result.band.label == label, total


@given(
    st.sampled_from(list(INSTRUMENTS.values())).flatmap(
        lambda form: st.tuples(
            st.just(form),
            st.lists(
                st.integers(0, form.max_answer), min_size=len(form.items), max_size=len(form.items)
            ),
        )
    )
)
def test_a_complete_score_is_the_sum_of_its_answers(case: tuple[Instrument, list[int]]) -> None:
    form, values = case
    result = score(form, dict(enumerate(values, start=1)))
    assert result.complete and result.total == sum(values)
    assert result.band == form.band(sum(values))


@given(
    st.sampled_from(list(INSTRUMENTS.values())).flatmap(
        lambda form: st.tuples(
            st.just(form),
            st.lists(
                st.one_of(st.none(), st.integers(0, form.max_answer)),
                min_size=len(form.items),
                max_size=len(form.items),
            ).filter(lambda values: None in values),
        )
    )
)
def test_a_missing_answer_leaves_the_measure_unscored(
    case: tuple[Instrument, list[int | None]],
) -> None:
    form, values = case
    # Given at least one item unanswered
    result = score(form, dict(enumerate(values, start=1)))
    # Then there is no total and no band (never a zero for the missing item), and it says which
    assert not result.complete
    assert result.total is None and result.band is None
    assert result.missing == tuple(n for n, v in enumerate(values, start=1) if v is None)
    assert "incomplete" in result.summary()


def test_an_absent_item_counts_as_unanswered_too() -> None:
    answers = answers_totalling(PHQ9, 12)
    del answers[4]
    result = score(PHQ9, answers)
    assert result.missing == (4,)
    assert result.summary() == "PHQ-9 incomplete (item 4 unanswered)"


@pytest.mark.parametrize(
    ("form", "item", "value", "message"),
    [
        (PHQ9, 3, 4, "PHQ-9 item 3: 4 is not an answer; choose 0 to 3 (not at all to nearly "
                     "every day)."),
        (PHQ9, 1, -1, "PHQ-9 item 1: -1 is not an answer"),
        (GAD7, 8, 0, "GAD-7 has items 1 to 7; there is no item 8."),
        (PCL5, 0, 2, "PCL-5 has items 1 to 20; there is no item 0."),
        (PCL5, 20, 5, "PCL-5 item 20: 5 is not an answer; choose 0 to 4 (not at all to "
                      "extremely)."),
    ],
)  # fmt: skip
def test_an_answer_outside_the_options_is_refused_naming_the_item_and_range(
    form: Instrument, item: int, value: int, message: str
) -> None:
    with pytest.raises(AnswerError) as refused:
        score(form, {item: value})
    assert str(refused.value).startswith(message)


def test_the_highest_and_lowest_answers_are_accepted() -> None:
    assert check_answer(PCL5, 20, 4) == 4
    assert check_answer(PHQ9, 9, 0) == 0
    with pytest.raises(AnswerError):
        check_answer(PHQ9, 9, True)  # a checkbox's True is not an answer value


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item_9_above_zero_is_flagged_whatever_the_total(item9: int) -> None:
    # Given a low PHQ-9 whose item 9 is answered above zero
    answers = dict.fromkeys(range(1, 10), 0)
    answers[9] = item9
    result = score(PHQ9, answers)
    # Then it needs the prescriber's decision, though the total is minimal
    assert result.band is not None and result.band.label == "minimal"
    assert result.flags == (9,) and result.needs_decision


def test_phq9_item_9_flags_even_an_incomplete_measure_and_zero_does_not() -> None:
    assert score(PHQ9, {9: 1}).needs_decision
    assert not score(PHQ9, dict.fromkeys(range(1, 10), 3) | {9: 0}).needs_decision
    assert not score(GAD7, dict.fromkeys(range(1, 8), 3)).needs_decision


def test_pcl5_clusters_add_their_own_items_and_go_unscored_with_a_gap() -> None:
    answers = {number: number % 5 for number in range(1, 21)}
    result = score(PCL5, answers)
    assert result.clusters == {
        "B": sum(n % 5 for n in range(1, 6)),
        "C": sum(n % 5 for n in range(6, 8)),
        "D": sum(n % 5 for n in range(8, 15)),
        "E": sum(n % 5 for n in range(15, 21)),
    }
    del answers[7]
    gap = score(PCL5, answers)
    assert gap.clusters["C"] is None and gap.clusters["B"] == result.clusters["B"]


def test_a_phq9_response_is_halving_or_from_ten_or_more_to_below_ten() -> None:
    def phq(total: int) -> Score:
        return score(PHQ9, answers_totalling(PHQ9, total))

    assert change(phq(20), phq(10)).label == "response"  # halved exactly
    assert change(phq(20), phq(11)).label == ""
    assert change(phq(12), phq(9)).label == "response"  # below 10 from 10 or more
    assert change(phq(10), phq(10)).label == ""
    assert change(phq(8), phq(8)).label == ""  # below 10 throughout is no response
    assert change(phq(0), phq(0)).label == ""


@pytest.mark.parametrize(
    ("before", "after", "label"),
    [
        (50, 40, "clinically meaningful improvement"),
        (50, 41, "reliable improvement"),
        (50, 45, "reliable improvement"),
        (50, 46, ""),
        (40, 44, ""),
        (40, 45, "reliable worsening"),
    ],
)
def test_pcl5_change_at_its_reliable_and_meaningful_edges(
    before: int, after: int, label: str
) -> None:
    earlier = score(PCL5, answers_totalling(PCL5, before))
    later = score(PCL5, answers_totalling(PCL5, after))
    found = change(earlier, later)
    assert found is not None and found.label == label and found.difference == after - before


def test_change_needs_two_complete_scores_of_one_instrument() -> None:
    complete = score(GAD7, answers_totalling(GAD7, 9))
    assert change(score(GAD7, {1: 2}), complete) is None
    with pytest.raises(ValueError, match="one instrument"):
        change(complete, score(PHQ9, answers_totalling(PHQ9, 9)))


def test_instruments_are_found_by_key_and_an_unknown_one_is_named() -> None:
    assert instrument("gad7") is GAD7
    with pytest.raises(ValueError, match="unknown measure 'bdi'; known: phq9, gad7, pcl5"):
        instrument("bdi")


def test_the_forms_have_the_published_item_counts_and_options() -> None:
    assert (len(PHQ9.items), len(GAD7.items), len(PCL5.items)) == (9, 7, 20)
    assert PHQ9.options == GAD7.options and len(PHQ9.options) == 4
    assert PCL5.options[-1] == "Extremely" and len(PCL5.options) == 5
    assert [item.number for item in PCL5.items] == list(range(1, 21))
