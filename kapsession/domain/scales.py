"""The observation scales a nurse scores during a session, with their anchors as data.

The scale definitions (range and anchor wording) are published instruments and live here;
thresholds that act on them (alerts, discharge) are protocol data. Sources for every anchor are
in clinical-sources.md §3. The CADSS is copyrighted, so dissociation is a clinician-rated level
0–4 with our own short anchors; a clinic can load its own licensed items elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Scale:
    """An ordinal scale: whole-number scores from `min_value` to `max_value`.

    `anchors` maps a score to its published description; `names` maps a score to a short name
    where the instrument gives one (RASS "Drowsy"). Not every score needs an anchor (a 0–10
    rating is anchored at its ends). `unit_label` follows a score in a display ("3/5").
    """

    key: str  # the Reading attribute that holds this scale, e.g. "moaas"
    name: str
    min_value: int
    max_value: int
    anchors: Mapping[int, str] = field(hash=False)
    unit_label: str = ""
    names: Mapping[int, str] = field(default_factory=dict, hash=False)
    source: str = ""  # where the anchor wording comes from

    def __post_init__(self) -> None:
        if self.min_value >= self.max_value:
            raise ValueError(f"scale {self.key}: min_value must be below max_value")
        for label, mapping in (("anchor", self.anchors), ("name", self.names)):
            outside = [value for value in mapping if not self.contains(value)]
            if outside:
                raise ValueError(f"scale {self.key}: {label} for {outside} is outside the scale")
        # Frozen copies, so a registry entry cannot be changed by a caller.
        object.__setattr__(self, "anchors", MappingProxyType(dict(self.anchors)))
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))

    @property
    def values(self) -> range:
        """Every valid score, lowest first."""
        return range(self.min_value, self.max_value + 1)

    @property
    def range_text(self) -> str:
        """The range for messages, e.g. "0 to 5" or "-5 to +4"."""
        return f"{self.format_value(self.min_value)} to {self.format_value(self.max_value)}"

    def contains(self, value: int) -> bool:
        return self.min_value <= value <= self.max_value

    def anchor(self, value: int) -> str | None:
        """The published description of a score, if that score is anchored."""
        return self.anchors.get(value)

    def format_value(self, value: int) -> str:
        """A score as written on this scale: signed where the scale goes below zero."""
        return f"{value:+d}" if self.min_value < 0 and value != 0 else str(value)

    def display(self, value: int) -> str:
        """A score with its unit label and, where there is one, its short name or anchor."""
        text = f"{self.format_value(value)}{self.unit_label}"
        label = self.names.get(value) or self.anchors.get(value)
        return f"{text} ({label})" if label else text


MOAAS = Scale(
    key="moaas",
    name="MOAA/S (Modified Observer's Assessment of Alertness/Sedation)",
    min_value=0,
    max_value=5,
    unit_label="/5",
    anchors={
        5: "Responds readily to name spoken in normal tone",
        4: "Lethargic response to name spoken in normal tone",
        3: "Responds only after name is called loudly and/or repeatedly",
        2: "Responds only after mild prodding or shaking",
        1: "Responds only after painful trapezius squeeze",
        0: "Does not respond to painful trapezius squeeze",
    },
    names={5: "Alert"},
    source="BMC Anesthesiology 2022, 22:1788, table 2 (clinical-sources §3.1)",
)

# The SPRAVATO label counts MOAA/S 0 as loss of consciousness (clinical-sources §1.1, §3.1).
MOAAS_LOSS_OF_CONSCIOUSNESS = 0

RASS = Scale(
    key="rass",
    name="RASS (Richmond Agitation-Sedation Scale)",
    min_value=-5,
    max_value=4,
    unit_label="",
    names={
        4: "Combative",
        3: "Very agitated",
        2: "Agitated",
        1: "Restless",
        0: "Alert and calm",
        -1: "Drowsy",
        -2: "Light sedation",
        -3: "Moderate sedation",
        -4: "Deep sedation",
        -5: "Unarousable",
    },
    anchors={
        4: "Overtly combative or violent; immediate danger to staff",
        3: "Pulls at or removes tubes or catheters; aggressive",
        2: "Frequent nonpurposeful movement",
        1: "Anxious, but movements not aggressive or vigorous",
        0: "Alert and calm",
        -1: "Not fully alert, but sustained (more than 10 s) eye opening and eye contact to voice",
        -2: "Briefly (less than 10 s) awakens with eye contact to voice",
        -3: "Movement or eye opening to voice, but no eye contact",
        -4: "No response to voice, but movement or eye opening to physical stimulation",
        -5: "No response to voice or physical stimulation",
    },
    source="Sessler et al. 2002, via Stanford palliative care appendix (clinical-sources §3.2)",
)

DISSOCIATION = Scale(
    key="dissociation",
    name="Dissociation (clinician-rated level)",
    min_value=0,
    max_value=4,
    unit_label="/4",
    names={0: "None", 1: "Mild", 2: "Moderate", 3: "Severe", 4: "Extreme"},
    anchors={
        0: "No sign of dissociation; in ordinary contact with the room",
        1: "Slight detachment or altered perception; engages readily when addressed",
        2: "Clear detachment or perceptual change; engages when addressed",
        3: "Marked detachment; engages only briefly or with effort",
        4: "Out of contact with the surroundings; cannot engage",
    },
    source="kapsession's own wording, not CADSS items (the CADSS is copyrighted; §3.3)",
)

NAUSEA = Scale(
    key="nausea",
    name="Nausea (numeric rating 0–10)",
    min_value=0,
    max_value=10,
    unit_label="/10",
    anchors={0: "No nausea", 10: "Worst nausea imaginable"},
    source="Nausea NRS 0–10, Wikström 2019; end-point wording as usual for NRS (§3.5)",
)

# A protocol-like default, not a scale definition: a nausea rating at or above this suggests a
# rescue antiemetic (VAS >= 4, Boogaerts 2000; clinical-sources §3.5). Clinics may choose another.
DEFAULT_NAUSEA_RESCUE_ANTIEMETIC_AT_OR_ABOVE = 4

SUDS = Scale(
    key="suds",
    name="SUDS (Subjective Units of Distress)",
    min_value=0,
    max_value=10,
    unit_label="/10",
    anchors={
        0: "Peace and complete calm",
        1: "No distress; alert and focused",
        2: "A little bit sad or distressed",
        3: "Worried or upset; still able to function",
        4: "Mild to moderate anxiety and worry",
        5: "Upset and uncomfortable; still functional",
        6: "Moderate to strong discomfort",
        7: "Discomfort dominates thoughts; struggles to function normally",
        8: "Worried and panicky; losing focus; anxious in the body",
        9: "Extremely anxious and desperate, helpless",
        10: "Unbearably upset, cannot function, on the verge of breakdown",
    },
    source="Wolpe 1969; 0–10 anchor set in clinical-sources §3.4",
)

SCALES: Mapping[str, Scale] = MappingProxyType(
    {scale.key: scale for scale in (MOAAS, RASS, DISSOCIATION, NAUSEA, SUDS)}
)


def get_scale(key: str) -> Scale:
    """The scale stored under a Reading attribute name; KeyError names the known keys."""
    try:
        return SCALES[key]
    except KeyError:
        known = ", ".join(SCALES)
        raise KeyError(f"no scale called {key!r}; known scales: {known}") from None


def suggests_rescue_antiemetic(
    nausea: int, at_or_above: int = DEFAULT_NAUSEA_RESCUE_ANTIEMETIC_AT_OR_ABOVE
) -> bool:
    """Whether a nausea rating reaches the point where a rescue antiemetic is suggested."""
    if not NAUSEA.contains(nausea):
        raise ValueError(f"nausea {nausea} is outside {NAUSEA.range_text}")
    return nausea >= at_or_above
