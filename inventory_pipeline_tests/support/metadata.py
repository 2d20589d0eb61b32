"""Reading back the tables the assets show in the UI (``inventory_pipeline.assets.metadata.table``)."""

from __future__ import annotations

import re


def shown_table(value) -> tuple[int | None, int | None, list[dict]]:
    """(rows shown, rows in all, the rows as dicts of text) of a metadata table."""
    text = value.value if hasattr(value, "value") else str(value)
    counted = re.match(r"(\d+) of (\d+) shown", text)
    lines = [line for line in text.splitlines() if line.startswith("|")]
    if len(lines) < 2:
        return (int(counted[1]), int(counted[2]), []) if counted else (None, None, [])
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]
    return (int(counted[1]), int(counted[2]), rows) if counted else (None, None, rows)
