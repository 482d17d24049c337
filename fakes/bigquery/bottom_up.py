"""The bottom-up rewrite that applies the translator's fixes (:data:`fakes.bigquery.functions.FIXES`,
the JSON fixes, the function passes) to a statement's tree.

Each fix is a function of one node that returns the node, changed or not, or its replacement.
Offering every fix every node was half of a translation's cost, though most fixes only act on one
or two node classes: a fix declares those with :func:`handles` and is then offered only nodes of
those classes (or their subclasses). A fix that declares nothing is offered every node. The
declaration must cover every class the fix can change or replace; on any other node the fix must
return the node untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from sqlglot import exp

Fix = Callable[[exp.Expression], exp.Expression]

_HANDLES: dict[Fix, tuple[type[exp.Expression], ...]] = {}
"""The node classes each declared fix acts on (:func:`handles`)."""


def handles(*kinds: type[exp.Expression]) -> Callable[[Fix], Fix]:
    """Declare the node classes ``kinds`` the decorated fix can change; it is offered no other."""

    def declare(fix: Fix) -> Fix:
        _HANDLES[fix] = kinds
        return fix

    return declare


class _Plan:
    """For one list of fixes: which of them (by position) each concrete node class is offered."""

    def __init__(self, fixes: tuple[Fix, ...]) -> None:
        self.fixes = fixes
        self.by_class: dict[type[exp.Expression], tuple[tuple[int, Fix], ...]] = {}

    def offered(self, kind: type[exp.Expression]) -> tuple[tuple[int, Fix], ...]:
        chain = self.by_class.get(kind)
        if chain is None:
            chain = tuple(
                (position, fix)
                for position, fix in enumerate(self.fixes)
                if fix not in _HANDLES or issubclass(kind, _HANDLES[fix])
            )
            self.by_class[kind] = chain
        return chain


@lru_cache(maxsize=16)
def _plan(fixes: tuple[Fix, ...]) -> _Plan:
    return _Plan(fixes)


def rewrite_bottom_up(tree: exp.Expression, fixes: Sequence[Fix]) -> exp.Expression:
    """Apply ``fixes`` in order to every node, children before parents (sqlglot's ``transform``
    does not descend into a node it has replaced, so nested calls would be missed). A fix that
    replaces a node hands its replacement to the later fixes that handle the replacement's class."""
    plan = _plan(tuple(fixes))
    root = tree
    for node in reversed(_preorder(tree)):
        parent, arg_key, index = node.parent, node.arg_key, node.index
        new = node
        kind = type(node)
        chain = plan.offered(kind)
        step = 0
        while step < len(chain):
            position, fix = chain[step]
            new = fix(new)
            step += 1
            if type(new) is not kind:
                kind = type(new)
                chain = plan.offered(kind)
                step = next((i for i, (later, _) in enumerate(chain) if later > position), len(chain))
        if new is node:
            continue
        if parent is None:
            root = new
        else:
            parent.set(arg_key, new, index)
    return root


def _preorder(root: exp.Expression) -> list[exp.Expression]:
    """``list(root.dfs())``: the same nodes in the same order, without a generator per node."""
    nodes: list[exp.Expression] = []
    stack = [root]
    while stack:
        node = stack.pop()
        nodes.append(node)
        for value in reversed(node.args.values()):
            if isinstance(value, list):
                stack.extend(item for item in reversed(value) if isinstance(item, exp.Expr))
            elif isinstance(value, exp.Expr):
                stack.append(value)
    return nodes


def is_tree(root: exp.Expression) -> bool:
    """Whether each node of ``root`` is in one place only (where its parent link says it is), and
    ``root`` has no parent: then generating SQL from it needs no copy (the generator changes the
    tree it is given; a node in two places would be changed twice, and a copy makes two of it)."""
    if root.parent is not None:
        return False
    stack = [root]
    while stack:
        node = stack.pop()
        for key, value in node.args.items():
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, exp.Expr):
                        if item.parent is not node or item.arg_key != key or item.index != index:
                            return False
                        stack.append(item)
            elif isinstance(value, exp.Expr):
                if value.parent is not node or value.arg_key != key or value.index is not None:
                    return False
                stack.append(value)
    return True
