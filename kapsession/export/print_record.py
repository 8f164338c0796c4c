"""The session record as printed (the PDF), in filing order: the monitoring part
(`print_blocks.py`), then the session note, the notes, the timeline, the music, the
signatures and addenda, and the private notes on a page of their own when included."""

from __future__ import annotations

from datetime import tzinfo

from kapsession.domain.corrections import EntryState
from kapsession.export.adverse_blocks import adverse_sections
from kapsession.export.content import ExportContent
from kapsession.export.document import (
    BREAK,
    Align,
    Block,
    Column,
    Document,
    Emphasis,
    Heading,
    Inline,
    Notice,
    PageBreak,
    Paragraph,
    Row,
    Section,
    Table,
    Text,
    joined,
    lines,
    span,
)
from kapsession.export.note_blocks import ADDENDUM_CHECK
from kapsession.export.order_blocks import order_section
from kapsession.export.print_blocks import (
    CHART_URL,
    PrintRows,
    alerts,
    cell,
    discharge,
    doses,
    header,
    muted,
    note_cell,
    scales,
    texts,
    vitals,
)
from kapsession.export.record_rows import RecordRows, music_played, phase_name
from kapsession.export.screening_blocks import screening_sections
from kapsession.records.entries import LATE_ENTRY_AFTER
from kapsession.records.notes import NoteKind, NoteRecord, SignatureCheck, SignedPart
from kapsession.records.session_log import LogItem, LogKind

__all__ = ["CHART_URL", "print_document"]

TIMELINE_NOTE_CHARS = 140  # a note in the timeline is cut here; the notes section has it whole
_PART_NAMES: dict[str, str] = {
    SignedPart.MONITORING: "Monitoring",
    SignedPart.THERAPY: "Therapy",
    "addendum": "Addendum",
}
_KIND_NAMES = {LogKind.CHECKIN: "Check-in", LogKind.PHASE: "Phase", LogKind.DOSE: "Dose"}


def print_document(
    content: ExportContent,
    clinic: str = "",
    chart_size: tuple[float, float] | None = None,
    *,
    tz: tzinfo | None = None,
) -> Document:
    """The record of one participant's session as printed; `chart_size`: the vitals chart's
    size in layout units (`CHART_URL`), None without a chart; times in `tz`, the computer's
    zone by default."""
    pr = PrintRows(RecordRows(content, tz))
    blocks: list[Block] = [
        *header(pr, clinic),
        order_section(content, tz),  # issue 16
        *screening_sections(content, tz),  # issue 17
        doses(pr),
        vitals(pr, chart_size),
        scales(pr),
        alerts(pr),
        *adverse_sections(pr.rows),  # issue 16
        discharge(pr),
        session_note(pr),
        note_entries(pr),
        *long_notes(pr),
        timeline(pr),
        music(pr),
        signatures(pr),
    ]
    if content.private_notes is not None:
        blocks += private_notes(pr)
    return Document(tuple(blocks))


# --- the therapy part ---------------------------------------------------------------------------
def session_note(pr: PrintRows) -> Section:
    note = pr.c.session_note
    if note is None:
        return Section("Session note", (muted("The session note has not been written yet."),))
    meta = " · ".join(
        p
        for p in (
            f"Template: {note.template_key.upper()}" if note.template_key else "",
            f"written by {pr.who(note.author_id)}" if note.author_id else "",
            pr.times.date_time(note.recorded_at),
        )
        if p
    )
    blocks: list[Block] = [Paragraph(texts(meta), Emphasis.SMALL)]
    if note.sections:
        for _key, title, body in note.sections:
            text = lines(body.strip()) if body.strip() else (span(Emphasis.MUTED, "—"),)
            blocks += [Heading(3, title), Paragraph(text)]
    else:
        blocks.append(Paragraph(lines(note.text.strip())))
    return Section("Session note", tuple(blocks))


def note_entries(pr: PrintRows) -> Section:
    title = "Notes during the session"
    items = pr.rows.note_entries
    if not items:
        return Section(title, (muted("No notes were written."),))
    rows = []
    for item in items:
        n = item.row
        late = (
            f"late entry, written {pr.times.clock(n.recorded_at)}"
            if n.recorded_at - n.occurred_at > LATE_ENTRY_AFTER and not item.corrects
            else ""
        )
        by = joined([texts(pr.who(n.author_id)), texts(late), pr.history(item)])
        cells = (
            cell(pr.when(n.occurred_at)),
            cell(pr.t(n.occurred_at)),
            cell(_note_kind(pr, n), Emphasis.SMALL),
            cell(_in_cell(n.text.strip())),
            note_cell(by),
        )
        rows.append(Row(cells, item.state))
    columns = (
        Column("Time", 7),
        Column("T+", 7),
        Column("Phase", 13),
        Column("Note", 48),
        Column("By"),
    )
    return Section(title, (Table(columns, tuple(rows)),), table_head=True)


def _note_kind(pr: PrintRows, note: NoteRecord) -> str:
    """The phase column: the note's phase, and "Intention" for the client's intention (17)."""
    phase = phase_name(pr.c, note.phase_key)
    if note.kind != NoteKind.INTENTION:
        return phase
    return " · ".join(p for p in ("Intention", phase) if p)


# A note longer than this is printed in full after the notes' table, in paragraphs of at most
# `_PIECE_CHARS` (its lines kept, a long line cut at a space), and its row says so.
# Qt finds what to paint on a page through checkpoints of the document's top level only: a
# table cell, or a paragraph, running over many pages was painted through from its start on
# every page, so a note's time grew with the square of its length (a 2 MB note 29 s).
LONG_NOTE_CHARS = 3_000
_PIECE_CHARS = 1_000


def _in_cell(text: str) -> Text:
    if len(text) <= LONG_NOTE_CHARS:
        return lines(text)
    return texts(f"A long note ({len(text):,} characters), printed in full after this table.")


def long_notes(pr: PrintRows) -> list[Block]:
    """The notes too long for their cell, in full: top-level paragraphs after the table."""
    blocks: list[Block] = []
    for item in pr.rows.note_entries:
        n = item.row
        text = n.text.strip()
        if len(text) <= LONG_NOTE_CHARS:
            continue
        head = " · ".join(p for p in (pr.when(n.occurred_at), pr.t(n.occurred_at)) if p)
        who = pr.who(n.author_id)
        blocks.append(Heading(2, f"Note of {head}{f', by {who}' if who else ''}, in full"))
        chunks = _paragraphs(_pieces(text))
        blocks += [Paragraph(lines(c), runs_on=i < len(chunks) - 1) for i, c in enumerate(chunks)]
    return blocks


def _paragraphs(pieces: list[str]) -> list[str]:
    """The pieces gathered, in order, into paragraphs of at most `_PIECE_CHARS` (a line
    break between two), printed with no space between them (`runs_on`): the note reads as
    one text, line for line, and Qt lays out and paints a tenth as many paragraphs (the 2 MB
    note's PDF about a fifth quicker than with a paragraph a line)."""
    out: list[str] = []
    chunk: list[str] = []
    size = 0
    for piece in pieces:
        if chunk and size + 1 + len(piece) > _PIECE_CHARS:
            out.append("\n".join(chunk))
            chunk, size = [], -1
        chunk.append(piece)
        size += 1 + len(piece)
    if chunk:
        out.append("\n".join(chunk))
    return out


def _pieces(text: str) -> list[str]:
    """The note's lines, each cut at a space into pieces of at most `_PIECE_CHARS`; linear in
    the note (a start index walks the line: cutting the rest off each time copied it, and a
    10 MB note on one line took 5 s)."""
    out = []
    for line in text.split("\n"):
        start = 0
        while len(line) - start > _PIECE_CHARS:
            end = start + _PIECE_CHARS
            space = line.rfind(" ", start + _PIECE_CHARS // 2, end)
            cut = space + 1 if space >= 0 else end
            out.append(line[start:cut])
            start = cut
        out.append(line[start:])
    return out


def timeline(pr: PrintRows) -> Section:
    # Notes are in full under "Notes during the session" and track ends are the lengths
    # under "Music played": listing them here again would double the document.
    ends = {m.id for m in pr.c.music if m.kind == "track_end"}
    entries = {n.id for n in pr.c.note_entries}  # with intentions (issue 17)
    items = [
        i
        for i in pr.c.timeline
        if not (i.kind is LogKind.MUSIC and i.entry_id in ends)
        and not (i.kind is LogKind.NOTE and i.entry_id in entries)
    ]
    if not items:
        return Section("Event timeline", (muted("Nothing was recorded."),))
    columns = (Column("Time", 7), Column("T+", 7), Column("Kind", 10), Column("Entry"))
    table = Table(columns, tuple(_timeline_row(pr, i) for i in items))
    intro = (
        "Everything recorded, in time order, music included. The notes are under "
        "Notes during the session and how long each track played under Music played. "
        "Amended and withdrawn entries stay, with the reason."
    )
    return Section("Event timeline", (table,), intro=(intro,), table_head=True)


def _timeline_row(pr: PrintRows, item: LogItem) -> Row:
    detail = item.detail
    if item.kind is LogKind.NOTE and len(detail) > TIMELINE_NOTE_CHARS:
        detail = detail[: TIMELINE_NOTE_CHARS - 1].rstrip() + "…"
    text: Text = (item.title,)
    if detail:
        text += (" ", span(Emphasis.MUTED, f"— {detail}"))
    if item.state is not EntryState.STANDING:
        label = "Amended" if item.state is EntryState.AMENDED else "Withdrawn"
        text = (
            span(Emphasis.STRUCK, *text),
            BREAK,
            span(Emphasis.ALERT, f"{label}:"),
            f" {item.reason or ''}",
        )
    if item.late:
        text += (" ", span(Emphasis.SMALL, f"(written {pr.times.clock(item.recorded_at)})"))
    faint = (Emphasis.FAINT,) if item.kind is LogKind.MUSIC else ()
    kind = (Emphasis.SMALL, Emphasis.ALERT) if item.kind is LogKind.ALERT else (Emphasis.SMALL,)
    cells = (
        cell(pr.when(item.at), *faint),
        cell(pr.t(item.at), *faint),
        cell(_KIND_NAMES.get(item.kind, item.kind.label), *kind),
        cell(text, *faint),
    )
    return Row(cells)


def music(pr: PrintRows) -> Section:
    played = music_played(pr.c.music)
    if not played:
        return Section("Music played", (muted("No music was played."),))
    rows = []
    for track in played:
        how = "skipped" if track.skipped else "stopped" if track.stopped else ""
        minutes, seconds = divmod(round(track.played_s), 60)
        cells = (
            cell(pr.when(track.started_at)),
            cell(pr.t(track.started_at)),
            cell(phase_name(pr.c, track.phase_key), Emphasis.SMALL),
            cell(track.title),
            cell(track.playlist, Emphasis.SMALL),
            cell(f"{minutes}:{seconds:02d}"),
            cell(how, Emphasis.SMALL),
        )
        rows.append(Row(cells))
    columns = (
        Column("Started", 7),
        Column("T+", 7),
        Column("Phase", 15),
        Column("Track", 36),
        Column("Playlist", 17),
        Column("Played", 8, Align.END),
        Column(""),
    )
    return Section("Music played", (Table(columns, tuple(rows)),), table_head=True)


def signatures(pr: PrintRows) -> Section:
    c = pr.c
    rows = []
    for s in pr.rows.signatures:
        verified = c.signatures_verified.get(s.part)
        check: Inline
        if verified is None:
            check = span(Emphasis.MUTED, "—")
        elif verified == SignatureCheck.VALID:
            check = "✓ record unchanged since signing, signed with the signer's own key"
        elif verified == SignatureCheck.UNBOUND:
            check = span(
                Emphasis.MUTED,
                "made before signatures were bound to a person: content unchanged, signer "
                "not shown by a key",
            )
        else:
            check = span(Emphasis.ALERT, "✗ the record changed after signing")
        cells = (
            cell((span(Emphasis.STRONG, _PART_NAMES.get(s.part, s.part)),)),
            cell((s.signer_name, BREAK, span(Emphasis.SMALL, s.signer_role))),
            cell(pr.times.date_time(s.signed_at)),
            cell(s.meaning, Emphasis.SMALL),
            cell((check,), Emphasis.SMALL),
        )
        rows.append(Row(cells))
    blocks: list[Block] = []
    signed = {s.part for s in c.signatures}
    missing = [p for p in SignedPart if p not in signed]
    if missing:
        names = " and ".join(_PART_NAMES[p].lower() for p in missing)
        plural = "s" if len(missing) > 1 else ""
        blocks.append(
            Notice(
                f"Not signed: the {names} part{plural}. This document is a draft, not the "
                "final record."
            )
        )
    if rows:
        columns = (
            Column("Part", 12),
            Column("Signed by", 21),
            Column("Signed at", 17),
            Column("Meaning", 30),
            Column("Verified"),
        )
        blocks.append(Table(columns, tuple(rows)))
    for addendum in sorted(c.addenda, key=lambda n: n.recorded_at):
        signature = next((s for s in c.signatures if s.note_id == addendum.id), None)
        by: Text
        if signature is not None:
            verdict = c.addenda_verified.get(addendum.id)
            said = ADDENDUM_CHECK.get(verdict, "")
            by = (
                f"Signed by {signature.signer_name}, {pr.times.date_time(signature.signed_at)}",
                span(Emphasis.ALERT, said) if verdict == SignatureCheck.CHANGED else said,
            )
        else:
            by = (
                f"Written by {pr.who(addendum.author_id)}, "
                f"{pr.times.date_time(addendum.recorded_at)}; ",
                span(Emphasis.ALERT, "not signed"),
            )
        blocks += [
            Heading(3, f"Addendum, {pr.times.date_time(addendum.recorded_at)}"),
            Paragraph(lines(addendum.text.strip())),
            Paragraph(by, Emphasis.SMALL),
        ]
    return Section("Signatures and addenda", tuple(blocks))


def private_notes(pr: PrintRows) -> list[Block]:
    notes = pr.rows.private_notes or []
    intro = (
        "Psychotherapy notes are kept apart from the session record (HIPAA 45 CFR "
        "§164.501). They are in this document only because the person who exported it "
        "chose to include them.",
    )
    title = "Psychotherapy notes (private)"
    if not notes:
        return [PageBreak(), Section(title, (muted("There are none."),), intro=intro)]
    rows = []
    for item in notes:
        n = item.row
        cells = (
            cell(pr.when(n.occurred_at)),
            cell(pr.t(n.occurred_at)),
            cell(lines(n.text.strip())),
            note_cell(joined([texts(pr.who(n.author_id)), pr.history(item)])),
        )
        rows.append(Row(cells, item.state))
    columns = (Column("Time", 7), Column("T+", 7), Column("Note", 64), Column("By"))
    table = Table(columns, tuple(rows))
    return [PageBreak(), Section(title, (table,), intro=intro, table_head=True)]
