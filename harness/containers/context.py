"""The emulator image's build context, assembled from the installed package: the ``Dockerfile``
shipped in it (``harness/image/``), a wheel of the installed harness and pins of its installed
runtime dependencies.

Why from the installed package and not a checkout: a user's project has the wheel, not our
repository, and the image must build the same from either. Needs neither Docker nor testcontainers.
"""

from __future__ import annotations

from pathlib import Path

from harness.distribution import pack_wheel, pins, runtime_closure

DOCKERFILE = Path(__file__).resolve().parents[1] / "image" / "Dockerfile"
"""The emulator image's Dockerfile, package data (so it is in the wheel)."""


def emulator_build_context(dest: str | Path) -> Path:
    """Write the emulator image's build context into ``dest`` (created if need be) and return it:
    ``Dockerfile`` (:data:`DOCKERFILE`), a wheel of the installed harness
    (:func:`harness.distribution.pack_wheel`) and ``constraints.txt`` pinning the installed versions
    of its runtime dependencies, so the image runs what this environment runs."""
    context = Path(dest)
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_bytes(DOCKERFILE.read_bytes())
    (context / "constraints.txt").write_text(pins(runtime_closure()))
    pack_wheel(context)
    return context
