"""`kapsession course-summary CLIENT --format pdf|md|fhir --out PATH` end to end, in a
subprocess on demo data: the files read back (the PDF with pdftotext), an existing file is not
overwritten without --force, an unknown client is refused with a message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from support.real_tools import require_tool
from test_cli_history import add_maya_phq9s

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
EXIT_PROBLEM = 1

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    """`run(*args)`: `kapsession --training course-summary *args` on the demo data with Maya
    Fischer's PHQ-9s (18, then 8) and a GAD-7 with item 4 unanswered; and a folder to write to."""
    home = tmp_path_factory.mktemp("home")
    data = tmp_path_factory.mktemp("data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_DATA_HOME=str(home / "share"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kapsession", "--data-dir", str(data), "--training", *args],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    populated = run("demo", "--populate")
    assert populated.returncode == 0, populated.stderr
    add_maya_phq9s(data)
    return (lambda *args: run("course-summary", *args)), tmp_path_factory.mktemp("out")


def test_the_pdf_is_written_and_reads_back(summary: tuple[Run, Path]) -> None:
    pdftotext = require_tool("pdftotext", "poppler-utils")
    run, folder = summary
    out = folder / "maya.pdf"
    # When Maya's course summary is asked for as a PDF
    result = run("DEMO-0001", "--format", "pdf", "--out", str(out))
    # Then it says where it wrote it, and the PDF has her sessions, doses and measures
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out}: the course summary of Maya Fischer\n"
    text = subprocess.run(
        [pdftotext, "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Course summary: Maya Fischer" in text
    # (the protocol's name wraps in its cell since the sessions got a Type column)
    assert "Sublingual KAP," in text and "initial 200 mg sublingual" in text
    assert "-10 from 18: response" in text
    assert "incomplete: item 4" in text
    assert "COURSE CHART" in text


def test_markdown_and_fhir_are_written(summary: tuple[Run, Path]) -> None:
    run, folder = summary
    md, fhir = folder / "maya.md", folder / "maya.json"
    # When the Markdown and the FHIR bundle are asked for
    assert run("Fischer", "--format", "md", "--out", str(md)).returncode == 0
    assert run("DEMO-0001", "--format", "fhir", "--out", str(fhir)).returncode == 0
    # Then the Markdown has the measures' table, and the bundle validates with them
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Course summary: Maya Fischer\n")
    assert "| PHQ-9 | " in text and "| -10 from 18: response |" in text
    bundle = json.loads(fhir.read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("QuestionnaireResponse") == 3 and kinds.count("Observation") == 2


def test_an_existing_file_is_kept_and_an_unknown_client_refused(summary: tuple[Run, Path]) -> None:
    run, folder = summary
    out = folder / "kept.md"
    out.write_text("not to be replaced", encoding="utf-8")
    # When the summary would overwrite a file without --force
    refused = run("DEMO-0001", "--format", "md", "--out", str(out))
    # Then it is refused with what to do, and the file is as it was
    assert refused.returncode == EXIT_PROBLEM
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert out.read_text(encoding="utf-8") == "not to be replaced"
    # And with --force it is replaced
    assert run("DEMO-0001", "--format", "md", "--out", str(out), "--force").returncode == 0
    assert out.read_text(encoding="utf-8").startswith("# Course summary: Maya Fischer")
    # And a client nobody matches is refused in one line, nothing written
    unknown = run("Nobody-Here", "--format", "md", "--out", str(folder / "none.md"))
    assert unknown.returncode == EXIT_PROBLEM
    assert unknown.stderr.startswith("kapsession: ") and "Traceback" not in unknown.stderr
    assert not (folder / "none.md").exists()
