"""Row access policies of tables: stored, listed and dropped as BigQuery keeps them, never enforced.

One store per engine (:func:`store_of`), shared by the REST methods
(:mod:`fakes.bigquery.rest_row_access`) and the DDL (:mod:`fakes.bigquery.catalog_statements`),
so a policy made one way is seen the other. A policy belongs to its table: when the table is
dropped (or dropped and made again) its policies go with it, as on BigQuery, checked when the
table's policies are next read. The filter is kept as text: queries see every row whatever the
policies say (enforcing them needs the caller's identity, which the emulator does not have).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from fakes.bigquery.catalog import Table
from fakes.bigquery.exceptions import RowAccessPolicyAlreadyExists, RowAccessPolicyNotFound
from harness.ports import Clock, NotFoundError, TableInfo


@dataclass(frozen=True)
class RowAccessPolicy:
    """One policy of one table; ``grantees`` are IAM members (``user:a@example.com``)."""

    policy_id: str
    filter_predicate: str
    grantees: tuple[str, ...]
    created: datetime
    modified: datetime

    def etag(self) -> str:
        text = f"{self.policy_id}|{self.filter_predicate}|{','.join(self.grantees)}|{self.modified}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


TableKey = tuple[str, str, str]


class PolicyTables(Protocol):
    """What the store needs of the engine: its clock, its tables' 404 and its catalog entries."""

    clock: Clock
    _tables: Mapping[TableKey, Table]

    def get_table(self, project: str, dataset_id: str, table_id: str) -> TableInfo: ...


@dataclass
class _TablePolicies:
    table: Table
    policies: dict[str, RowAccessPolicy] = field(default_factory=dict)


class RowAccessPolicies:
    """The policies of every table of one engine, by table."""

    def __init__(self, engine: PolicyTables) -> None:
        self._engine = engine
        self._tables: dict[TableKey, _TablePolicies] = {}
        self._lock = threading.RLock()

    def _of(self, key: TableKey) -> _TablePolicies:
        """The table's policies; raises the table's 404, and forgets a dropped table's policies
        (a table made again under the same name is another catalog entry)."""
        self._engine.get_table(*key)
        table = self._engine._tables[key]
        with self._lock:
            held = self._tables.get(key)
            if held is None or held.table is not table:
                held = self._tables[key] = _TablePolicies(table)
            return held

    def list(self, key: TableKey) -> list[RowAccessPolicy]:
        return sorted(self._of(key).policies.values(), key=lambda p: p.policy_id)

    def get(self, key: TableKey, policy_id: str) -> RowAccessPolicy:
        policy = self._of(key).policies.get(policy_id)
        if policy is None:
            raise _not_found(key, policy_id)
        return policy

    def create(
        self,
        key: TableKey,
        policy_id: str,
        predicate: str,
        grantees: tuple[str, ...],
        *,
        replace_existing: bool = False,
    ) -> RowAccessPolicy:
        now = self._engine.clock.now()
        with self._lock:
            held = self._of(key)
            current = held.policies.get(policy_id)
            if current is not None and not replace_existing:
                project, dataset_id, table_id = key
                raise RowAccessPolicyAlreadyExists(
                    policy_id=policy_id, project=project, dataset_id=dataset_id, table_id=table_id
                )
            created = current.created if current is not None else now
            policy = RowAccessPolicy(policy_id, predicate, grantees, created, now)
            held.policies[policy_id] = policy
            return policy

    def update(
        self, key: TableKey, policy_id: str, predicate: str, grantees: tuple[str, ...]
    ) -> RowAccessPolicy:
        with self._lock:
            current = self.get(key, policy_id)
            policy = replace(
                current, filter_predicate=predicate, grantees=grantees, modified=self._engine.clock.now()
            )
            self._of(key).policies[policy_id] = policy
            return policy

    def delete(self, key: TableKey, policy_id: str) -> None:
        with self._lock:
            held = self._of(key)
            if policy_id not in held.policies:
                raise _not_found(key, policy_id)
            del held.policies[policy_id]

    def delete_all(self, key: TableKey) -> None:
        with self._lock:
            self._of(key).policies.clear()


_STORES: weakref.WeakKeyDictionary[PolicyTables, RowAccessPolicies] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def store_of(engine: PolicyTables) -> RowAccessPolicies:
    """The engine's policies (made on first use: the engine itself knows nothing of them)."""
    with _STORES_LOCK:
        store = _STORES.get(engine)
        if store is None:
            store = _STORES[engine] = RowAccessPolicies(engine)
        return store


def _not_found(key: TableKey, policy_id: str) -> NotFoundError:
    project, dataset_id, table_id = key
    return RowAccessPolicyNotFound(
        policy_id=policy_id, project=project, dataset_id=dataset_id, table_id=table_id
    )
