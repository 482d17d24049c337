"""The labels every dataset a scenario run creates carries, so the janitor can sweep what a killed
run left behind, and never anything else.

A nightly run killed half-way cannot clean up after itself. So every dataset a run creates (its
orgs' datasets, and the meta dataset when the run is the one that creates it) is created with:

* ``harness-run: "true"`` — the janitor's only way in: a dataset without it is never touched;
* ``harness-run-id`` — which run (its record directory and, through the org slugs, its orgs);
* ``harness-created`` — when, as epoch seconds on the run's clock (label values hold only
  lowercase letters, digits, ``_`` and ``-``, so no ISO timestamp);
* ``harness-ttl`` — how long the run wants it kept, in seconds (the janitor's default age limit);

plus ``defaultTableExpirationMs`` = the TTL as a second safety net: BigQuery itself drops every
table created in it once the TTL has passed, even if no janitor ever runs.

BigQuery's label rules (https://cloud.google.com/bigquery/docs/labels-intro#requirements, seen
through the ``pages`` search, 2026-12): at most 64 labels; keys 1-63 characters, values 0-63, of
lowercase letters, digits, ``_`` and ``-``; keys start with a lowercase letter.
:func:`label_value` makes any text a valid value, and :func:`check_labels` refuses what BigQuery
would refuse before a request is sent.

The labelling is a thin ``Warehouse`` wrapper the run installs (:func:`labelled_platform`), so the
domain in ``harness/onboarding/`` stays unaware of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.faults.proxy import PortProxy
from harness.onboarding.platform import Platform
from harness.ports import Clock, DatasetInfo, Warehouse

RUN_LABEL = "harness-run"
RUN_ID_LABEL = "harness-run-id"
CREATED_LABEL = "harness-created"
TTL_LABEL = "harness-ttl"
ORG_SLUG_LABEL = "org_slug"
"""Set by onboarding on every org dataset: how the janitor knows whose meta rows to remove."""

DEFAULT_TTL = timedelta(hours=6)
MIN_TTL = timedelta(hours=1)
"""BigQuery's smallest ``defaultTableExpirationMs`` (3600000 ms, the v2 discovery document)."""

MAX_LABELS = 64
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]")


def label_value(text: str) -> str:
    """``text`` as a valid label value: lower-cased, other characters as ``-``, at most 63."""
    return _NOT_ALLOWED.sub("-", text.lower())[:63]


def check_labels(labels: Mapping[str, str]) -> list[str]:
    """What BigQuery's label rules refuse in ``labels`` (empty when all is well)."""
    problems = [f"{len(labels)} labels: at most {MAX_LABELS}"] if len(labels) > MAX_LABELS else []
    for key, value in labels.items():
        if not _KEY.match(key):
            problems.append(f"label key {key!r}: 1-63 lowercase letters, digits, _ or -, from a letter")
        if not _VALUE.match(value):
            problems.append(f"label {key}={value!r}: the value takes 0-63 lowercase letters, digits, _ or -")
    return problems


@dataclass(frozen=True)
class RunLabels:
    """What a run stamps on the datasets it creates."""

    run_id: str
    ttl: timedelta = DEFAULT_TTL

    def __post_init__(self) -> None:
        if self.ttl < MIN_TTL:
            raise ValueError(f"a run's TTL is at least {MIN_TTL} (BigQuery's smallest table expiration)")

    def labels(self, created: datetime) -> dict[str, str]:
        return {
            RUN_LABEL: "true",
            RUN_ID_LABEL: label_value(self.run_id),
            CREATED_LABEL: str(int(created.timestamp())),
            TTL_LABEL: str(int(self.ttl.total_seconds())),
        }

    @property
    def table_expiration_ms(self) -> int:
        return int(self.ttl.total_seconds() * 1000)


@dataclass(frozen=True)
class RunStamp:
    """A dataset's run labels read back: the janitor's view of one labelled dataset."""

    run_id: str
    created: datetime
    ttl: timedelta | None

    @classmethod
    def of(cls, info: DatasetInfo) -> RunStamp | None:
        """The stamp of a dataset a run created, or None: unlabelled, or a label it cannot read
        (a dataset whose age is unknown is never old enough to delete)."""
        labels = info.labels
        if labels.get(RUN_LABEL) != "true":
            return None
        try:
            created = datetime.fromtimestamp(int(labels[CREATED_LABEL]), UTC)
        except (KeyError, ValueError, OverflowError):
            return None
        ttl_text = labels.get(TTL_LABEL, "")
        ttl = timedelta(seconds=int(ttl_text)) if ttl_text.isdigit() else None
        return cls(run_id=labels.get(RUN_ID_LABEL, ""), created=created, ttl=ttl)


class LabellingWarehouse(PortProxy):
    """A ``Warehouse`` whose ``create_dataset`` adds the run's labels (over the caller's own: the
    run's keys win) and its default table expiration; every other call passes through."""

    def __init__(self, inner: Warehouse, run: RunLabels, clock: Clock) -> None:
        super().__init__(inner)
        self.project = inner.project
        self._run = run
        self._clock = clock

    def _call(self, name: str, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name == "create_dataset":
            labels = {**(kwargs.get("labels") or {}), **self._run.labels(self._clock.now())}
            problems = check_labels(labels)
            if problems:
                raise ValueError("dataset labels BigQuery would refuse: " + "; ".join(problems))
            kwargs = {**kwargs, "labels": labels}
            kwargs.setdefault("default_table_expiration_ms", self._run.table_expiration_ms)
        return method(*args, **kwargs)


def labelled_platform(platform: Platform, run: RunLabels) -> Platform:
    """``platform`` with its warehouse labelling every dataset it creates for ``run``."""
    return replace(platform, warehouse=LabellingWarehouse(platform.warehouse, run, platform.clock))


__all__ = [
    "CREATED_LABEL",
    "DEFAULT_TTL",
    "MIN_TTL",
    "ORG_SLUG_LABEL",
    "RUN_ID_LABEL",
    "RUN_LABEL",
    "TTL_LABEL",
    "LabellingWarehouse",
    "RunLabels",
    "RunStamp",
    "check_labels",
    "label_value",
    "labelled_platform",
]
