"""Row counts of the meta tables in one query, for the tests that check what a request left behind.

Counting table by table costs one warehouse query per meta table (15), and on the emulator tier
each is an HTTP round trip through the real client: the fault loops count after every injected
failure, so that was most of their time. One ``SELECT`` of scalar subqueries answers the same
counts, table for table, in one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.onboarding.platform import Platform


def org_row_counts(platform: Platform, org_slug: str, tables: Iterable[str] | None = None) -> dict[str, int]:
    """Rows of ``org_slug`` in each of ``tables`` (default: every meta table of the platform's
    bootstrap config), zero included, in the order given."""
    return _counts(platform, tables, "WHERE org_slug = @s", {"s": org_slug})


def table_row_counts(platform: Platform, tables: Iterable[str]) -> dict[str, int]:
    """All rows of each of ``tables``, zero included, in the order given."""
    return _counts(platform, tables, "", {})


def _counts(
    platform: Platform, tables: Iterable[str] | None, where: str, params: dict[str, str]
) -> dict[str, int]:
    names = list(tables) if tables is not None else [spec.table_id for spec in platform.config.tables]
    if not names:
        return {}
    columns = ", ".join(
        f"(SELECT COUNT(*) FROM {platform.table(name)} {where}) AS c{i}" for i, name in enumerate(names)
    )
    (row,) = platform.select(f"SELECT {columns}", params).rows
    return {name: int(row[f"c{i}"]) for i, name in enumerate(names)}
