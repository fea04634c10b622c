"""Print the README's configuration table from Settings (paste it between the markers).

Run: python scripts/settings_table.py --write   (rewrites the table in README.md in place)
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic_core import PydanticUndefined

from simkyc.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
SHOWN = {"data_dir": "`../shared/data`", "models_dir": "`../shared/models`",
         "cache_dir": "`~/.cache/simkyc`", "state_dir": "`$XDG_DATA_HOME/simkyc`",
         "jurisdiction_profiles": "CN, IN, NG, PH (see Registry rules)"}


def table() -> str:
    """The markdown table of every setting: variable, default, meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = getattr(field.default, "value", field.default)
        if default is PydanticUndefined:
            default = "computed"
        shown = SHOWN.get(name, "none" if default is None else f"`{default}`")
        rows.append(f"| `SIMKYC_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)


def main() -> None:
    if "--write" not in sys.argv:
        print(table())
        return
    text = README.read_text()
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    README.write_text(f"{head}{BEGIN}\n{table()}\n{END}{tail}")


if __name__ == "__main__":
    main()
