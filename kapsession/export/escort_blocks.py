"""The escort for the day in the record's Discharge section (issue 17): one line, first, for
every format (Markdown and plain text through `note_blocks`, the PDF through `print_blocks`).
The escort's versions (recorded, corrected, withdrawn) are in the timeline with the other
events; this line is the one that stands."""

from __future__ import annotations

from dataclasses import replace

from kapsession.domain.corrections import effective
from kapsession.domain.escort import standing_escort
from kapsession.export.content import ExportContent
from kapsession.export.document import Paragraph, Section

NOT_RECORDED = "not recorded"


def escort_line(c: ExportContent) -> str:
    """ "Escort today: Jon Fischer (husband), +1 555 0101", "Escort today: none — client told
    to arrange transport" or "Escort today: not recorded"."""
    escort = standing_escort(effective(c.events), c.participant.id)
    return f"Escort today: {NOT_RECORDED if escort is None else escort.text()}"


def with_escort(section: Section, c: ExportContent) -> Section:
    """The Discharge section with the escort's line first."""
    return replace(section, blocks=(Paragraph((escort_line(c),)), *section.blocks))
