"""Warehouse cost of a run: every query's bytes, billed the way BigQuery on-demand bills them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from harness.ports import QueryResult, Warehouse

MIB = 1024 * 1024
MIN_BILLED_BYTES = 10 * MIB
"""BigQuery bills at least 10 MB for each query that references a table."""
PRICE_PER_TIB_USD = Decimal("6.25")
TIB = 1024**4


class MeteredWarehouse:
    """A ``Warehouse`` that adds up the bytes its queries process (DML and SELECT alike)."""

    def __init__(self, inner: Warehouse) -> None:
        self._inner = inner
        self.project = inner.project
        self.bytes_processed = 0
        self.bytes_billed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        result = self._inner.query(sql, params)
        processed = result.total_bytes_processed
        self.bytes_processed += processed
        if processed:
            self.bytes_billed += max(MIN_BILLED_BYTES, math.ceil(processed / MIB) * MIB)
        return result

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return self.query(sql, params).affected_rows or 0

    @property
    def estimated_cost_usd(self) -> Decimal:
        return (Decimal(self.bytes_billed) * PRICE_PER_TIB_USD / TIB).quantize(Decimal("0.000000001"))
