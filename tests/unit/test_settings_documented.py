"""Every setting is documented in the README (a setting nobody can find is a defect)."""

from __future__ import annotations

from pathlib import Path

from simkyc.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text()
    missing = [name for name in Settings.model_fields if f"`SIMKYC_{name.upper()}`" not in text]
    assert not missing, f"undocumented settings: {missing}"
