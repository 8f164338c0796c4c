"""The scope rules every export format relies on, and the export use case: one participant's
data only, private notes only when asked, DRAFT for an unsigned session, atomic writing, no
overwrite without force, an audit row for every export."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kapsession.domain.clock import FakeClock
from kapsession.export.content import ExportRefused
from kapsession.export.files import write_atomically
from kapsession.paths import resolve_paths
from kapsession.services.context import AppContext, open_context
from kapsession.services.demo import DemoSession, populate
from kapsession.services.export_content import gather
from kapsession.services.exports import ExportRequest, ExportService
from kapsession.storage.audit import AuditRepository

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC) + timedelta(days=60)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[DemoSession]]:
    folder = tmp_path_factory.mktemp("demo-scope") / "data"
    context = open_context(
        resolve_paths(data_dir=folder, training=True, environ={}), clock=FakeClock(NOW)
    )
    try:
        made = populate(context.service, NOW)
    finally:
        context.close()
    return folder, made


@pytest.fixture
def demo(
    demo_folder: tuple[Path, list[DemoSession]], tmp_path: Path
) -> Iterator[tuple[AppContext, list[DemoSession]]]:
    folder, made = demo_folder
    copy = tmp_path / "data"
    shutil.copytree(folder, copy)
    context = open_context(
        resolve_paths(data_dir=copy, training=True, environ={}), clock=FakeClock(NOW)
    )
    try:
        yield context, made
    finally:
        context.close()


def _couples(made: list[DemoSession]) -> DemoSession:
    return next(m for m in made if m.modality == "couples")


def test_a_couples_session_needs_a_participant_and_lists_them(demo) -> None:
    context, made = demo
    with pytest.raises(ExportRefused, match=r"Jonah Okafor.*Lena Okafor"):
        gather(context.service.database, _couples(made).id)


def test_one_participant_export_holds_only_their_clinical_rows(demo) -> None:
    context, made = demo
    couples = _couples(made)
    record = context.service.sessions.get(couples.id)
    lena, jonah = (
        next(p for p in record.participants if p.client.given_name == name)
        for name in ("Lena", "Jonah")
    )
    content = gather(context.service.database, couples.id, participant="Lena Okafor")
    # Then every clinical row is Lena's, and room-wide rows carry no participant
    assert content.participant.id == lena.id
    assert content.doses and {d.participant_id for d in content.doses} == {lena.id}
    assert {o.participant_id for o in content.observations} == {lena.id}
    assert {d.participant_id for d in content.discharges} == {lena.id}
    assert {e.participant_id for e in content.events} <= {lena.id, None}
    assert {i.participant_id for i in content.timeline} <= {lena.id, None}
    # And Jonah appears nowhere: not his names, record number or ids, not his lines
    texts = [n.text for n in content.notes] + [
        f"{i.title} {i.detail} {i.reason or ''}" for i in content.timeline
    ]
    texts += [body for n in content.notes for _k, _t, body in n.sections]
    blob = "\n".join(texts)
    for word in ("Jonah", "DEMO-0002", str(jonah.id), str(jonah.client.id)):
        assert word not in blob
    # ... while Lena's own family name (shared with Jonah) is kept
    assert "Lena Okafor" in blob
    assert "[another participant]" in blob


def test_private_notes_only_when_asked(demo) -> None:
    context, made = demo
    session_id = made[0].id
    assert gather(context.service.database, session_id).private_notes is None
    included = gather(context.service.database, session_id, include_private=True)
    assert included.private_notes and "supervision" in included.private_notes[0].text


def test_the_unsigned_session_is_a_draft(demo) -> None:
    context, made = demo
    assert gather(context.service.database, made[-1].id).draft
    assert not gather(context.service.database, made[0].id).draft


def test_an_unknown_session_is_refused(demo) -> None:
    context, _made = demo
    with pytest.raises(ExportRefused, match="No session"):
        gather(context.service.database, uuid.uuid4())


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "record.md"
    target.write_text("the clinic's own file", encoding="utf-8")
    with pytest.raises(ExportRefused, match="--force"):
        write_atomically(target, b"new")
    assert target.read_text(encoding="utf-8") == "the clinic's own file"
    write_atomically(target, b"new", force=True)
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["record.md"]  # no temporary left


def test_a_missing_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ExportRefused, match="does not exist"):
        write_atomically(tmp_path / "nowhere" / "x.md", b"x")


def test_every_export_is_audited_with_format_and_destination(demo, tmp_path: Path) -> None:
    context, made = demo
    service = ExportService(context.service.database, context.clock)
    out = tmp_path / "maya.md"
    result = service.export(ExportRequest(made[0].id, "md", out))
    assert result.files == (out,) and out.read_text(encoding="utf-8").strip()
    (row,) = [
        a
        for a in AuditRepository(context.service.database).for_session(made[0].id)
        if a.action == "export"
    ]
    assert row.detail["format"] == "md" and row.detail["destination"] == str(out)
    assert row.detail["draft"] is False and row.detail["private_notes_included"] is False


def test_rems_data_is_refused_for_a_session_that_is_not_esketamine(demo, tmp_path: Path) -> None:
    context, made = demo
    sublingual = next(m for m in made if m.protocol == "sublingual-kap-3h")
    service = ExportService(context.service.database, context.clock)
    with pytest.raises(ExportRefused, match="esketamine"):
        service.export(ExportRequest(sublingual.id, "rems", tmp_path / "rems.pdf"))
    assert not (tmp_path / "rems.pdf").exists()
