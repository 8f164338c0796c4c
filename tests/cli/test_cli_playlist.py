"""`kapsession playlist check` and the doctor's audio checks, as a subprocess, on real files.

Playlists in every form other players write (M3U with #EXTINF, M3U8 with non-ASCII names and
CRLF line ends, PLS, XSPF with percent-encoded file:// URIs) over generated WAV files in
tmp_path; the command measures each file (with libVLC where it loads) and exits 1 when an entry
is missing, empty, or not on this computer, and when a playlist cannot be read at all.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.audio_files import silent_wav
from support.pulse import PulseSink, pulse_sink

pytestmark = pytest.mark.slow
__all__ = ["pulse_sink"]  # the private PulseAudio fixture, for the doctor tests

REPO_ROOT = Path(__file__).resolve().parents[2]
RunCli = Callable[..., subprocess.CompletedProcess[str]]  # the run_cli fixture (conftest.py)

TRACKS_S = {"one.wav": 2, "Stille Wasser – Größe.wav": 3, "雨の音.wav": 65}


def mmss(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


@pytest.fixture
def music(tmp_path: Path) -> Path:
    """A playlists folder with a music folder beside the playlists, names in several scripts."""
    folder = tmp_path / "lists"
    for name, seconds in TRACKS_S.items():
        silent_wav(folder / "music" / name, seconds)
    return folder


def write(path: Path, text: str, *, eol: str = "\n", encoding: str = "utf-8") -> Path:
    path.write_bytes(text.replace("\n", eol).encode(encoding))
    return path


def good_playlists(folder: Path) -> dict[str, Path]:
    """The same three tracks as each format lists them."""
    music = folder / "music"
    uris = [(music / name).as_uri() for name in TRACKS_S]  # percent-encoded, UTF-8
    assert "%E2%80%93" in uris[1] and "%20" in uris[1]
    return {
        "m3u": write(
            folder / "calm.m3u",
            "#EXTM3U\n#EXTINF:2,One\nmusic/one.wav\n\n# a comment\n"
            "#EXTINF:3,Stille Wasser\nmusic/Stille Wasser – Größe.wav\n"
            "#EXTINF:65,Rain\nmusic/雨の音.wav\n",
            encoding="utf-8-sig",
        ),
        "m3u8-crlf": write(
            folder / "peak.m3u8",
            "#EXTM3U\n#EXTINF:2,One\nmusic/one.wav\n#EXTINF:3,Größe\n"
            "music/Stille Wasser – Größe.wav\n#EXTINF:65,雨の音\nmusic/雨の音.wav\n",
            eol="\r\n",
        ),
        "pls": write(
            folder / "onset.pls",
            "[playlist]\nFile1=music/one.wav\nTitle1=One\nLength1=2\n"
            "File2=music/Stille Wasser – Größe.wav\nFile3=music/雨の音.wav\n"
            "NumberOfEntries=3\nVersion=2\n",
        ),
        "xspf": write(
            folder / "return.xspf",
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<playlist version="1" xmlns="http://xspf.org/ns/0/">\n  <trackList>\n'
            + "".join(
                f"    <track><location>{uri}</location><title>{name}</title></track>\n"
                for uri, name in zip(uris, TRACKS_S, strict=True)
            )
            + "  </trackList>\n</playlist>\n",
        ),
    }


def check(run_cli: RunCli, *files: Path | str, as_json: bool = False) -> Any:
    args = ["playlist", "check", *(["--json"] if as_json else []), *map(str, files)]
    return run_cli(*args, use_data_dir=False)


# --- good playlists ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["m3u", "m3u8-crlf", "pls", "xspf"])
def test_a_good_playlist_in_any_form_lists_each_track_with_its_duration_and_the_total(
    run_cli: RunCli, music: Path, form: str
) -> None:
    # Given a playlist of three readable tracks, written as other players write that format
    playlist = good_playlists(music)[form]

    # When it is checked
    result = check(run_cli, playlist)

    # Then it passes, listing each resolved file with its measured length, and the total
    assert result.returncode == 0, result.stdout + result.stderr
    assert_no_traceback(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{playlist}  (") and "3 entries" in lines[0]
    for line, (name, seconds) in zip(lines[1:4], TRACKS_S.items(), strict=True):
        assert line.split()[0] == mmss(seconds)
        assert line.endswith(str(music / "music" / name))
    assert lines[4].split()[:2] == ["total", mmss(sum(TRACKS_S.values()))]
    assert lines[4].endswith("ok")


def test_a_playlist_named_relative_to_the_current_folder_lists_absolute_paths(
    run_cli: RunCli, music: Path, tmp_path: Path
) -> None:
    # Given a playlist named relative to the folder the command runs in (tmp_path)
    good_playlists(music)
    relative = (music / "peak.m3u8").relative_to(tmp_path)

    # When it is checked, as text and as JSON
    text = check(run_cli, relative)
    (report,) = json.loads(check(run_cli, relative, as_json=True).stdout)

    # Then the playlist and its tracks are shown by their full paths
    assert text.stdout.splitlines()[0].startswith(f"{music / 'peak.m3u8'}  (")
    assert str(music / "music" / "one.wav") in text.stdout
    assert report["playlist"] == str(music / "peak.m3u8")
    assert report["entries"][0]["path"] == str(music / "music" / "one.wav")


def test_json_is_one_object_per_file_with_the_same_facts_as_the_text(
    run_cli: RunCli, music: Path
) -> None:
    # Given the same tracks in four playlist formats
    playlists = list(good_playlists(music).values())

    # When they are checked as text and as JSON
    text = check(run_cli, *playlists)
    data = json.loads(check(run_cli, *playlists, as_json=True).stdout)

    # Then the JSON is a list, one object per file in order, saying what the text says
    assert text.returncode == 0
    assert [d["playlist"] for d in data] == [str(p) for p in playlists]
    assert [d["format"] for d in data] == ["m3u", "m3u", "pls", "xspf"]
    blocks = text.stdout.strip().split("\n\n")
    assert len(blocks) == len(data)
    for block, report in zip(blocks, data, strict=True):
        assert report["ok"] is True
        assert report["total_duration_ms"] == sum(TRACKS_S.values()) * 1000
        assert [e["path"] for e in report["entries"]] == [
            str(music / "music" / name) for name in TRACKS_S
        ]
        assert [e["duration_ms"] for e in report["entries"]] == [
            s * 1000 for s in TRACKS_S.values()
        ]
        assert all(e["problem"] is None and e["message"] is None for e in report["entries"])
        shown = [line.split()[0] for line in block.splitlines()[1:4]]
        assert shown == [mmss(round(e["duration_ms"] / 1000)) for e in report["entries"]]
        assert f"total {mmss(report['total_duration_ms'] // 1000)}" in block


def test_the_shipped_phase_playlists_all_pass(run_cli: RunCli) -> None:
    shipped = sorted((REPO_ROOT / "playlists").glob("*.m3u8"))
    assert len(shipped) >= 5

    result = check(run_cli, *shipped, as_json=True)

    assert result.returncode == 0, result.stdout
    reports = json.loads(result.stdout)
    assert len(reports) == len(shipped)
    for report in reports:
        assert report["ok"], report["playlist"]
        assert all(e["duration_ms"] and e["duration_ms"] > 60_000 for e in report["entries"])
        assert report["total_duration_ms"] >= 15 * 60_000, report["playlist"]


# --- problems ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "problem", "words"),
    [
        pytest.param("music/gone.wav", "missing", ["gone.wav is missing"], id="missing"),
        pytest.param(
            "music/empty.wav", "zero-length", ["empty.wav is empty (0 bytes)"], id="empty"
        ),
        pytest.param(
            "C:\\Users\\Nurse\\Music\\calm.mp3",
            "not a local file",
            ["C:\\Users\\Nurse\\Music\\calm.mp3", "Windows"],
            id="windows-path",
        ),
    ],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_bad_entry_fails_the_check_naming_its_line_and_the_problem(
    run_cli: RunCli, music: Path, entry: str, problem: str, words: list[str], as_json: bool
) -> None:
    # Given a playlist with one good track and, on line 5, a bad entry
    (music / "music" / "empty.wav").write_bytes(b"")
    playlist = write(
        music / "broken.m3u8",
        f"#EXTM3U\n#EXTINF:2,One\nmusic/one.wav\n#EXTINF:-1,Bad\n{entry}\n",
        eol="\r\n",
    )

    # When it is checked
    result = check(run_cli, playlist, as_json=as_json)

    # Then it fails, saying which line is wrong and what to do, and still totals the good track
    assert result.returncode == 1
    assert_no_traceback(result)
    if as_json:
        (report,) = json.loads(result.stdout)
        assert report["ok"] is False
        assert report["total_duration_ms"] == 2000
        bad = report["entries"][1]
        assert (bad["line"], bad["location"], bad["problem"], bad["duration_ms"]) == (
            5,
            entry,
            problem,
            None,
        )
        assert all(word in bad["message"] for word in words)
        return
    problem_lines = [line for line in result.stdout.splitlines() if "PROBLEM" in line]
    assert len(problem_lines) == 1
    assert "line 5:" in problem_lines[0]
    assert all(word in problem_lines[0] for word in words)
    assert "total 0:02" in result.stdout and "1 problem(s)" in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        pytest.param("nowhere.m3u8", None, ["nowhere.m3u8", "cannot be read"], id="missing"),
        pytest.param("folder.m3u8", "<dir>", ["folder.m3u8", "is a folder"], id="a-folder"),
        pytest.param(
            "headless.pls", b"File1=a.wav\n", ["headless.pls", "line 1"], id="pls-no-header"
        ),
        pytest.param(
            "bad.xspf",
            b'<?xml version="1.0"?>\n<playlist>\n<trackList>\n<track>\n</playlist>\n',
            ["bad.xspf", "line"],
            id="xspf-not-well-formed",
        ),
        pytest.param(
            "latin.m3u8",
            "#EXTM3U\nmusic/Größe.wav\n".encode("latin-1"),
            ["latin.m3u8"],
            id="m3u8-not-utf8",
        ),
        pytest.param("notes.txt", b"just some notes\n", ["notes.txt", ".m3u"], id="not-a-playlist"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_playlist_that_cannot_be_read_fails_with_a_message_and_no_traceback(
    run_cli: RunCli,
    music: Path,
    name: str,
    content: bytes | str | None,
    words: list[str],
    as_json: bool,
) -> None:
    # Given a playlist file that is missing, a folder, or not a playlist kapsession can read,
    # checked together with a good one
    broken = music / name
    if content == "<dir>":
        broken.mkdir()
    elif isinstance(content, bytes):
        broken.write_bytes(content)
    good = good_playlists(music)["m3u8-crlf"]

    # When both are checked
    result = check(run_cli, broken, good, as_json=as_json)

    # Then the check fails with a message naming the file, still checks the good one, and
    # shows no traceback
    assert result.returncode == 1
    assert_no_traceback(result)
    if as_json:
        first, second = json.loads(result.stdout)
        assert (first["playlist"], first["ok"], first["entries"]) == (str(broken), False, [])
        assert all(word in first["error"] for word in words), first["error"]
        assert second["ok"] is True
        return
    message = result.stdout.splitlines()[0]
    assert message.startswith(f"Playlist {broken}")
    assert all(word in message for word in words), message
    assert f"{good}  (m3u, 3 entries)" in result.stdout


def test_playlist_check_without_files_is_a_usage_error(run_cli: RunCli) -> None:
    result = run_cli("playlist", "check", use_data_dir=False)
    assert result.returncode == 2
    assert "FILE" in result.stderr
    assert_no_traceback(result)


def test_playlist_check_opens_no_database(run_cli: RunCli, music: Path, data_dir: Path) -> None:
    # (it only logs to the data folder, like every command)
    result = run_cli("playlist", "check", str(good_playlists(music)["pls"]))
    assert result.returncode == 0
    assert list(data_dir.glob("*.sqlite3")) == []
    assert (data_dir / "logs" / "kapsession.log").is_file()


# --- doctor -----------------------------------------------------------------------------------


def doctor_checks(run_cli: RunCli, env: dict[str, str]) -> dict[str, dict[str, str]]:
    result = run_cli("doctor", "--json", env=env)
    assert_no_traceback(result)
    report = json.loads(result.stdout)
    return {c["name"]: c for c in report["checks"]}


def test_doctor_reports_libvlc_and_the_sound_server_that_answered(
    run_cli: RunCli, pulse_sink: PulseSink
) -> None:
    # Given a laptop with libVLC and a running PulseAudio server named in the environment
    # When the doctor checks it
    checks = doctor_checks(run_cli, pulse_sink.env)

    # Then both audio checks pass, the audio output naming the server that answered
    assert checks["libVLC"]["status"] == "ok"
    assert checks["libVLC"]["detail"].startswith("libVLC 3.")
    output = checks["audio output"]
    assert output["status"] == "ok"
    assert output["detail"].startswith("pulseaudio ")
    assert output["detail"].endswith(f" answered at {pulse_sink.server}")


@pytest.mark.parametrize("server", ["nobody-listens", "empty-socket-file"])
def test_doctor_warns_when_no_sound_server_answers(
    run_cli: RunCli, cli_env: dict[str, str], tmp_path: Path, server: str
) -> None:
    runtime = tmp_path / "runtime"
    (runtime / "pulse").mkdir(parents=True)
    if server == "nobody-listens":
        # Given PULSE_SERVER names a socket path nobody listens on
        where = f"unix:{runtime / 'clinic-native'}"
        env: dict[str, str] = {"PULSE_SERVER": where}
    else:
        # Given an empty file where the session's own pulse socket would be
        (runtime / "pulse" / "native").touch()
        where = str(runtime / "pulse" / "native")
        env = {}
        cli_env.pop("PULSE_SERVER", None)

    # When the doctor checks it
    checks = doctor_checks(run_cli, {**env, "XDG_RUNTIME_DIR": str(runtime)})

    # Then it warns that nobody answered there and says what to do, while libVLC is fine
    assert checks["libVLC"]["status"] == "ok"
    output = checks["audio output"]
    assert output["status"] == "warn"
    assert output["detail"].startswith(
        f"no sound server answered at {where} (Connection refused); start PulseAudio or "
        "PipeWire, or log in to the desktop session."
    )
