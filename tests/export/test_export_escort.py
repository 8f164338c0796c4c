"""The escort for the day in the session record (issue 17): one line first in the Discharge
section of the Markdown note and the printed record (PDF), the version that stands; its
versions (recorded, then corrected with the reason) in the timeline; "not recorded" where
none was."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from test_export_discharge_deviation import pdf_text

from kapsession.domain.escort import Escort
from kapsession.export.text import to_markdown
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather

if TYPE_CHECKING:
    from conftest import DemoData  # the `demo_db` fixture's value (tests/export/conftest.py)


def _discharge(markdown: str) -> str:
    """The Discharge section of the note, up to the next section."""
    start = markdown.index("## Discharge")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end >= 0 else None]


def test_the_standing_escort_is_the_first_line_of_the_discharge_and_its_versions_in_the_timeline(
    qapp: object, demo_db: DemoData, demo_copy: AppContext, tmp_path: Path
) -> None:
    # Given the unsigned demo session's client with an escort recorded, then corrected to none
    service = demo_copy.service
    record = service.sessions.get(demo_db.unsigned.id)
    (participant,) = record.participants
    at = record.started_at + timedelta(minutes=30)
    first = Escort("Jon Fischer", "husband", "+1 555 0101")
    saved = service.entries.add_event(
        record.id, "escort", occurred_at=at, recorded_at=at, label=first.label(),
        participant_id=participant.id, detail=first.detail(),
    )  # fmt: skip
    none = Escort(none=True)
    later = at + timedelta(minutes=5)
    service.entries.correct_event(
        saved.id, reason="Husband cannot come", recorded_at=later, label=none.label(),
        occurred_at=later, detail=none.detail(),
    )  # fmt: skip
    # When the record is exported as Markdown and as a PDF
    content = gather(service.database, record.id)
    markdown = to_markdown(content)
    # Then the Discharge section opens with the escort that stands
    section = _discharge(markdown)
    assert "Escort today: none — client told to arrange transport" in section
    assert "Jon Fischer" not in section
    # And the timeline keeps the first one, marked as corrected, and the reason
    assert "Escort today: Jon Fischer (husband), +1 555 0101" in markdown
    assert "Husband cannot come" in markdown
    # And the PDF says it too
    words = pdf_text(content, tmp_path, "record.pdf")
    assert "Escort today: none — client told to arrange transport" in words


def test_a_session_without_an_escort_says_not_recorded(
    demo_db: DemoData, demo_copy: AppContext
) -> None:
    # Given the first demo session, whose escort was never recorded
    content = gather(demo_copy.service.database, demo_db.first.id)
    # When it is exported as Markdown
    markdown = to_markdown(content)
    # Then its Discharge section says the escort is not recorded
    assert "Escort today: not recorded" in _discharge(markdown)
