"""The installed harness as a distribution: which installed distributions it needs at run time, and a
wheel of it rebuilt from the files Python imports it from.

Why here: the emulator image is built from a context assembled out of the *installed* package (a user
has a wheel, not our checkout), so :mod:`harness.containers` needs a wheel of what is installed and
the exact versions of its runtime closure to pin inside the image; tests/test_wheel.py needs the
same closure to give a fresh virtual environment exactly the runtime dependencies and nothing else.
Only the standard library and ``packaging`` (the reference implementation of requirement specifiers
and environment markers) are used.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import zipfile
from collections.abc import Iterable
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "cloudact-harness"
PACKAGES = ("harness", "fakes")
"""The import packages the project ships (pyproject: ``packages.find include harness*, fakes*``)."""

_DIST_INFO_FILES = ("entry_points.txt", "top_level.txt")
#: The project is pure Python: its wheel's ``WHEEL`` file is always this. It is written here rather
#: than copied because a source checkout's metadata (``*.egg-info``, found first on ``sys.path``
#: when running from the checkout) has none.
_WHEEL = "Wheel-Version: 1.0\nGenerator: harness.distribution\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
"""Every archive entry's timestamp (the zip format's earliest): the same files give the same wheel
bytes, so Docker's layer cache keeps the image's ``pip install`` layer across rebuilds."""


class DependencyError(LookupError):
    """A requirement of the closure is not installed, or installed at a version it excludes."""


def requirement_closure(requirements: Iterable[str]) -> dict[str, Distribution]:
    """The installed distributions that ``requirements`` (PEP 508 strings, no extras of the root)
    need, transitively, in this interpreter's environment: markers are evaluated for it, each
    requirement's extras are followed, and every version must satisfy its specifier. Keyed by
    canonical name, in discovery order."""
    found: dict[str, Distribution] = {}
    seen: set[tuple[str, str]] = set()
    pending: list[tuple[Requirement, str, str]] = [(Requirement(text), "", "(root)") for text in requirements]
    while pending:
        requirement, extra, parent = pending.pop(0)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        try:
            dist = found.get(name) or distribution(requirement.name)
        except PackageNotFoundError:
            raise DependencyError(f"{requirement} (required by {parent}) is not installed") from None
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise DependencyError(f"{requirement} (required by {parent}) but {dist.version} is installed")
        found[name] = dist
        for wanted in ("", *sorted(requirement.extras)):
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            pending.extend((Requirement(text), wanted, name) for text in dist.requires or ())
    return found


def runtime_closure(project: str = PROJECT) -> dict[str, Distribution]:
    """The installed runtime dependencies of ``project`` (no extras), itself excluded."""
    return requirement_closure(distribution(project).requires or ())


def pins(closure: dict[str, Distribution]) -> str:
    """``name==version`` lines, sorted: a pip constraints file for exactly these distributions."""
    return "".join(f"{name}=={closure[name].version}\n" for name in sorted(closure))


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def package_files() -> dict[str, Path]:
    """Every file of :data:`PACKAGES` where Python imports them from (site-packages for an installed
    wheel, the checkout for an editable install), by archive name; caches left out."""
    files: dict[str, Path] = {}
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise DependencyError(f"package {package!r} is not importable")
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[f"{package}/{path.relative_to(root).as_posix()}"] = path
    return files


def pack_wheel(dest_dir: Path, project: str = PROJECT) -> Path:
    """A wheel of the installed ``project`` in ``dest_dir``: the files :func:`package_files` finds and
    the installed metadata (``METADATA`` — an egg-info's ``PKG-INFO`` is the same format — and
    entry points), with a fresh ``WHEEL`` and ``RECORD``. The
    project is pure Python, so the wheel is ``py3-none-any``, installable in any image. The bytes
    depend only on the files (fixed order and timestamps)."""
    dist = distribution(project)
    stem = f"{canonicalize_name(project).replace('-', '_')}-{dist.version}"
    info = f"{stem}.dist-info"
    entries = {name: path.read_bytes() for name, path in package_files().items()}
    metadata = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if metadata is None:
        raise DependencyError(f"{project} {dist.version} has no METADATA to pack")
    entries[f"{info}/METADATA"] = metadata.encode()
    entries[f"{info}/WHEEL"] = _WHEEL.encode()
    for name in _DIST_INFO_FILES:
        text = dist.read_text(name)
        if text is not None:
            entries[f"{info}/{name}"] = text.encode()
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in entries.items())
    entries[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = Path(dest_dir) / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            entry = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            entry.external_attr = 0o644 << 16  # rw-r--r--, as a wheel's files are installed
            archive.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
    return wheel
