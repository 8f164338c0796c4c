"""The GUI's start reads its own options without building the command line's parser, and gets
what the parser gives; anything else is the parser's."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import pytest

from kapsession import cli


def parsed_by_argparse(argv: Sequence[str]) -> dict[str, object]:
    args = cli.build_parser().parse_args(argv)
    if args.command is None:
        args.command = "gui"
    return vars(args)


GUI_STARTS = [
    [],
    ["--data-dir", "/data/kap"],
    ["--data-dir=/data/kap"],
    ["--database-url", "postgresql+psycopg://kap@server/kapsession"],
    ["--database-url=postgresql+psycopg://kap@server/kap=1"],
    ["--training"],
    ["-v"],
    ["--verbose", "--training", "--data-dir", "~/kap"],
    ["--data-dir", "/first", "--data-dir", "/second"],
]


@pytest.mark.parametrize("argv", GUI_STARTS, ids=lambda a: " ".join(a) or "no-options")
def test_a_start_of_the_gui_gets_what_the_parser_gives_without_building_it(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the parser's reading of these options
    expected = parsed_by_argparse(argv)

    # When the GUI's start reads them, the parser unbuildable
    def no_parser() -> argparse.ArgumentParser:
        raise AssertionError("the parser was built")

    monkeypatch.setattr(cli, "build_parser", no_parser)
    args = cli.parse(argv)
    # Then it got the same namespace
    assert isinstance(args, argparse.Namespace)
    assert vars(args) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["gui", "--data-dir", "/data/kap"],
        ["--data-d", "/data/kap"],  # an abbreviation, as argparse allows
        ["--verb"],
        ["-vv"],
        ["--training", "sessions"],
        ["--data-dir", "/data/kap", "demo"],
    ],
    ids=lambda a: " ".join(a),
)
def test_anything_else_is_read_by_the_parser(argv: list[str]) -> None:
    assert vars(cli.parse(argv)) == {**parsed_by_argparse(argv), **_demo_training(argv)}


@pytest.mark.parametrize(
    "argv",
    [
        ["--data-dir"],
        ["--data-dir", "-x"],
        ["--data", "/x"],
        ["--bogus"],
        ["--training=yes"],
        ["--data-dir=", "--training"],
    ],
    ids=" ".join,
)
def test_a_mistake_is_answered_by_the_parser(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.parse(argv)
    assert stopped.value.code == 2
    assert "usage: kapsession" in capsys.readouterr().err


def test_help_is_answered_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.parse(["--help"])
    assert stopped.value.code == 0
    assert "usage: kapsession" in capsys.readouterr().out


def _demo_training(argv: list[str]) -> dict[str, object]:
    return {"training": True} if "demo" in argv else {}
