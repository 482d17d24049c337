"""The seed file: what a test or a developer wants the emulators to hold before anything runs.

One document, YAML or JSON, with a section per emulated service; every section is optional::

    bigquery:
      projects:
        <project>:
          datasets:
            <dataset id>:
              location: US
              labels: {team: data}
              tables:
                <table id>:
                  schema: [{name: id, type: INT64, mode: REQUIRED}, ...]   # BigQuery JSON schema
                  timePartitioning: {type: DAY, field: created_at}
                  clustering: {fields: [id]}
                  rows: [{id: 1}, ...]
    kms:
      key_rings:
        - name: projects/<p>/locations/<l>/keyRings/<ring>
          keys: [{id: app, purpose: ENCRYPT_DECRYPT, versions: [{state: ENABLED}], primary: 1},
                 {id: signer, purpose: ASYMMETRIC_SIGN, algorithm: EC_SIGN_P256_SHA256}]
    openai:                       # and anthropic: the same shape
      organization: org-...
      keys: [{key: sk-test-..., admin: false}, {name: billing, admin: true}]
      usage: {models: 4, activity_rate: 0.7, corruptions: [{day: 2025-01-02, kind: duplicate_row}]}

BigQuery follows goccy's bigquery-emulator ``--data-from-yaml`` where it can (projects → datasets →
tables with a column list and rows), but keys projects, datasets and tables by id (a mapping, so an
id given twice is a duplicate key the YAML reader reports with its line) and writes a table the way
BigQuery's own JSON does (``schema`` as ``bq show --schema`` prints it, ``timePartitioning``,
``clustering``, ``requirePartitionFilter``), so a table can be pasted from ``bq show
--format=prettyjson``. Only structure is checked here (``extra="forbid"``, strict types); BigQuery's
rules and row values are :mod:`harness.seeding.checks`'.

A provider key written in the file is a secret the user chose to write down: no error quotes a
key's value, and the seeding summary shows keys masked (:meth:`~harness.seeding.apply.SeedReport.summary`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.schema.loader import ColumnModel, PartitionTypeName
from harness.schema.spec import (
    DatasetSpec,
    PartitionType,
    TableSpec,
    TimePartitioning,
)

__all__ = [
    "BigQuerySeed",
    "Corruption",
    "CryptoKeySeed",
    "DatasetSeed",
    "KeyRingSeed",
    "KeyVersionSeed",
    "KmsSeed",
    "ProjectSeed",
    "ProviderKeySeed",
    "ProviderSeed",
    "SeedFile",
    "TableSeed",
    "UsageSeed",
]


class _Model(BaseModel):
    """Unknown keys are errors and scalars are not coerced (``2025`` is no string)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ------------------------------------------------------------------------------------ BigQuery


class Partitioning(_Model):
    """``timePartitioning``; no ``field`` means ingestion-time partitioning."""

    type: PartitionTypeName = PartitionType.DAY
    field: str | None = None
    expiration_ms: int | None = Field(default=None, alias="expirationMs")


class Clustering(_Model):
    fields: list[str] = Field(min_length=1)


class TableSeed(_Model):
    """A table and its rows. Rows are loaded like a load job, not streamed: they are not in the
    streaming buffer, so DML may change them at once."""

    schema_: list[ColumnModel] = Field(alias="schema", min_length=1)
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    time_partitioning: Partitioning | None = Field(default=None, alias="timePartitioning")
    clustering: Clustering | None = None
    require_partition_filter: bool = Field(default=False, alias="requirePartitionFilter")
    rows: list[dict[str, Any]] = Field(default_factory=list)

    def spec(self, table_id: str) -> TableSpec:
        """The table in BigQuery's terms, as :mod:`harness.schema.rules` and the engine take it."""
        partitioning = self.time_partitioning
        return TableSpec(
            table_id=table_id,
            schema=tuple(column.spec() for column in self.schema_),
            description=self.description,
            time_partitioning=(
                TimePartitioning(partitioning.type, partitioning.field, partitioning.expiration_ms)
                if partitioning is not None
                else None
            ),
            clustering_fields=tuple(self.clustering.fields) if self.clustering is not None else (),
            require_partition_filter=self.require_partition_filter,
            labels=dict(self.labels),
        )


class DatasetSeed(_Model):
    """A dataset; one that already exists on the emulator is used as it is (its tables added)."""

    location: str = "US"
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    tables: dict[str, TableSeed] = Field(default_factory=dict)

    def spec(self, dataset_id: str) -> DatasetSpec:
        return DatasetSpec(dataset_id, self.location, self.description, dict(self.labels))


class ProjectSeed(_Model):
    datasets: dict[str, DatasetSeed] = Field(default_factory=dict)


class BigQuerySeed(_Model):
    projects: dict[str, ProjectSeed] = Field(default_factory=dict)


# ----------------------------------------------------------------------------------- Cloud KMS


class KeyVersionSeed(_Model):
    """One crypto key version, numbered from 1 in file order."""

    state: Literal["ENABLED", "DISABLED", "DESTROY_SCHEDULED"] = "ENABLED"


class CryptoKeySeed(_Model):
    """A key of any purpose the emulator serves. ``algorithm`` and ``protection_level`` are
    CreateCryptoKey's version template (the purpose's default algorithm when absent; asymmetric and
    MAC keys name theirs, as Cloud KMS requires); ``primary`` (a version number, symmetric keys
    only: the others have none) defaults to the newest version, as after rotations. Key material is
    drawn from the emulators' seed, like any key they create."""

    id: str
    purpose: Literal[
        "ENCRYPT_DECRYPT", "ASYMMETRIC_SIGN", "ASYMMETRIC_DECRYPT", "MAC", "RAW_ENCRYPT_DECRYPT"
    ] = "ENCRYPT_DECRYPT"
    algorithm: str | None = Field(default=None, min_length=1)
    protection_level: Literal["SOFTWARE", "HSM"] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    versions: list[KeyVersionSeed] = Field(default_factory=lambda: [KeyVersionSeed()], min_length=1)
    primary: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _primary_only_for_symmetric(self) -> CryptoKeySeed:
        if self.primary is not None and self.purpose != "ENCRYPT_DECRYPT":
            raise ValueError(
                f"a {self.purpose} key has no primary version; primary is for ENCRYPT_DECRYPT keys"
            )
        return self


class KeyRingSeed(_Model):
    """A key ring by full resource name; one that already exists is used as it is."""

    name: str
    keys: list[CryptoKeySeed] = Field(default_factory=list)


class KmsSeed(_Model):
    key_rings: list[KeyRingSeed] = Field(default_factory=list)


# ----------------------------------------------------------------------------------- providers


class ProviderKeySeed(_Model):
    """A key the provider fake accepts: ``key`` as written (a secret: shown masked), or a key minted
    from the seed and returned under ``name``. An admin key stands for one organization in the
    usage and cost reports; a revoked key is refused with the provider's 401."""

    key: str | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, min_length=1)
    admin: bool = False
    revoked: bool = False

    @model_validator(mode="after")
    def _key_or_name(self) -> ProviderKeySeed:
        if (self.key is None) == (self.name is None):
            raise ValueError("give either key (a key to accept) or name (a key to mint), not both")
        return self


class Corruption(_Model):
    """One day of served usage/cost data broken on purpose (``ProviderState.corrupt``)."""

    day: date = Field(strict=False)  # YAML reads 2025-01-02 as a date, JSON as a string
    kind: Literal["negative_tokens", "duplicate_row", "cost_mismatch"]
    model: str | None = None


class UsageSeed(_Model):
    """How the fake generates usage and cost reports (per admin key, day and model)."""

    models: int | None = Field(default=None, ge=1)
    activity_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    corruptions: list[Corruption] = Field(default_factory=list)


class ProviderSeed(_Model):
    organization: str | None = Field(default=None, min_length=1)
    keys: list[ProviderKeySeed] = Field(default_factory=list)
    usage: UsageSeed | None = None


# ---------------------------------------------------------------------------------------- root


class SeedFile(_Model):
    """A whole seed file; every section is optional, an empty mapping seeds nothing."""

    bigquery: BigQuerySeed | None = None
    kms: KmsSeed | None = None
    openai: ProviderSeed | None = None
    anthropic: ProviderSeed | None = None
