"""Regenerating a benchmark report keeps the notes written by hand at its end."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from report_notes import write_report  # noqa: E402


def test_notes_written_by_hand_survive_a_new_report(tmp_path):
    report = tmp_path / "r.md"
    report.write_text("# Old\n\n| a | 1 |\n\n## Reading these figures (2026-12-05, kept by hand)\n\n- why\n",
                      encoding="utf-8")
    write_report(report, "# New\n\n| a | 2 |\n")
    assert report.read_text(encoding="utf-8") == (
        "# New\n\n| a | 2 |\n\n## Reading these figures (2026-12-05, kept by hand)\n\n- why\n")


def test_a_report_without_notes_is_written_as_generated(tmp_path):
    report = tmp_path / "sub" / "r.md"
    write_report(report, "# New\n")
    write_report(report, "# Newer\n")
    assert report.read_text(encoding="utf-8") == "# Newer\n"


def test_help_is_shown_not_swallowed(capsys):
    import argparse

    from report_notes import print_or_write

    def report(argv):
        parser = argparse.ArgumentParser(description="A report.")
        parser.add_argument("--output")
        return parser.parse_args(argv)

    try:
        print_or_write(report, ["--help"])
    except SystemExit:
        pass
    assert "A report." in capsys.readouterr().out
