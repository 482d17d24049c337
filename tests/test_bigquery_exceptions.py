"""Every BigQuery error the fake and the emulator raise says where its text comes from.

A class either names where its exact text was observed (``confirmed``) or says what was searched
(``searched``); the same holds for every table/dataset rule, whose texts the preflight reports on
every tier. The README's list of unconfirmed texts is :func:`fakes.errors.unconfirmed` of the
module.
"""

from __future__ import annotations

import inspect

import pytest

from fakes.bigquery import exceptions as bq
from fakes.errors import RealError, error_classes, text_is_confirmed, unconfirmed
from harness.ports import TransientError, WarehouseError
from harness.schema.violations import RULES, Rule

CLASSES = sorted(error_classes(bq), key=lambda cls: cls.__name__)
BASES = {bq.BigQueryError, bq.RuleViolation, bq.ValueRejected}
DEFINED = sorted(
    (
        cls
        for _, cls in inspect.getmembers(bq, inspect.isclass)
        if cls.__module__ == bq.__name__ and issubclass(cls, RealError) and cls not in BASES
    ),
    key=lambda cls: cls.__name__,
)


def test_every_error_class_states_its_provenance() -> None:
    assert DEFINED == CLASSES
    assert len(CLASSES) >= 40


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_error_class_states_its_kind_and_provenance(cls: type[RealError]) -> None:
    if issubclass(cls, bq.ValueRejected):  # a value refused in one row: an insertErrors entry
        assert cls.reason == "invalid"
    else:
        assert issubclass(cls, WarehouseError)
        status: int = getattr(cls, "status")  # noqa: B009 - read off the class, not an instance
        if issubclass(cls, TransientError):  # BigQuery's own failures, answered when a fault is armed
            assert 400 <= status < 600 and cls.retryable
        else:
            assert 400 <= status < 500, "client errors are never 5xx (the google client retries those)"
    if text_is_confirmed(cls):
        assert cls.confirmed and cls.confirmed.strip()
    else:
        assert cls.confirmed is None and cls.searched.strip(), cls.__name__


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_every_rule_has_a_provenance_and_an_exception_class(rule: Rule) -> None:
    assert (rule.confirmed is not None and rule.confirmed.strip()) or rule.searched.strip()
    error = bq.RULE_ERRORS[rule.code]
    assert error.rule is rule
    assert (error.confirmed, error.searched) == (rule.confirmed, rule.searched)


def test_a_rule_without_a_provenance_is_refused() -> None:
    with pytest.raises(ValueError, match="must say what was searched"):
        Rule("nowhere", "no source")


def test_unconfirmed_classes_are_listed() -> None:
    names = {cls.__name__ for cls in unconfirmed(bq)}
    assert "PartitionFieldRepeated" in names and "DatasetNotFound" not in names
    assert names == {cls.__name__ for cls in CLASSES if not text_is_confirmed(cls)}
