"""Reports in ``benchmarks/results/`` end with notes written by hand, under a heading that
ends in "by hand)" (``## Reading these figures (2026-12-04, kept by hand)``). Writing a
report again replaces what its script generates and keeps those notes."""

from __future__ import annotations

import contextlib
import io
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


def print_or_write(report, argv=None) -> None:
    """Run ``report(argv)``, which prints a report and returns its parsed arguments, and
    send what it printed to ``args.output`` (keeping the notes) or to standard output."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            args = report(argv)
    except BaseException:  # --help, a usage error, a failure: show what was printed
        print(printed.getvalue(), end="")
        raise
    if args.output:
        write_report(Path(args.output), printed.getvalue())
    else:
        print(printed.getvalue(), end="")
