"""How every domain's assets show a table in the Dagster UI."""

import pandas as pd
from dagster import MetadataValue


def table(
    rows: pd.DataFrame | list[dict],
    columns: list[str] | None = None,
    empty: str = "_none_",
    total: int | None = None,
) -> MetadataValue:
    """A markdown table of ``rows`` (a frame, or dicts limited to ``columns``); ``empty`` when there are
    none. With ``total`` (how many rows there are in all), it says how many of them it shows."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return MetadataValue.md(empty)
    shown = f"{len(frame)} of {total} shown\n\n" if total is not None else ""
    return MetadataValue.md(shown + frame.to_markdown(index=False))


def ident(value: int | str) -> MetadataValue:
    """An id (a snapshot's, a plan's) as text: it is a name, not a figure to chart."""
    return MetadataValue.text(str(value))


def money_text(amount: float, currency: str = "₽") -> str:
    """An amount as people read money: thousands separated, two decimals, its currency (the
    marketplaces pay sellers in roubles)."""
    return f"{amount:,.2f} {currency}"


def money(amount: float, currency: str = "₽") -> MetadataValue:
    """``money_text`` as a metadata entry."""
    return MetadataValue.text(money_text(amount, currency))
