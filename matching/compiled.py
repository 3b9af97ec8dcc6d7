"""The hot modules of ``matching`` compiled to C by mypyc, used only when a build matches the source exactly.

The same source runs either way and gives the same results; compiled, preparing records and computing their
keys costs about a third less (building the index for a million records: docs/matching.md). mypyc, mypy's
compiler, is in the dev extra; it needs a C compiler and the Python headers.

* ``python -m matching compile`` (run by ``scripts/bootstrap``) builds ``MODULES`` under
  ``<sys.prefix>/matching-compiled/<digest>/``, in about a minute, and removes older builds.
* ``activate`` (called by ``matching/__init__.py``) puts that build first on the package's path, so
  ``import matching.names`` loads the compiled module and the other modules load from source.
* The digest covers every ``matching/*.py`` file and the interpreter's ABI: an edited source never runs an old
  build; it runs as plain Python until the next build. ``MATCHING_PURE=1`` forces plain Python (profilers,
  comparing the two, a machine without a C compiler).

Compiled functions check their arguments' annotated types at run time, so a function that takes what a partner
sent must say ``object`` or ``Any``, not ``str`` (tests/test_matching_compiled.py compares both builds).
"""

from __future__ import annotations

import hashlib
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

# The modules a bulk load and a query spend their time in. ``model`` is left out: mypyc's build of it crashes
# on import (its module-level ``__getattr__``), and scoring is not where the build's time goes.
MODULES = ("dates", "documents", "frequency", "index", "names", "normalize", "other", "places", "record")
GROUP = "matching._native"  # the shared library of the build, found on the package's path like the modules
PURE_ENV = "MATCHING_PURE"
_MARKER = "_SOURCE_DIGEST"  # written into a build last: a half-copied build is never used
_SOURCE = Path(__file__).resolve().parent
_BUILDS = Path(sys.prefix) / "matching-compiled"
_SUFFIX = EXTENSION_SUFFIXES[0]  # the interpreter's own extension suffix (ABI): ".cpython-311-x86_64-linux-gnu.so"

active: Path | None = None  # the build in use, set by ``activate``


def digest(source: Path | None = None) -> str:
    """What a build is valid for: every source file of the package (or of a copy, ``source``) and the
    interpreter's ABI."""
    h = hashlib.sha256(_SUFFIX.encode())
    for path in sorted((source or _SOURCE).glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def build_dir() -> Path:
    return _BUILDS / digest()


def activate(package_path: list[str]) -> Path | None:
    """Put the build matching the source first on ``package_path`` (the package's ``__path__``) and return it;
    None (plain Python) if there is none or ``MATCHING_PURE`` is set."""
    global active
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None
    where = build_dir() / "matching"
    if not (where / _MARKER).is_file():
        return None
    package_path.insert(0, str(where))
    active = where
    return where


def loaded() -> list[str]:
    """The modules of ``MODULES`` imported so far from a compiled build."""
    return [name for name in MODULES
            if (module := sys.modules.get(f"matching.{name}")) is not None
            and not str(getattr(module, "__file__", "")).endswith(".py")]


_SETUP = """
import sys
from mypyc.build import mypycify
from setuptools import setup
modules, group = sys.argv[1].split(","), sys.argv[2]
setup(name="matching-compiled", script_args=["build_ext", "--inplace"],
      ext_modules=mypycify(["--ignore-missing-imports", *(f"matching/{m}.py" for m in modules)], group_name=group,
                           opt_level="3"))
"""


def built() -> bool:
    """Whether a build of the current source exists."""
    return (build_dir() / "matching" / _MARKER).is_file()


def build(log: Path | None = None) -> Path:
    """Build the compiled modules for the current source (nothing to do if built); return the build's folder.

    Compiles a copy of the package in a scratch folder, then moves the extension files in place, so a test run
    reading the source meanwhile sees no change; the build is named by the copy's digest, so a source edited
    meanwhile is not given a build of what it was. Raises RuntimeError if mypyc or the C compiler fails (the
    compiler's output is in ``log``). Its imports are here: ``import matching`` never needs them."""
    import shutil
    import subprocess
    import tempfile

    if built():
        return build_dir()
    _BUILDS.mkdir(parents=True, exist_ok=True)
    log = log or _BUILDS / "build.log"
    with tempfile.TemporaryDirectory(dir=_BUILDS, prefix="scratch-") as scratch:
        work = Path(scratch)
        shutil.copytree(_SOURCE, work / "matching", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        target = _BUILDS / digest(work / "matching")
        with log.open("wb") as out:
            done = subprocess.run([sys.executable, "-c", _SETUP, ",".join(MODULES), GROUP], cwd=work,  # noqa: S603
                                  stdout=out, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"mypyc build failed (exit {done.returncode}); its output is in {log}")
        staged = work / "staged" / "matching"
        staged.mkdir(parents=True)
        for name in (*MODULES, GROUP.rsplit(".", 1)[1] + "__mypyc"):
            shutil.move(work / "matching" / f"{name}{_SUFFIX}", staged / f"{name}{_SUFFIX}")
        (staged / _MARKER).write_text(target.name + "\n")
        try:
            (work / "staged").rename(target)
        except OSError:  # another build of the same source finished first: it is the same
            if not (target / "matching" / _MARKER).is_file():
                raise
    for old in _BUILDS.iterdir():  # builds of older sources are never used again
        if old.is_dir() and old != target and not old.name.startswith("scratch-"):
            shutil.rmtree(old, ignore_errors=True)
    return target
