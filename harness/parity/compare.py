"""Field-by-field comparison of a stored snapshot and a new recording.

Each difference is one line, ``path: expected vs actual``, the path written the way one reads it
(``exchanges[0].response.error.message``); a missing key or list item reads ``<missing>``. Both
sides are expected to be normalized already (:mod:`harness.parity.normalize`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MISSING = "<missing>"


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every place where ``actual`` differs from ``expected``, as ``path: expected vs actual``."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        found: list[str] = []
        for key in list(expected) + [k for k in actual if k not in expected]:
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                found.append(f"{where}: {_show(expected[key])} vs {MISSING}")
            elif key not in expected:
                found.append(f"{where}: {MISSING} vs {_show(actual[key])}")
            else:
                found += differences(expected[key], actual[key], where)
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        found = []
        for index in range(max(len(expected), len(actual))):
            where = f"{path}[{index}]"
            if index >= len(actual):
                found.append(f"{where}: {_show(expected[index])} vs {MISSING}")
            elif index >= len(expected):
                found.append(f"{where}: {MISSING} vs {_show(actual[index])}")
            else:
                found += differences(expected[index], actual[index], where)
        return found
    if expected == actual and type(expected) is type(actual):
        return []
    return [f"{path or '<root>'}: {_show(expected)} vs {_show(actual)}"]


def report(name: str, found: list[str], *, limit: int = 40) -> str:
    """The failure text for snapshot ``name``: one line per difference, at most ``limit``."""
    lines = [f"snapshot {name}: {len(found)} difference(s) (path: expected vs actual)"]
    lines += [f"  {line}" for line in found[:limit]]
    if len(found) > limit:
        lines.append(f"  ... and {len(found) - limit} more")
    return "\n".join(lines)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."
