"""Identity matching: pure library, no I/O. See docs/matching.md."""

from . import compiled as _compiled

_compiled.activate(__path__)
