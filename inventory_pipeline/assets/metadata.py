"""How every domain's assets show a table in the Dagster UI."""

import pandas as pd
from dagster import MetadataValue


def table(rows: pd.DataFrame | list[dict], columns: list[str] | None = None, empty: str = "_none_") -> MetadataValue:
    """A markdown table of ``rows`` (a frame, or dicts limited to ``columns``); ``empty`` when there are none."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=columns)
    return MetadataValue.md(frame.to_markdown(index=False) if not frame.empty else empty)
