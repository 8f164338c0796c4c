"""`kapsession playlist check`: every entry's file and duration, or what is wrong with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from kapsession.audio.playlist import PlaylistError
from kapsession.audio.playlist_check import PlaylistCheck, check_playlist


def _duration_text(ms: int | None) -> str:
    if ms is None:
        return "?:??"
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _as_dict(check: PlaylistCheck) -> dict[str, Any]:
    return {
        "playlist": str(check.playlist.source),
        "format": str(check.playlist.format),
        "ok": check.ok,
        "total_duration_ms": check.total_duration_ms,
        "left_out": list(check.playlist.left_out),
        "entries": [
            {
                "line": e.entry.line,
                "location": e.entry.location,
                "path": str(e.entry.path) if e.entry.path else None,
                "title": e.entry.title,
                "duration_ms": e.duration_ms,
                "problem": str(e.problem) if e.problem else None,
                "message": e.message or None,
            }
            for e in check.entries
        ],
    }


def check_playlists(files: list[str], *, as_json: bool, out: TextIO) -> int:
    """Print the check of each playlist; 1 when any entry is missing or unreadable."""
    results: list[dict[str, Any]] = []
    failed = False
    for name in files:
        path = Path(name).absolute()  # entries resolve to absolute paths, whatever the cwd
        try:
            check = check_playlist(path)
        except (PlaylistError, OSError) as exc:
            failed = True
            # a PlaylistError names the file and the line already
            message = str(exc) if isinstance(exc, PlaylistError) else f"{path}: {exc}"
            results.append({"playlist": str(path), "ok": False, "error": message, "entries": []})
            if not as_json:
                out.write(f"{message}\n\n")
            continue
        failed = failed or not check.ok
        results.append(_as_dict(check))
        if as_json:
            continue
        out.write(f"{path}  ({check.playlist.format}, {len(check.entries)} entries)\n")
        for e in check.entries:
            where = str(e.entry.path) if e.entry.path else e.entry.location
            if e.ok:
                out.write(f"  {_duration_text(e.duration_ms):>8}  {where}\n")
            else:
                out.write(f"  {'PROBLEM':>8}  line {e.entry.line}: {e.message}\n")
        if not check.entries:
            out.write("  the playlist lists no tracks\n")
        for said in check.playlist.left_out:
            out.write(f"  {'LEFT OUT':>8}  {said}\n")
        total = _duration_text(check.total_duration_ms)
        count = len(check.problems) + len(check.playlist.left_out)
        verdict = "ok" if check.ok else f"{count or 'no'} problem(s)"
        out.write(f"  total {total}  —  {verdict}\n\n")
    if as_json:
        json.dump(results, out, indent=2)  # always a list, one object per file
        out.write("\n")
    return 1 if failed else 0
