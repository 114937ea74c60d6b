""".env.example lists every setting, each once, with a comment and its true default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
SETTING_LINE = re.compile(r"^#([A-Z][A-Z0-9_]*)=(.*)$")  # commented out: copying changes nothing


def _lines() -> list[str]:
    return EXAMPLE.read_text().splitlines()


def _settings_in_example() -> list[tuple[str, str]]:
    return [(m[1], m[2]) for line in _lines() if (m := SETTING_LINE.match(line))]


def _variables() -> set[str]:
    """The environment variable of every field of Settings."""
    return {name.upper() for name in Settings.model_fields}


def test_every_setting_is_listed_and_nothing_else():
    listed = [name for name, _ in _settings_in_example()]
    missing = sorted(_variables() - set(listed))
    unknown = sorted(set(listed) - _variables())
    twice = sorted({name for name in listed if listed.count(name) > 1})
    assert not missing, f".env.example lacks {missing}: add each with its default and a comment"
    assert not unknown, f".env.example lists {unknown}, which are not settings"
    assert not twice, f".env.example lists {twice} more than once"


def test_every_setting_has_a_one_line_comment_above_it():
    lines = _lines()
    for number, line in enumerate(lines):
        if SETTING_LINE.match(line):
            above = lines[number - 1]
            assert above.startswith("# ") and not above.startswith("# ----"), line


def test_the_listed_values_are_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for variable in _variables():
        monkeypatch.delenv(variable, raising=False)
    listed = _settings_in_example()
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in listed if value))
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    from_example = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert from_example == defaults
    for name, value in listed:
        if not value:  # an empty value says the setting is unset by default
            assert getattr(defaults, name.lower()) in (None, "", []), name
