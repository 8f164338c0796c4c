"""What the fuzz tests of every clinic file reader share: TOML values of every kind, the files
with one value or one line replaced, and the check that only the reader's own error comes out.

(Imported by the reader tests; pytest puts this folder on sys.path.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis import strategies as st

from kapsession.domain.clinic_file import ClinicFileError


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_values(*strings: str, text_size: int = 12) -> st.SearchStrategy[str]:
    """Any value TOML can hold (numbers out of range, dates, tables, nested lists), plus the
    quoted `strings` a reader's fields expect or nearly expect."""
    scalars = st.one_of(
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),  # "inf", "nan": TOML too
        st.sampled_from(["nan", "-inf", "1e400", "-0.0", "9" * 400, "0x7fffffff", "1_000"]),
        st.booleans().map(lambda b: "true" if b else "false"),
        st.sampled_from([*strings, "", "x"]).map(_quoted),
        st.text(max_size=text_size).map(_quoted),
        st.sampled_from(["1979-05-27", "07:32:00", "{}", "{ a = 1 }", "[]"]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3).map(lambda v: f"[{', '.join(v)}]"),
        max_leaves=6,
    )


def assignment_lines(valid_lines: Sequence[str]) -> list[int]:
    return [i for i, line in enumerate(valid_lines) if " = " in line]


def with_value(valid_lines: Sequence[str], index: int, value: str) -> str:
    """The valid file with the value on line `index` replaced."""
    lines = list(valid_lines)
    lines[index] = lines[index].split(" = ")[0] + " = " + value
    return "\n".join(lines) + "\n"


def with_line(valid_lines: Sequence[str], index: int, replacement: str) -> str:
    lines = list(valid_lines)
    lines[index] = replacement
    return "\n".join(lines) + "\n"


def assert_only_file_errors(
    parse: Callable[[str, str], object], error: type[ClinicFileError], text: str
) -> None:
    """The text parses, or fails with `error` naming the file and a line that exists."""
    try:
        parse(text, "fuzz.toml")
    except error as problem:
        assert problem.source == "fuzz.toml"
        assert problem.message
        if problem.line is not None:
            assert 1 <= problem.line <= max(1, text.count("\n") + 1)
