"""The course's outcome measures: PHQ-9, GAD-7 and PCL-5, their items as data, and scoring.

The three are public-domain instruments; their items, answer options and cut-points are the
published ones (clinical-sources.md §3.6) and are not clinic-editable: a changed item is a
different instrument. A measure is scored only when every item is answered: a missing answer
leaves it incomplete, never scored as zero. PHQ-9 item 9 (thoughts of being better off dead or
of self-harm) answered above zero is flagged whatever the total, for the prescriber's decision
before a dose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class InstrumentKey(StrEnum):
    PHQ9 = "phq9"
    GAD7 = "gad7"
    PCL5 = "pcl5"


@dataclass(frozen=True)
class Band:
    """A severity band: totals from `low` up (to the next band's `low`) are `label`."""

    low: int
    label: str


@dataclass(frozen=True)
class Item:
    """One question of a questionnaire, numbered as on the form."""

    number: int  # 1-based, as printed on the form
    text: str
    cluster: str = ""  # PCL-5's DSM-5 symptom cluster (B, C, D, E)


@dataclass(frozen=True)
class Instrument:
    """A questionnaire: its items, answers and scoring."""

    key: InstrumentKey
    name: str  # short, as staff say it: "PHQ-9"
    title: str
    stem: str  # the question the items answer, with its recall window
    options: tuple[str, ...]  # the answer labels; an answer's value is its index
    items: tuple[Item, ...]
    bands: tuple[Band, ...]  # lowest first, the first starting at 0
    flagged_items: tuple[int, ...] = ()  # items whose answer above zero needs a decision
    source: str = ""

    @property
    def max_answer(self) -> int:
        return len(self.options) - 1

    @property
    def max_total(self) -> int:
        return self.max_answer * len(self.items)

    def band(self, total: int) -> Band:
        """The severity band of a complete total."""
        if not 0 <= total <= self.max_total:
            raise ValueError(f"{self.name} total {total} is outside 0 to {self.max_total}")
        chosen = self.bands[0]
        for band in self.bands:
            if total >= band.low:
                chosen = band
        return chosen


class AnswerError(ValueError):
    """An answer outside the item's options, or an item the instrument does not have; the
    message names the item and the range, for the screen."""


@dataclass(frozen=True)
class Score:
    """What a set of answers adds up to. `total` and `band` are None while any item is
    unanswered (`missing` lists them): an incomplete measure is never scored."""

    instrument: Instrument
    answers: Mapping[int, int]  # item number -> answer value, answered items only
    missing: tuple[int, ...]
    total: int | None
    band: Band | None
    clusters: Mapping[str, int | None]  # cluster -> its subtotal (None: an item missing)
    flags: tuple[int, ...]  # flagged items answered above zero

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def needs_decision(self) -> bool:
        """PHQ-9 item 9 above zero: the dose waits for the prescriber's proceed or hold."""
        return bool(self.flags)

    def summary(self) -> str:
        """ "PHQ-9 14 (moderate)", or "PHQ-9 incomplete (items 3, 9 unanswered)"."""
        if self.total is None or self.band is None:
            items = ", ".join(str(number) for number in self.missing)
            noun = "item" if len(self.missing) == 1 else "items"
            return f"{self.instrument.name} incomplete ({noun} {items} unanswered)"
        return f"{self.instrument.name} {self.total} ({self.band.label})"


def check_answer(instrument: Instrument, item: int, value: int) -> int:
    """`value` if it is an answer to `item`; else AnswerError naming the item and the range."""
    if not 1 <= item <= len(instrument.items):
        raise AnswerError(
            f"{instrument.name} has items 1 to {len(instrument.items)}; there is no item {item}."
        )
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnswerError(f"{instrument.name} item {item}: the answer must be a whole number.")
    if not 0 <= value <= instrument.max_answer:
        raise AnswerError(
            f"{instrument.name} item {item}: {value} is not an answer; "
            f"choose 0 to {instrument.max_answer} "
            f"({instrument.options[0].lower()} to {instrument.options[-1].lower()})."
        )
    return value


def score(instrument: Instrument, answers: Mapping[int, int | None]) -> Score:
    """Score `answers` (item number -> answer, None or absent: not answered)."""
    given: dict[int, int] = {}
    for number, value in answers.items():
        if value is not None:
            given[number] = check_answer(instrument, number, value)
    missing = tuple(item.number for item in instrument.items if item.number not in given)
    total = None if missing else sum(given.values())
    members: dict[str, list[int]] = {}
    for item in instrument.items:
        if item.cluster:
            members.setdefault(item.cluster, []).append(item.number)
    clusters = {
        cluster: None
        if any(number not in given for number in numbers)
        else sum(given[number] for number in numbers)
        for cluster, numbers in members.items()
    }
    flags = tuple(item for item in instrument.flagged_items if given.get(item, 0) > 0)
    return Score(
        instrument=instrument,
        answers=MappingProxyType(dict(sorted(given.items()))),
        missing=missing,
        total=total,
        band=None if total is None else instrument.band(total),
        clusters=MappingProxyType(clusters),
        flags=flags,
    )


_FREQUENCY = ("Not at all", "Several days", "More than half the days", "Nearly every day")

PHQ9 = Instrument(
    key=InstrumentKey.PHQ9,
    name="PHQ-9",
    title="Patient Health Questionnaire (PHQ-9)",
    stem="Over the last 2 weeks, how often have you been bothered by any of the following "
    "problems?",
    options=_FREQUENCY,
    items=tuple(
        Item(number, text)
        for number, text in enumerate(
            (
                "Little interest or pleasure in doing things",
                "Feeling down, depressed, or hopeless",
                "Trouble falling or staying asleep, or sleeping too much",
                "Feeling tired or having little energy",
                "Poor appetite or overeating",
                "Feeling bad about yourself — or that you are a failure or have let yourself "
                "or your family down",
                "Trouble concentrating on things, such as reading the newspaper or watching "
                "television",
                "Moving or speaking so slowly that other people could have noticed? Or the "
                "opposite — being so fidgety or restless that you have been moving around a lot "
                "more than usual",
                "Thoughts that you would be better off dead or of hurting yourself in some way",
            ),
            start=1,
        )
    ),
    bands=(
        Band(0, "minimal"),
        Band(5, "mild"),
        Band(10, "moderate"),
        Band(15, "moderately severe"),
        Band(20, "severe"),
    ),
    flagged_items=(9,),
    source="Kroenke, Spitzer & Williams 2001; cut-points 5/10/15/20 (clinical-sources.md §3.6)",
)

GAD7 = Instrument(
    key=InstrumentKey.GAD7,
    name="GAD-7",
    title="Generalized Anxiety Disorder scale (GAD-7)",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    options=_FREQUENCY,
    items=tuple(
        Item(number, text)
        for number, text in enumerate(
            (
                "Feeling nervous, anxious, or on edge",
                "Not being able to stop or control worrying",
                "Worrying too much about different things",
                "Trouble relaxing",
                "Being so restless that it is hard to sit still",
                "Becoming easily annoyed or irritable",
                "Feeling afraid as if something awful might happen",
            ),
            start=1,
        )
    ),
    bands=(Band(0, "minimal"), Band(5, "mild"), Band(10, "moderate"), Band(15, "severe")),
    source="Spitzer, Kroenke, Williams & Löwe 2006; cut-points 5/10/15 (clinical-sources.md §3.6)",
)

_PCL5_ITEMS = (
    ("B", "Repeated, disturbing, and unwanted memories of the stressful experience?"),
    ("B", "Repeated, disturbing dreams of the stressful experience?"),
    (
        "B",
        "Suddenly feeling or acting as if the stressful experience were actually happening "
        "again (as if you were actually back there reliving it)?",
    ),
    ("B", "Feeling very upset when something reminded you of the stressful experience?"),
    (
        "B",
        "Having strong physical reactions when something reminded you of the stressful "
        "experience (for example, heart pounding, trouble breathing, sweating)?",
    ),
    ("C", "Avoiding memories, thoughts, or feelings related to the stressful experience?"),
    (
        "C",
        "Avoiding external reminders of the stressful experience (for example, people, places, "
        "conversations, activities, objects, or situations)?",
    ),
    ("D", "Trouble remembering important parts of the stressful experience?"),
    (
        "D",
        "Having strong negative beliefs about yourself, other people, or the world (for "
        "example, having thoughts such as: I am bad, there is something seriously wrong with "
        "me, no one can be trusted, the world is completely dangerous)?",
    ),
    (
        "D",
        "Blaming yourself or someone else for the stressful experience or what happened after it?",
    ),
    ("D", "Having strong negative feelings such as fear, horror, anger, guilt, or shame?"),
    ("D", "Loss of interest in activities that you used to enjoy?"),
    ("D", "Feeling distant or cut off from other people?"),
    (
        "D",
        "Trouble experiencing positive feelings (for example, being unable to feel happiness or "
        "have loving feelings for people close to you)?",
    ),
    ("E", "Irritable behavior, angry outbursts, or acting aggressively?"),
    ("E", "Taking too many risks or doing things that could cause you harm?"),
    ("E", 'Being "superalert" or watchful or on guard?'),
    ("E", "Feeling jumpy or easily startled?"),
    ("E", "Having difficulty concentrating?"),
    ("E", "Trouble falling or staying asleep?"),
)

PCL5_PROVISIONAL_PTSD = 33  # the upper end of the published 31–33 range (§3.6)

PCL5 = Instrument(
    key=InstrumentKey.PCL5,
    name="PCL-5",
    title="PTSD Checklist for DSM-5 (PCL-5)",
    stem="In the past month, how much were you bothered by:",
    options=("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely"),
    items=tuple(
        Item(number, text, cluster) for number, (cluster, text) in enumerate(_PCL5_ITEMS, start=1)
    ),
    bands=(
        Band(0, "below the provisional PTSD cut-point"),
        Band(PCL5_PROVISIONAL_PTSD, "provisional PTSD"),
    ),
    source="Weathers et al. 2013 (National Center for PTSD); clusters B 1–5, C 6–7, D 8–14, "
    "E 15–20; provisional PTSD 31–33, 33 used (clinical-sources.md §3.6)",
)

INSTRUMENTS: Mapping[InstrumentKey, Instrument] = MappingProxyType(
    {instrument.key: instrument for instrument in (PHQ9, GAD7, PCL5)}
)


def instrument(key: str) -> Instrument:
    """The instrument named `key` ("phq9", "gad7", "pcl5"); ValueError for any other."""
    try:
        return INSTRUMENTS[InstrumentKey(key)]
    except ValueError:
        names = ", ".join(k.value for k in InstrumentKey)
        raise ValueError(f"unknown measure {key!r}; known: {names}") from None


# change between two complete scores of one instrument ------------------------------------------
PCL5_RELIABLE_CHANGE = 5
PCL5_MEANINGFUL_CHANGE = 10
PHQ9_RESPONSE_FRACTION = 0.5  # a response: the total at least halved, or from 10 or more
PHQ9_REMISSION_BELOW = 10  # to below 10 (the IV clinics' definition, §3.6)


@dataclass(frozen=True)
class Change:
    """The change between two scored administrations, and what it means."""

    before: int
    after: int
    label: str  # "response", "reliable improvement", … or "" when none applies

    @property
    def difference(self) -> int:
        return self.after - self.before


def change(earlier: Score, later: Score) -> Change | None:
    """How `later` compares with `earlier` (both complete, one instrument); None otherwise."""
    if earlier.instrument.key is not later.instrument.key:
        raise ValueError("a change compares two scores of one instrument")
    if earlier.total is None or later.total is None:
        return None
    before, after = earlier.total, later.total
    label = ""
    key = later.instrument.key
    if key is InstrumentKey.PHQ9 and before > 0:
        if after <= before * PHQ9_RESPONSE_FRACTION or (
            before >= PHQ9_REMISSION_BELOW and after < PHQ9_REMISSION_BELOW
        ):
            label = "response"
    elif key is InstrumentKey.PCL5:
        drop = before - after
        if drop >= PCL5_MEANINGFUL_CHANGE:
            label = "clinically meaningful improvement"
        elif drop >= PCL5_RELIABLE_CHANGE:
            label = "reliable improvement"
        elif -drop >= PCL5_RELIABLE_CHANGE:
            label = "reliable worsening"
    return Change(before, after, label)
