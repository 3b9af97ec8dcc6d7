"""Identity matching: pure library, no I/O. See docs/matching.md."""
