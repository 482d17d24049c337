"""What can be known wrong in a seed file without the emulators: BigQuery's rules, row values, KMS
names, names given twice.

The rules are the ones the engine enforces, called the same way: dataset and table rules from
:mod:`harness.schema.rules` (so a seeded table fails exactly where ``tables.insert`` would), row
values through the engine's own conversion (:func:`fakes.bigquery.types.row_to_storage`, so a row
fails where ``insertAll`` would, with BigQuery's ``insertErrors`` wording). Every problem is a
:class:`~harness.seeding.document.SeedError` at its place in the file; the first in file order is
raised, before anything is created.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from fakes.bigquery.exceptions import ValueRejected
from fakes.bigquery.types import row_to_storage
from harness.schema import rules
from harness.schema.loader import ColumnModel
from harness.schema.violations import Violation
from harness.seeding.document import SeedDocument, SeedError
from harness.seeding.model import CryptoKeySeed, KeyRingSeed, ProviderSeed, TableSeed
from harness.yamlsource import Loc

__all__ = ["KEY_RING_NAME", "check_seed"]

#: A key ring's full name, with Cloud KMS's resource-id rule for the ring id.
KEY_RING_NAME = re.compile(r"projects/[^/]+/locations/[^/]+/keyRings/[a-zA-Z0-9_-]{1,63}")
_RESOURCE_ID = re.compile(r"[a-zA-Z0-9_-]{1,63}")
_PATH_PART = re.compile(r"(?P<name>[^.\[\]]+)(?:\[(?P<index>\d+)\])?")


def check_seed(document: SeedDocument) -> None:
    """Raise the first problem (in file order) that needs no emulator to be seen."""
    problems = list(_problems(document))
    if problems:
        raise min(problems, key=lambda error: error.line or 0)


def _problems(document: SeedDocument) -> Iterator[SeedError]:
    seed = document.seed
    if seed.bigquery is not None:
        for project, project_seed in seed.bigquery.projects.items():
            for dataset_id, dataset in project_seed.datasets.items():
                loc: Loc = ("bigquery", "projects", project, "datasets", dataset_id)
                for violation in rules.validate_dataset_id(dataset_id):
                    yield document.error(loc, _bigquery_says(violation))
                for table_id, table in dataset.tables.items():
                    yield from _table_problems(document, (*loc, "tables", table_id), table_id, table)
    if seed.kms is not None:
        yield from _kms_problems(document, seed.kms.key_rings)
    for provider in ("openai", "anthropic"):
        section: ProviderSeed | None = getattr(seed, provider)
        if section is not None:
            yield from _provider_problems(document, provider, section)


# ------------------------------------------------------------------------------------ BigQuery


def _table_problems(document: SeedDocument, loc: Loc, table_id: str, table: TableSeed) -> Iterator[SeedError]:
    spec = table.spec(table_id)
    violations = rules.validate_table(spec)
    for violation in violations:
        yield document.error((*loc, *_violation_loc(table, violation)), _bigquery_says(violation))
    if violations:
        return  # rows are only worth checking against a table BigQuery would create
    for index, row in enumerate(table.rows):
        try:
            row_to_storage(spec.schema, row)
        except ValueRejected as exc:
            where = (*loc, "rows", index, *_path_loc(exc.location))
            yield document.error(where, f"BigQuery refuses the row: {exc.message}")


def _bigquery_says(violation: Violation) -> str:
    return f"{violation.message} (BigQuery: {violation.status} {violation.reason})"


def _violation_loc(table: TableSeed, violation: Violation) -> Loc:
    """Where in the table's entry a broken rule was written, from the rule's code and field."""
    code = violation.code
    if code.startswith(("partition", "date_partitioned")):
        if code == "partition_expiration_not_positive":
            return ("timePartitioning", "expirationMs")
        if code == "partition_filter_without_partitioning":
            return ("requirePartitionFilter",)
        return ("timePartitioning", "field")
    if "clustering" in code or code.startswith("clustered"):
        names = [name.lower() for name in table.clustering.fields] if table.clustering else []
        field = (violation.field or "").lower()
        if field in names:
            return ("clustering", "fields", len(names) - 1 - names[::-1].index(field))
        return ("clustering", "fields")
    if code == "invalid_table_id":
        return ()
    return ("schema", *_column_loc(table.schema_, violation.field or ""))


def _column_loc(columns: Sequence[ColumnModel], path: str) -> Loc:
    """``a.b`` -> ``(i, "fields", j, "name")``: the last column of that name at each level, so a
    duplicate points at its second occurrence."""
    loc: list[object] = []
    level = list(columns)
    for depth, name in enumerate(path.split(".")):
        matches = [i for i, column in enumerate(level) if column.name.lower() == name.lower()]
        if not matches:
            break
        if depth:
            loc.append("fields")
        loc.append(matches[-1])
        level = list(level[matches[-1]].fields)
    return (*loc, "name") if loc else ()


def _path_loc(location: str) -> Loc:
    """BigQuery's row-error location (``a.b``, ``fields[0].value``) as a place in the row."""
    loc: list[object] = []
    for part in location.split("."):
        match = _PATH_PART.fullmatch(part)
        if match is None:
            return (location,)
        loc.append(match["name"])
        if match["index"] is not None:
            loc.append(int(match["index"]))
    return tuple(loc)


# ----------------------------------------------------------------------------------- Cloud KMS


def _kms_problems(document: SeedDocument, rings: Sequence[KeyRingSeed]) -> Iterator[SeedError]:
    seen_rings: dict[str, int] = {}
    for i, ring in enumerate(rings):
        loc: Loc = ("kms", "key_rings", i)
        if not KEY_RING_NAME.fullmatch(ring.name):
            yield document.error(
                (*loc, "name"),
                f"{ring.name!r} is not a key ring name: projects/<project>/locations/<location>/"
                "keyRings/<id>, the id of letters, digits, _ and - (1 to 63)",
            )
        if ring.name in seen_rings:
            yield document.error(
                (*loc, "name"), f"key ring {ring.name!r} is also kms.key_rings[{seen_rings[ring.name]}]"
            )
        seen_rings.setdefault(ring.name, i)
        yield from _key_problems(document, loc, ring.keys)


def _key_problems(
    document: SeedDocument, ring_loc: Loc, keys: Sequence[CryptoKeySeed]
) -> Iterator[SeedError]:
    seen: dict[str, int] = {}
    for j, key in enumerate(keys):
        loc: Loc = (*ring_loc, "keys", j)
        if not _RESOURCE_ID.fullmatch(key.id):
            yield document.error(
                (*loc, "id"), f"{key.id!r} is not a crypto key id: letters, digits, _ and - (1 to 63)"
            )
        if key.id in seen:
            yield document.error(
                (*loc, "id"), f"crypto key {key.id!r} is also keys[{seen[key.id]}] of this ring"
            )
        seen.setdefault(key.id, j)
        if key.primary is not None and key.primary > len(key.versions):
            yield document.error(
                (*loc, "primary"), f"version {key.primary} does not exist: the key has {len(key.versions)}"
            )


# ----------------------------------------------------------------------------------- providers


def _provider_problems(document: SeedDocument, provider: str, section: ProviderSeed) -> Iterator[SeedError]:
    names: dict[str, int] = {}
    for i, key in enumerate(section.keys):
        if key.name is None:
            continue
        if key.name in names:
            yield document.error(
                (provider, "keys", i, "name"),
                f"key name {key.name!r} is also {provider}.keys[{names[key.name]}]",
            )
        names.setdefault(key.name, i)
