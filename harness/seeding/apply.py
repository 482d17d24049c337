"""Put a checked seed document into running emulators, all or nothing as far as the services allow.

:func:`apply_seed` first checks the document against what the emulators already hold (a table or a
crypto key that exists is a conflict; a dataset or key ring that exists is used as it is), then
creates, keeping an undo list the way onboarding does (:mod:`harness.onboarding.orgs`): if a step
fails, what was created is removed again and the error names the place in the file.

Order matters because Cloud KMS cannot delete key rings or keys (neither can the emulator): BigQuery
first (datasets and tables can be dropped), then the provider fakes (their keys and settings are
restored), and KMS last, when nothing that can fail is left — every KMS name was checked by the
loader and every conflict above, so only a concurrent writer could still make it fail half-way.
Seeded rows are loaded like a load job, not streamed: they are not in the streaming buffer. One
thing an undo cannot take back: keys minted for ``name:`` entries advance the fake's key sequence,
so after a failed seed the next minted key differs from what a fresh emulator would mint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from harness.seeding.document import SeedDocument, SeedError
from harness.seeding.model import BigQuerySeed, CryptoKeySeed, KmsSeed, ProviderSeed
from harness.yamlsource import Loc

if TYPE_CHECKING:
    from fakes.bigquery.engine import BigQueryEngine
    from fakes.kms import KmsBackend
    from fakes.providers.base import ProviderState
    from harness.emulators import Emulators

__all__ = ["SeedReport", "apply_seed"]

PROVIDERS = ("openai", "anthropic")
#: The attribute each provider fake keeps its organization id in (sent in response headers).
_ORGANIZATION = {"openai": "organization", "anthropic": "organization_id"}

Undo = list[Callable[[], object]]


@dataclass
class SeedReport:
    """What one seed document created. Minted provider keys are in ``minted`` (provider → name →
    key) for the caller to use; they never appear in :meth:`summary` or ``repr`` unmasked."""

    source: str
    datasets: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    key_rings: list[str] = field(default_factory=list)
    crypto_keys: list[str] = field(default_factory=list)
    provider_keys: dict[str, int] = field(default_factory=dict)
    minted: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        """One line for a terminal or a log; keys masked."""
        rows = sum(self.tables.values())
        parts = [
            _count(len(self.datasets), "dataset"),
            f"{_count(len(self.tables), 'table')} ({_count(rows, 'row')})",
            _count(len(self.key_rings), "key ring"),
            _count(len(self.crypto_keys), "crypto key"),
            *(f"{provider} {_count(count, 'key')}" for provider, count in self.provider_keys.items()),
        ]
        minted = [
            f"{provider} {name}={_masked(key)}"
            for provider, keys in self.minted.items()
            for name, key in keys.items()
        ]
        text = f"seeded {self.source}: {', '.join(parts)}"
        return f"{text}; minted {', '.join(minted)}" if minted else text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, minted keys included: the caller asked for them (the control plane answers
        ``POST /_harness/seed`` with this)."""
        return {
            "source": self.source,
            "datasets": list(self.datasets),
            "tables": dict(self.tables),
            "key_rings": list(self.key_rings),
            "crypto_keys": list(self.crypto_keys),
            "provider_keys": dict(self.provider_keys),
            "minted": {provider: dict(keys) for provider, keys in self.minted.items()},
        }


def apply_seed(document: SeedDocument, emulators: Emulators) -> SeedReport:
    """Seed running ``emulators`` (their BigQuery engine, KMS backend and provider fakes) with
    ``document``; a :class:`SeedError` at the place in the file if it conflicts or fails, with
    everything this call created removed again."""
    engine, kms, openai, anthropic = emulators.engine, emulators.kms, emulators.openai, emulators.anthropic
    if engine is None or kms is None or openai is None or anthropic is None:
        raise RuntimeError("the emulators are not started")
    states: dict[str, ProviderState] = {"openai": openai, "anthropic": anthropic}
    seed = document.seed
    _check_conflicts(document, engine, kms)
    report = SeedReport(document.source)
    undo: Undo = []
    try:
        if seed.bigquery is not None:
            _seed_bigquery(document, seed.bigquery, engine, report, undo)
        for provider in PROVIDERS:
            section: ProviderSeed | None = getattr(seed, provider)
            if section is not None:
                _seed_provider(document, provider, section, states[provider], report, undo)
        if seed.kms is not None:
            _seed_kms(document, seed.kms, kms, report)
    except BaseException:
        for step in reversed(undo):
            with contextlib.suppress(Exception):
                step()
        raise
    return report


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _masked(key: str) -> str:
    """A key as a log may show it: its first 8 and last 4 characters, nothing of a short one."""
    return f"{key[:8]}...{key[-4:]}" if len(key) > 16 else "***"


@contextlib.contextmanager
def _at(document: SeedDocument, loc: Loc) -> Iterator[None]:
    """An emulator's refusal while creating what ``loc`` declares, as an error at that place."""
    try:
        yield
    except SeedError:
        raise
    except Exception as exc:
        raise document.error(loc, str(exc) or type(exc).__name__) from exc


# ------------------------------------------------------------------------------------ conflicts


def _check_conflicts(document: SeedDocument, engine: BigQueryEngine, kms: KmsBackend) -> None:
    """What exists already and cannot be seeded again: tables and crypto keys."""
    seed = document.seed
    if seed.bigquery is not None:
        for project, project_seed in seed.bigquery.projects.items():
            datasets = {info.dataset_id for info in engine.list_datasets(project)}
            for dataset_id, dataset in project_seed.datasets.items():
                if dataset_id not in datasets:
                    continue
                tables = {info.spec.table_id for info in engine.list_tables(project, dataset_id)}
                for table_id in dataset.tables:
                    if table_id in tables:
                        loc = ("bigquery", "projects", project, "datasets", dataset_id, "tables", table_id)
                        raise document.error(
                            loc, f"Already Exists: Table {project}:{dataset_id}.{table_id} (on the emulator)"
                        )
    if seed.kms is not None:
        for i, ring in enumerate(seed.kms.key_rings):
            parent = ring.name.rpartition("/keyRings/")[0]
            if ring.name not in {existing["name"] for existing in kms.list_key_rings(parent)}:
                continue
            keys = {existing["name"] for existing in kms.list_crypto_keys(ring.name)}
            for j, key in enumerate(ring.keys):
                if f"{ring.name}/cryptoKeys/{key.id}" in keys:
                    raise document.error(
                        ("kms", "key_rings", i, "keys", j, "id"),
                        f"crypto key {key.id!r} already exists in {ring.name} on the emulator; Cloud KMS "
                        "cannot delete keys, so choose another id or reset the emulators",
                    )


# ------------------------------------------------------------------------------------ BigQuery


def _seed_bigquery(
    document: SeedDocument, seed: BigQuerySeed, engine: BigQueryEngine, report: SeedReport, undo: Undo
) -> None:
    for project, project_seed in seed.projects.items():
        existing = {info.dataset_id for info in engine.list_datasets(project)}
        for dataset_id, dataset in project_seed.datasets.items():
            loc: Loc = ("bigquery", "projects", project, "datasets", dataset_id)
            created = dataset_id not in existing
            if created:
                with _at(document, loc):
                    engine.create_dataset(project, dataset.spec(dataset_id))
                undo.append(partial(engine.delete_dataset, project, dataset_id, delete_contents=True))
                report.datasets.append(f"{project}:{dataset_id}")
            for table_id, table in dataset.tables.items():
                table_loc = (*loc, "tables", table_id)
                with _at(document, table_loc):
                    engine.create_table(project, dataset_id, table.spec(table_id))
                if not created:
                    undo.append(
                        partial(engine.delete_table, project, dataset_id, table_id, not_found_ok=True)
                    )
                if table.rows:
                    with _at(document, (*table_loc, "rows")):
                        engine.insert_rows(project, dataset_id, table_id, table.rows)
                report.tables[f"{project}:{dataset_id}.{table_id}"] = len(table.rows)


# ----------------------------------------------------------------------------------- providers


def _seed_provider(
    document: SeedDocument,
    provider: str,
    seed: ProviderSeed,
    state: ProviderState,
    report: SeedReport,
    undo: Undo,
) -> None:
    undo.append(_restorer(provider, state))
    if seed.organization is not None:
        setattr(state, _ORGANIZATION[provider], seed.organization)
    for key in seed.keys:
        if key.key is None:
            value = state.issue_admin_key() if key.admin else state.issue_key()
            report.minted.setdefault(provider, {})[str(key.name)] = value
        else:
            value = state.add_admin_key(key.key) if key.admin else state.add_key(key.key)
        if key.revoked:
            state.revoke(value)
    report.provider_keys[provider] = len(seed.keys)
    usage = seed.usage
    if usage is None:
        state.save()  # the organization id, on a fake that persists itself
        return
    if usage.models is not None:
        state.usage_model_count = usage.models
    if usage.activity_rate is not None:
        state.activity_rate = usage.activity_rate
    models = state.usage_models()
    for i, corruption in enumerate(usage.corruptions):
        if corruption.model is not None and corruption.model not in models:
            raise document.error(
                (provider, "usage", "corruptions", i, "model"),
                f"{corruption.model!r} is not one of the fake's usage models: {', '.join(models)}",
            )
    for corruption in usage.corruptions:  # all checked first: a corruption cannot be taken back
        state.corrupt(corruption.day, corruption.kind, model=corruption.model)
    state.save()


def _restorer(provider: str, state: ProviderState) -> Callable[[], None]:
    """Puts the provider fake's keys, organization and usage settings back as they are now."""
    valid, revoked, admin = set(state.valid_keys), set(state.revoked_keys), set(state.admin_keys)
    organization = getattr(state, _ORGANIZATION[provider])
    count, rate = state.usage_model_count, state.activity_rate

    def restore() -> None:
        state.restore_keys(valid, revoked, admin)
        setattr(state, _ORGANIZATION[provider], organization)
        state.usage_model_count, state.activity_rate = count, rate
        state.save()

    return restore


# ----------------------------------------------------------------------------------- Cloud KMS


def _seed_kms(document: SeedDocument, seed: KmsSeed, kms: KmsBackend, report: SeedReport) -> None:
    for i, ring in enumerate(seed.key_rings):
        parent, _, ring_id = ring.name.rpartition("/keyRings/")
        if ring.name not in {existing["name"] for existing in kms.list_key_rings(parent)}:
            with _at(document, ("kms", "key_rings", i, "name")):
                kms.create_key_ring(parent, ring_id)
            report.key_rings.append(ring.name)
        for j, key in enumerate(ring.keys):
            with _at(document, ("kms", "key_rings", i, "keys", j)):
                report.crypto_keys.append(_create_key(kms, ring.name, key))


def _create_key(kms: KmsBackend, ring: str, key: CryptoKeySeed) -> str:
    name = kms.create_crypto_key(
        ring,
        key.id,
        key.purpose,
        key.labels,
        skip_initial_version=True,
        algorithm=key.algorithm,
        protection_level=key.protection_level,
    )["name"]
    for version in key.versions:
        version_name = kms.create_crypto_key_version(name)["name"]
        if version.state == "DISABLED":
            kms.update_version_state(version_name, "DISABLED")
        elif version.state == "DESTROY_SCHEDULED":
            kms.destroy_version(version_name)
    if key.purpose == "ENCRYPT_DECRYPT":
        kms.update_primary_version(name, str(key.primary or len(key.versions)))
    return name
