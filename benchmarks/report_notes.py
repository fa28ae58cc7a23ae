"""Reports in ``benchmarks/results/`` end with notes written by hand, under a heading that
ends in "by hand)" (``## Reading these figures (2026-12-04, kept by hand)``). Writing a
report again replaces what its script generates and keeps those notes."""

from __future__ import annotations

import re
from pathlib import Path

HAND_HEADING = re.compile(r"^## .*by hand\)[ \t]*$", re.MULTILINE)


def hand_notes(path: Path) -> str:
    """The hand-written notes at the end of the report at ``path``, or ""."""
    if not path.is_file():
        return ""
    old = path.read_text(encoding="utf-8")
    found = HAND_HEADING.search(old)
    return old[found.start():] if found else ""


def write_report(path: Path, generated: str) -> None:
    """Write ``generated`` to ``path``, followed by the notes the old file had."""
    notes = hand_notes(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = generated.rstrip("\n") + "\n"
    path.write_text(text + "\n" + notes if notes else text, encoding="utf-8")
