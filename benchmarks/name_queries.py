#!/usr/bin/env python3
"""Name queries on the sample corpus: do the top 10 hold the name?

For every entry of the abbreviation table (``src/mttq_nlp/data/abbreviations.tsv``),
the long form is searched as written and without diacritics, and so is the
abbreviation itself; and four names, in both forms, beside an administrative level
("UBND xã", "ủy ban nhân dân xã"), where a hit must hold the two side by side. A hit
is relevant when
its title or text holds the name in some writing: the long form, the abbreviation, or
a mix of both that reads as the long form ("Ủy ban MTTQ" for "Ủy ban Mặt trận Tổ
quốc"), compared folded, on whole syllables. Prints Markdown: P@10 per query (queries
with no hits are left out), how many articles hold the name, and the means.

    python benchmarks/name_queries.py                    # indexes corpus/ in a temporary folder
    python benchmarks/name_queries.py --index-dir DIR    # an index of corpus/ built before
    python benchmarks/name_queries.py --output benchmarks/results/name-queries.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from report_notes import print_or_write

from mttq_nlp import text as vi
from mttq_nlp.search import Searcher

REPO = Path(__file__).resolve().parent.parent
EDGE_NAMES = ["UBND", "HĐND", "UBMTTQ", "MTTQ"]
LEVELS = ["xã", "phường", "huyện", "tỉnh"]


def folded_syllables(text: str) -> str:
    return " " + " ".join(vi.syllables(vi.fold(vi.normalize(text)).lower())) + " "


def writings(short: str, long: str) -> list[str]:
    """The name's writings as folded, space-padded syllable strings."""
    syllables = [w.lower() for w in vi.syllables(long)]
    found = [[short], syllables]
    found += [alt for start, end, alt in vi.expand_abbreviations(syllables) if (start, end) == (0, len(syllables))]
    found += [alt for start, end, alt in vi.expand_abbreviations([short]) if (start, end) == (0, 1)]
    return list(dict.fromkeys(" " + " ".join(vi.fold(w) for w in writing) + " " for writing in found))


def main(argv=None) -> None:
    print_or_write(_report, argv)


def _report(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, help="an index of corpus/ (default: build one in a temporary folder)")
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus", help="the corpus folder (default: corpus/)")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE, keeping the notes written by hand "
                        "at its end (default: standard output)")
    args = parser.parse_args(argv)

    documents = {}
    for path in sorted(args.corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            documents[record["id"]] = folded_syllables(f"{record.get('title', '')} . {record.get('text', '')}")

    with tempfile.TemporaryDirectory() as scratch:
        index_dir = args.index_dir
        if index_dir is None:
            from mttq_nlp.index import index_corpus

            index_dir = Path(scratch) / "index"
            print(f"indexing {args.corpus} ...", file=sys.stderr)
            index_corpus([args.corpus], index_dir, model=None)
        rows, short_rows, edge_rows = [], [], []
        with Searcher(index_dir) as searcher:
            for short, long in vi.abbreviations().items():
                forms = writings(short, long)
                held = sum(any(form in text for form in forms) for text in documents.values())
                for query, found in ((long, rows), (vi.fold(long), rows), (short, short_rows)):
                    hits = searcher.search(query, limit=10).hits
                    if hits:
                        relevant = sum(any(form in documents[hit.id] for form in forms) for hit in hits)
                        found.append((query, relevant / len(hits), len(hits), held))
            for short in EDGE_NAMES:
                long = vi.abbreviations()[short.lower()]
                for level in LEVELS:
                    forms = [f"{form}{vi.fold(level)} " for form in writings(short, long)]
                    held = sum(any(form in text for form in forms) for text in documents.values())
                    for query in (f"{short} {level}", f"{long} {level}"):
                        hits = searcher.search(query, limit=10).hits
                        relevant = sum(any(form in documents[hit.id] for form in forms) for hit in hits)
                        edge_rows.append((query, relevant / max(1, len(hits)), len(hits), held))

    print("# Name queries on the sample corpus\n")
    print(f"Each long form of the abbreviation table searched as written and without diacritics, and each "
          f"abbreviation, over {len(documents)} articles of `{args.corpus.name}/`; a hit is relevant when it holds "
          "the name in some writing (long form, abbreviation, or a mix such as \"Ủy ban MTTQ\").\n")
    tables = (("Long forms", rows), ("Abbreviations", short_rows), ("Names beside an administrative level", edge_rows))
    for heading, table in tables:
        print(f"## {heading}\n")
        print("| query | P@10 | hits | articles with the name |")
        print("|---|---:|---:|---:|")
        for query, precision, hits, held in table:
            print(f"| {query} | {precision:.1f} | {hits} | {held} |")
        mean = sum(row[1] for row in table) / len(table)
        perfect = sum(row[1] == 1 for row in table)
        print(f"\n{len(table)} queries: mean P@10 {mean:.3f}; all ten relevant for {perfect}.\n")
    print("Reproduce: `python benchmarks/name_queries.py --output benchmarks/results/name-queries.md`.")
    return args


if __name__ == "__main__":
    main()
