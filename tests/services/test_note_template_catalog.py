"""The note template catalog: built-in templates, replaced or joined by the clinic's own files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapsession.domain.note_templates import Prefill
from kapsession.paths import resolve_paths
from kapsession.resources import note_templates_dir
from kapsession.services.note_templates import NoteTemplateCatalog, UnknownNoteTemplate

BUILTIN_KEYS = {"kap", "dap", "soap", "birp"}
KAP_TEXT = (note_templates_dir() / "kap.toml").read_text(encoding="utf-8")

# A file even root cannot read (reading from offset 0 fails with EIO), for the unreadable case.
UNREADABLE = Path("/proc/self/mem")


def clinic_template(key: str, name: str, title: str = "Summary") -> str:
    return (
        f'[template]\nkey = "{key}"\nname = "{name}"\nversion = 3\n\n'
        f'[[section]]\nkey = "summary"\ntitle = "{title}"\nprefill = "doses"\n'
    )


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the first line containing `fragment`, counted by hand."""
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the text")


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    folder = tmp_path / "note-templates"
    folder.mkdir()
    return folder


def test_the_built_in_templates_are_all_offered_by_name() -> None:
    # Given no clinic folder / When the catalog is scanned
    templates, problems = NoteTemplateCatalog(note_templates_dir(), None).scan()
    # Then the four built-in templates are offered, sorted by name, the default among them
    assert problems == []
    assert {t.key for t in templates} == BUILTIN_KEYS
    assert [t.name for t in templates] == sorted((t.name for t in templates), key=str.casefold)
    assert NoteTemplateCatalog.default_key == "kap"
    default = NoteTemplateCatalog(note_templates_dir(), None).get(NoteTemplateCatalog.default_key)
    assert default.section("intention").prefill is Prefill.INTENTION


def test_the_clinic_folder_is_in_the_data_folder(tmp_path: Path) -> None:
    paths = resolve_paths(data_dir=tmp_path, environ={})
    assert paths.note_templates_dir == tmp_path.resolve() / "note-templates"


def test_a_clinic_file_replaces_the_built_in_template_with_its_key_and_adds_new_ones(
    clinic: Path,
) -> None:
    # Given the clinic's own "kap" template and a template of its own
    (clinic / "our-kap.toml").write_text(clinic_template("kap", "Our KAP note"), encoding="utf-8")
    (clinic / "short.toml").write_text(clinic_template("short", "Short note"), encoding="utf-8")
    # When the catalog is scanned
    catalog = NoteTemplateCatalog(note_templates_dir(), clinic)
    templates, problems = catalog.scan()
    # Then "kap" is the clinic's, once, the other built-ins stay, and the new one is added
    assert problems == []
    assert sorted(t.key for t in templates) == sorted(BUILTIN_KEYS | {"short"})
    assert catalog.get("kap").name == "Our KAP note"
    assert catalog.get("kap").version == 3
    assert catalog.get("soap").section("objective").prefills


@pytest.mark.parametrize(
    ("broken", "encoding", "bad_fragment", "field", "says"),
    [
        pytest.param(
            KAP_TEXT.replace('prefill = "doses"', 'prefill = "dose"'),
            "utf-8",
            'prefill = "dose"',
            "section[2].prefill",
            'did you mean "doses"',
            id="bad-value",
        ),
        pytest.param(
            KAP_TEXT.replace('title = "Plan"', 'titel = "Plan"'),
            "utf-8",
            'titel = "Plan"',
            "section[8].titel",
            'unknown field "titel"',
            id="unknown-field",
        ),
        pytest.param(
            KAP_TEXT.replace("version = 1", "version = = 1"),
            "utf-8",
            "version = = 1",
            None,
            "is not valid TOML",
            id="toml-syntax",
        ),
        pytest.param(
            KAP_TEXT.replace('title = "Experience"', 'title = "Expérience"'),
            "latin-1",
            'title = "Exp',
            None,
            "is not UTF-8 text; save the file as UTF-8",
            id="not-utf8",
        ),
    ],
)
def test_a_broken_clinic_file_is_reported_and_the_built_in_template_stays(
    clinic: Path, broken: str, encoding: str, bad_fragment: str, field: str | None, says: str
) -> None:
    # Given a clinic copy of the default template with one mistake
    (clinic / "kap.toml").write_bytes(broken.encode(encoding))
    # When the catalog is scanned
    templates, problems = NoteTemplateCatalog(note_templates_dir(), clinic).scan()
    # Then all templates are still offered, the default the built-in one, and the file is named
    assert {t.key for t in templates} == BUILTIN_KEYS
    (problem,) = problems
    assert (problem.source, problem.line, problem.field) == (
        "kap.toml",
        line_of(broken, bad_fragment),
        field,
    )
    assert says in problem.message
    assert str(problem).startswith(f"kap.toml, line {problem.line}")


@pytest.mark.skipif(not UNREADABLE.is_file(), reason="needs Linux /proc")
def test_an_unreadable_clinic_file_is_reported_not_raised(clinic: Path) -> None:
    # Given a template file in the clinic folder that cannot be read
    (clinic / "locked.toml").symlink_to(UNREADABLE)
    # When the catalog is scanned
    templates, problems = NoteTemplateCatalog(note_templates_dir(), clinic).scan()
    # Then the built-in templates are offered and the file is named with what to check
    assert {t.key for t in templates} == BUILTIN_KEYS
    (problem,) = problems
    assert (problem.source, problem.line) == ("locked.toml", None)
    assert "cannot be read" in problem.message


def test_two_clinic_files_with_the_same_key_offer_the_first_and_report_the_second(
    clinic: Path,
) -> None:
    (clinic / "a.toml").write_text(clinic_template("ours", "Ours A"), encoding="utf-8")
    (clinic / "b.toml").write_text(clinic_template("ours", "Ours B"), encoding="utf-8")
    catalog = NoteTemplateCatalog(note_templates_dir(), clinic)
    templates, problems = catalog.scan()
    assert catalog.get("ours").name == "Ours A"
    assert [t.key for t in templates].count("ours") == 1
    (problem,) = problems
    assert (problem.source, problem.field) == ("b.toml", "template.key")
    assert 'a.toml already uses key "ours"' in problem.message


def test_a_missing_clinic_folder_is_normal(tmp_path: Path) -> None:
    templates, problems = NoteTemplateCatalog(note_templates_dir(), tmp_path / "none").scan()
    assert {t.key for t in templates} == BUILTIN_KEYS
    assert problems == []


def test_a_file_where_the_clinic_folder_should_be_is_reported(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "note-templates"
    not_a_folder.write_text("kap", encoding="utf-8")
    templates, problems = NoteTemplateCatalog(note_templates_dir(), not_a_folder).scan()
    assert {t.key for t in templates} == BUILTIN_KEYS
    (problem,) = problems
    assert "not a folder" in problem.message


def test_a_missing_built_in_folder_still_offers_the_clinic_templates(
    tmp_path: Path, clinic: Path
) -> None:
    (clinic / "ours.toml").write_text(clinic_template("ours", "Ours"), encoding="utf-8")
    templates, problems = NoteTemplateCatalog(tmp_path / "gone", clinic).scan()
    assert [t.key for t in templates] == ["ours"]
    assert [p.message for p in problems] == [
        "the built-in note template folder is missing; reinstall kapsession"
    ]


def test_an_unknown_key_lists_what_is_available_and_what_is_broken(clinic: Path) -> None:
    # Given a clinic folder with a broken file
    (clinic / "broken.toml").write_text("[template]\nkey = \n", encoding="utf-8")
    # When a template that does not exist is asked for
    with pytest.raises(UnknownNoteTemplate) as raised:
        NoteTemplateCatalog(note_templates_dir(), clinic).get("pirp")
    # Then the message lists the available keys and names the broken file and line
    message = str(raised.value)
    assert message.startswith('No valid note template "pirp". Available: ')
    for key in BUILTIN_KEYS:
        assert key in message
    assert "broken.toml, line 2" in message


def test_the_clinic_files_are_read_again_on_each_scan(clinic: Path) -> None:
    # Given a catalog that has been scanned once
    catalog = NoteTemplateCatalog(note_templates_dir(), clinic)
    assert catalog.get("kap").name == "KAP session note"
    # When the clinic adds its own "kap" template / Then the next scan offers it
    (clinic / "kap.toml").write_text(clinic_template("kap", "Edited"), encoding="utf-8")
    assert catalog.get("kap").name == "Edited"
    (clinic / "kap.toml").unlink()
    assert catalog.get("kap").name == "KAP session note"
