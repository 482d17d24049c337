"""A checked seed file and the error every seeding step reports: ``path:line: field: message``.

Kept apart from the loader because the checks and :func:`~harness.seeding.apply.apply_seed` report
problems at places in the file too, long after it was read.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.seeding.model import SeedFile
from harness.yamlsource import Document, Loc, SourceError, dotted

__all__ = ["SeedDocument", "SeedError"]


class SeedError(SourceError):
    """A problem in a seed file: ``path:line: field: message`` (line and field when known)."""


@dataclass(frozen=True)
class SeedDocument:
    """A checked seed file: the model, plus the line of every place in it for later errors."""

    source: str
    seed: SeedFile
    document: Document

    def error(self, loc: Loc, message: str) -> SeedError:
        """A :class:`SeedError` at ``loc`` (a location in the file), on the line it is written on."""
        return SeedError(self.source, self.document.line_of(loc), dotted(loc), message)
