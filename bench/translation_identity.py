"""Whether two trees translate the conformance corpus' SQL to the same DuckDB SQL, byte for byte.

A change meant to make the translator (:func:`fakes.bigquery.sql.to_duckdb`) faster must not
change what it produces. ``record`` runs the files of ``tests/test_conformance.py`` through the
engine face of the tree on ``PYTHONPATH`` (in one process, as its cases run) and writes every
translation the engine asked for, with its input, in order: the DuckDB SQL, or the error raised.
``compare`` reads two such records and counts the translations that differ.

    PYTHONPATH=/path/to/old python bench/translation_identity.py record /tmp/old.jsonl
    PYTHONPATH=$PWD python bench/translation_identity.py record /tmp/new.jsonl
    python bench/translation_identity.py compare /tmp/old.jsonl /tmp/new.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def record(out: Path) -> None:
    """Run every file of the conformance shards on the engine face, writing each translation."""
    os.environ.setdefault("HARNESS_BIGQUERY_THREADS", "1")
    from fakes.bigquery import queries
    from harness.clock import ManualClock
    from harness.conformance.cases import run_file
    from harness.conformance.corpus import read_file
    from harness.conformance.faces import EPOCH, EngineFace
    from harness.conformance.scope import Scope
    from harness.emulators import Emulators
    from tests.test_conformance import CORPUS, _shards

    with out.open("w", encoding="utf-8") as sink:
        queries.to_duckdb = _recording(queries.to_duckdb, sink)
        scope = Scope.load()
        with Emulators(clock=ManualClock(EPOCH)) as emulators:
            faces = [EngineFace(emulators.engine)]
            for stem in sorted(stem for shard in _shards() for stem in shard):
                sink.write(json.dumps({"file": stem}) + "\n")
                for _ in run_file(read_file(CORPUS / f"{stem}.test"), scope, emulators.engine, faces):
                    pass


def _recording(translate: Callable[..., Any], sink: Any) -> Callable[..., Any]:
    def recorded(statement: Any, **kwargs: Any) -> Any:
        entry: dict[str, Any] = {"sql": statement.sql}
        try:
            translation = translate(statement, **kwargs)
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            sink.write(json.dumps(entry) + "\n")
            raise
        entry["duckdb"] = translation.sql
        entry["placeholders"] = sorted(translation.placeholders)
        sink.write(json.dumps(entry) + "\n")
        return translation

    return recorded


def compare(old: Path, new: Path) -> int:
    """Print the count compared and the differing ones; non-zero exit when any differ."""
    before = old.read_text(encoding="utf-8").splitlines()
    after = new.read_text(encoding="utf-8").splitlines()
    differing = [(a, b) for a, b in zip(before, after, strict=False) if a != b]
    translations = sum(1 for line in before if '"sql"' in line)
    print(f"translations compared: {translations}, lines: {len(before)} vs {len(after)}")
    print(f"differing: {len(differing) + abs(len(before) - len(after))}")
    for a, b in differing[:5]:
        print(f"- {a}\n+ {b}")
    return 1 if differing or len(before) != len(after) else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    if args.mode == "record":
        sys.path.append(str(ROOT))  # tests.test_conformance; the tree itself comes from PYTHONPATH
        record(args.paths[0])
    else:
        sys.exit(compare(*args.paths[:2]))


if __name__ == "__main__":
    main()
