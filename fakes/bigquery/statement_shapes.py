"""One parse and one translation for statements that differ only in the datasets they name.

The translation cache (:mod:`fakes.bigquery.queries`) is keyed by SQL text. A statement that names
a per-org dataset (```p.e2e_1a2b_local.llm_usage_daily```) is new text for every org, so every run
of a flow translated it again (sqlglot: the dearest step of a small query). A statement's *shape*
is its text with each dataset id it names replaced by a marker: statements of one shape translate
alike except for those datasets' storage names, so one translation with markers in their place
serves them all.

Only what is provably the same is shared. A dataset id is replaced only when the text holds it
exactly once per table reference that names it (so nowhere else: not in a literal, a comment, a
column, table or project name, nor inside another dataset's id), and a translation is kept as a
template only when it holds each dataset's storage name exactly as often and the id nowhere else.
Anything else keeps its exact text as its only key. Markers hold a NUL, which no text they are
matched against may contain.

Parsing is shared the same way, but a text not parsed yet has no table references to go by: its
shape is guessed from the dataset ids the engine knows, and the guess counts only when it is the
shape of a statement parsed before whose generalised datasets are all written between backquotes
(the texts then differ only in dataset ids inside backquoted paths, which parse alike): that
statement, moved to the text's datasets, is the text's parse.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from sqlglot import exp

from fakes.bigquery.sql import ParsedStatement, TableRef, Translation

_MARK = "\x00{}\x00"
_ID = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class Shape:
    """A statement's text with its datasets as markers; marker ``i`` stands for ``datasets[i]``,
    named by ``counts[i]`` table references."""

    sql: str
    datasets: tuple[str, ...]
    counts: tuple[int, ...]

    def template(self, translation: Translation, storage: Mapping[str, str]) -> Translation | None:
        """``translation`` (of this statement) with each dataset's storage schema name
        (``storage[dataset]``) as its marker, or None when it cannot be shared."""
        text = translation.sql
        if "\x00" in text:
            return None
        for dataset, count in zip(self.datasets, self.counts, strict=True):
            if text.count(storage[dataset]) != count or text.count(dataset) != count:
                return None
        names = {storage[dataset]: _MARK.format(index) for index, dataset in enumerate(self.datasets)}
        return Translation(_substitute(text, names), translation.placeholders)

    def instantiate(self, template: Translation, storage: Mapping[str, str]) -> Translation:
        """The translation of this statement from the template of its shape."""
        names = {_MARK.format(index): storage[dataset] for index, dataset in enumerate(self.datasets)}
        return Translation(_substitute(template.sql, names), template.placeholders)


def parsed_shape(statement: ParsedStatement) -> Shape | None:
    """The statement's shape when its parse can serve other texts of that shape: every dataset it
    generalises is written between backquotes (so any dataset id in its place reads the same)."""
    shape = shape_of(statement)
    if shape is None or not all(_ID.fullmatch(dataset) for dataset in shape.datasets):
        return None
    for node in statement.tree.find_all(exp.Table):
        ref = node.meta.get("bq_ref")
        if ref is not None and ref.dataset in shape.datasets and not node.args["db"].args.get("quoted"):
            return None
    return shape


def guessed_shape(sql: str, datasets: Iterable[str]) -> Shape | None:
    """The shape ``sql`` has if the ``datasets`` (ids the engine knows) it holds are where its
    table paths name them: only a match with a :func:`parsed_shape` proves it."""
    present = sorted({d for d in datasets if d in sql and _ID.fullmatch(d)})
    if not present or "\x00" in sql:
        return None
    markers = {dataset: _MARK.format(index) for index, dataset in enumerate(present)}
    return Shape(_substitute(sql, markers), tuple(present), ())


def reparsed(template: ParsedStatement, shape: Shape, guess: Shape, sql: str) -> ParsedStatement:
    """``sql``, whose :func:`guessed_shape` is ``shape`` (the :func:`parsed_shape` of ``template``),
    as :func:`fakes.bigquery.sql.parse` would give it: ``template`` over ``guess``'s datasets."""
    moved = dict(zip(shape.datasets, guess.datasets, strict=True))

    def move(ref: TableRef) -> TableRef:
        return replace(ref, dataset=moved.get(ref.dataset, ref.dataset))

    tree = template.tree.copy()
    for node in tree.find_all(exp.Table):
        ref = node.meta.get("bq_ref")
        if ref is not None and ref.dataset in moved:
            node.meta["bq_ref"] = move(ref)
            node.set("db", exp.to_identifier(moved[ref.dataset], quoted=True))
    return replace(
        template,
        tree=tree,
        sql=sql,
        tables=[move(ref) for ref in template.tables],
        target=move(template.target) if template.target is not None else None,
        params=set(template.params),
    )


def shape_of(statement: ParsedStatement) -> Shape | None:
    """The statement's shape, or None when no dataset it names can be generalised."""
    named: Counter[str] = Counter()
    for node in statement.tree.find_all(exp.Table):
        ref = node.meta.get("bq_ref")
        if ref is not None and node.args.get("db") is not None:
            named[ref.dataset] += 1
    sql = statement.sql
    datasets = sorted(d for d in named if d and d != statement.default_dataset and sql.count(d) == named[d])
    if not datasets or "\x00" in sql:
        return None
    markers = {dataset: _MARK.format(index) for index, dataset in enumerate(datasets)}
    return Shape(_substitute(sql, markers), tuple(datasets), tuple(named[d] for d in datasets))


def _substitute(text: str, replacements: Mapping[str, str]) -> str:
    """Every occurrence of each key replaced by its value, in one pass (a value is never searched)."""
    keys = sorted(replacements, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(key) for key in keys))
    return pattern.sub(lambda match: replacements[match.group(0)], text)
