#!/usr/bin/env python3
"""Known-item search quality: mttq-nlp against plain Whoosh and SQLite FTS5 on VNTC.

For N articles of the VNTC corpus, three indexes are built in a temporary folder:

* mttq-nlp: ``mttq_nlp.index.index_corpus`` (no topic model), searched with
  ``mttq_nlp.search.Searcher``;
* whoosh-standard: plain Whoosh, ``StandardAnalyzer()`` on a title and a body field,
  default BM25F, queries through ``MultifieldParser`` with ``OrGroup``;
* sqlite-fts5: FTS5 with ``tokenize="unicode61 remove_diacritics 2"``, ranked by
  ``bm25()``; each query token quoted and joined with OR (a column with implicit
  AND is reported too).

For M of those articles, a query is a contiguous span of 3 to 6 syllables of the
title (titles of fewer than 4 syllables are skipped); the target is that article
(and any other indexed article with the same title, since no query can tell them
apart). Each query is run as written and in four variants: without diacritics,
with the other tone-mark placement (hòa <-> hoà, thủy <-> thuỷ, khỏe <-> khoẻ),
in NFD, and in capitals. The metric is MRR@10, with recall@10 beside it.

Run from the repository root (takes about 5 minutes for 10,000 articles):

    python benchmarks/search_quality.py --articles 10000 --queries 1000 --seed 0

The table is printed and written as Markdown to benchmarks/results/search-quality.md
(``--output`` to change; notes written by hand at its end are kept). Exit status 2 when the corpus is absent.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import inspect
import json
import multiprocessing
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from importlib import metadata
from pathlib import Path

from report_notes import write_report

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / ".." / "shared" / "corpora" / "vntc" / "test.jsonl.gz"
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "search-quality.md"
SYSTEMS = ("mttq-nlp", "whoosh-standard", "sqlite-fts5")
EXTRA_SYSTEMS = ("sqlite-fts5-and",)  # informational: implicit AND between quoted tokens
VARIANTS = ("exact", "no diacritics", "other tone placement", "NFD", "ALL CAPS")
TONE_VARIANTS = ("exact", "other tone placement")
K = 10
MIN_TITLE_SYLLABLES = 4
SPAN = (3, 6)
GOAL = 0.05  # every variant within 5% of the exact queries' MRR

_SYLLABLE = re.compile(r"[^\W_]+")


# --- corpus and queries ------------------------------------------------------------

def load_articles(path: Path, n: int, seed: int, first: bool) -> list[dict]:
    """N articles (id, title, text) of a VNTC JSONL file: the first N or a seeded sample."""
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            records.append({
                "id": str(record["id"]),
                # as mttq_nlp.corpus reads them, so the segmentation cache below matches
                "title": (record.get("title") or "").strip(),
                "text": (record.get("text") or "").replace("\r\n", "\n").replace("\r", "\n"),
            })
            if first and len(records) >= n:
                break
    if first or n >= len(records):
        return records[:n]
    return random.Random(seed).sample(records, n)


def _placement_pairs() -> dict[str, str]:
    """new <-> old tone placement of the open rhymes oa, oe, uy, both ways, in every case:
    the project's own old -> new table, and its inverse."""
    from mttq_nlp.text import _NEW_PLACEMENT

    swap = dict(_NEW_PLACEMENT)
    swap.update({new: old for old, new in _NEW_PLACEMENT.items()})
    return swap


_SWAP = _placement_pairs()
# at the end of a syllable only (hoàn, thuyền keep theirs), and not after q (quý, quà)
_PLACEMENT = re.compile(r"(?<![^\W_])([^\W_]*?)(" + "|".join(map(re.escape, _SWAP)) + r")(?![^\W_])")


def other_tone_placement(text: str) -> str:
    """The other tone-mark placement: hòa -> hoà, thủy -> thuỷ, khỏe -> khoẻ, and back."""
    def swap(match: re.Match) -> str:
        onset, rhyme = match.group(1), match.group(2)
        if onset[-1:] in ("q", "Q"):
            return match.group(0)
        return onset + _SWAP[rhyme]

    return _PLACEMENT.sub(swap, unicodedata.normalize("NFC", text))


def variants(query: str) -> dict[str, str]:
    from mttq_nlp.text import fold

    return {
        "exact": query,
        "no diacritics": fold(unicodedata.normalize("NFC", query)),
        "other tone placement": other_tone_placement(query),
        "NFD": unicodedata.normalize("NFD", query),
        "ALL CAPS": query.upper(),
    }


def make_queries(articles: list[dict], m: int, seed: int) -> tuple[list[dict], list[dict], int]:
    """Known-item queries: a span of 3-6 title syllables, its article the target.

    Returns M queries over all titles long enough (every variant is run), and up to M
    queries whose span holds a syllable that the other tone placement changes (only
    the exact and the other-placement forms are run): few random spans hold one.
    """
    by_title: dict[str, set[str]] = {}
    for article in articles:
        by_title.setdefault(_title_key(article["title"]), set()).add(article["id"])
    candidates = [a for a in articles if len(_SYLLABLE.findall(a["title"])) >= MIN_TITLE_SYLLABLES]

    def query(article: dict, words: list[str], start: int, length: int, names) -> dict:
        text = " ".join(words[start:start + length])
        forms = variants(text)
        return {"target": article["id"], "relevant": by_title[_title_key(article["title"])],
                "text": text, "variants": {name: forms[name] for name in names}}

    rng = random.Random(seed + 1)
    queries = []
    for article in rng.sample(candidates, min(m, len(candidates))):
        words = _SYLLABLE.findall(article["title"])
        length = rng.randint(SPAN[0], min(SPAN[1], len(words)))
        queries.append(query(article, words, rng.randint(0, len(words) - length), length, VARIANTS))

    rng = random.Random(seed + 2)
    tone_candidates = []
    for article in candidates:
        words = _SYLLABLE.findall(article["title"])
        changed = [i for i, word in enumerate(words) if other_tone_placement(word) != word]
        if changed:
            tone_candidates.append((article, words, changed))
    tone_queries = []
    for article, words, changed in rng.sample(tone_candidates, min(m, len(tone_candidates))):
        where = rng.choice(changed)
        length = rng.randint(SPAN[0], min(SPAN[1], len(words)))
        start = rng.randint(max(0, where - length + 1), min(where, len(words) - length))
        tone_queries.append(query(article, words, start, length, TONE_VARIANTS))
    return queries, tone_queries, len(candidates)


def _title_key(title: str) -> str:
    return " ".join(_SYLLABLE.findall(unicodedata.normalize("NFC", title).lower()))


# --- mttq-nlp ----------------------------------------------------------------------

def _segment_one(text: str) -> str:
    from mttq_nlp.text import segmented

    return segmented(text)


def presegment(articles: list[dict], jobs: int) -> dict[str, str]:
    """Segment every title and text in a process pool (the slow part of indexing)."""
    texts = list(dict.fromkeys(t for a in articles for t in (a["title"], a["text"])))
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return dict(zip(texts, pool.map(_segment_one, texts, chunksize=16)))


@contextlib.contextmanager
def segmentation_cache(cache: dict[str, str]):
    """Let ``index_corpus`` take segmentations from ``cache`` (same function, same output)."""
    from mttq_nlp import text as vi

    original = vi.segmented

    def cached(text: str) -> str:
        found = cache.get(text)
        return found if found is not None else original(text)

    vi.segmented = cached
    try:
        yield
    finally:
        vi.segmented = original


def build_mttq(articles: list[dict], folder: Path, jobs: int) -> None:
    from mttq_nlp.index import index_corpus

    source = folder / "articles.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for article in articles:
            handle.write(json.dumps(article, ensure_ascii=False) + "\n")
    if "jobs" in inspect.signature(index_corpus).parameters:  # it segments in parallel itself
        stats = index_corpus([str(source)], folder / "mttq-index", model=None, rebuild=True, jobs=jobs)
    else:
        cache = presegment(articles, jobs) if jobs > 1 else {}
        with segmentation_cache(cache):
            stats = index_corpus([str(source)], folder / "mttq-index", model=None, rebuild=True)
    if stats.indexed != len(articles):
        raise SystemExit(f"mttq-nlp indexed {stats.indexed} of {len(articles)} articles: {stats.summary()}")


def mttq_search(folder: Path):
    from mttq_nlp.search import Searcher

    searcher = Searcher(folder / "mttq-index")

    def run(query: str) -> list[str]:
        return [hit.id for hit in searcher.search(query, limit=K).hits]

    return run


# --- peers -------------------------------------------------------------------------

def build_whoosh(articles: list[dict], folder: Path) -> None:
    from whoosh import index
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    analyzer = StandardAnalyzer()
    schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=analyzer), body=TEXT(analyzer=analyzer))
    path = folder / "whoosh-index"
    path.mkdir()
    ix = index.create_in(str(path), schema)
    writer = ix.writer(limitmb=256)
    for article in articles:
        writer.add_document(id=article["id"], title=article["title"], body=article["text"])
    writer.commit()


def whoosh_search(folder: Path):
    from whoosh import index
    from whoosh.qparser import MultifieldParser, OrGroup

    ix = index.open_dir(str(folder / "whoosh-index"))
    searcher = ix.searcher()  # default weighting: BM25F
    parser = MultifieldParser(["title", "body"], ix.schema, group=OrGroup)

    def run(query: str) -> list[str]:
        return [hit["id"] for hit in searcher.search(parser.parse(query), limit=K)]

    return run


def build_fts5(articles: list[dict], folder: Path) -> None:
    db = sqlite3.connect(folder / "fts5.db")
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.executemany("INSERT INTO docs (id, title, body) VALUES (?, ?, ?)",
                   ((a["id"], a["title"], a["text"]) for a in articles))
    db.commit()
    db.close()


def fts5_search(folder: Path, operator: str):
    db = sqlite3.connect(folder / "fts5.db")

    def run(query: str) -> list[str]:
        tokens = ['"' + token.replace('"', '""') + '"' for token in query.split()]
        if not tokens:
            return []
        match = f" {operator} ".join(tokens) if operator == "OR" else " ".join(tokens)
        rows = db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, K))
        return [row[0] for row in rows]

    return run


# --- measuring ---------------------------------------------------------------------

def timed(run, text: str) -> tuple[list[str], float, bool]:
    """Run one query: (ids, seconds, whether it raised)."""
    started = time.perf_counter()
    try:
        ids, failed = run(text), False
    except Exception:  # a peer's parser may reject a query: that query is a miss
        ids, failed = [], True
    return ids, time.perf_counter() - started, failed


_WORKER_RUN = None


def _worker_init(folder: Path) -> None:
    global _WORKER_RUN
    _WORKER_RUN = mttq_search(folder)
    _WORKER_RUN("khởi động")  # warm: load the segmenter


def _worker_query(text: str):
    return timed(_WORKER_RUN, text)


def evaluate(run, queries: list[dict], timings: list[float] | None = None, pool=None) -> dict:
    """The reciprocal rank of each query's target, per variant, and the errors."""
    items = [(i, variant, text) for i, query in enumerate(queries) for variant, text in query["variants"].items()]
    texts = [text for _, _, text in items]
    outcomes = pool.map(_worker_query, texts, chunksize=4) if pool else [timed(run, text) for text in texts]
    ranks: list[dict[str, float]] = [{} for _ in queries]
    errors = 0
    for (i, variant, _), (ids, seconds, failed) in zip(items, outcomes):
        errors += failed
        if timings is not None:
            timings.append(seconds)
        rank = next((r for r, hit in enumerate(ids, 1) if hit in queries[i]["relevant"]), None)
        ranks[i][variant] = 1.0 / rank if rank else 0.0
    return {"ranks": ranks, "errors": errors}


def summarise(ranks: list[float]) -> tuple[float, float]:
    if not ranks:
        return float("nan"), float("nan")
    return statistics.fmean(ranks), sum(r > 0 for r in ranks) / len(ranks)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def machine() -> str:
    try:
        with open("/proc/meminfo") as handle:
            kb = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
        ram = f"{kb / 1024 ** 2:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        ram = "RAM unknown"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line for line in handle if line.startswith("model name")).split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs (nproc), {ram}, {cpu}, Python {platform.python_version()}"


def versions() -> str:
    found = []
    for name in ("mttq-nlp", "whoosh-reloaded", "underthesea"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    found.append(f"SQLite {sqlite3.sqlite_version}")
    return ", ".join(found)


# --- main --------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000, metavar="N", help="articles to index (default 10000)")
    parser.add_argument("--queries", type=int, default=1000, metavar="M", help="known-item queries (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for articles and queries (default 0)")
    parser.add_argument("--first", action="store_true", help="take the first N articles instead of a seeded sample")
    parser.add_argument("--vntc", type=Path, default=DEFAULT_CORPUS, metavar="PATH",
                        help="VNTC JSONL(.gz) with id, title, text (default ../shared/corpora/vntc/test.jsonl.gz)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes segmenting articles for the mttq-nlp index (default: nproc)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown report (default %(default)s)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the indexes in DIR and keep them; reuse them if DIR already has them")
    parser.add_argument("--misses", type=Path, metavar="FILE",
                        help="write the queries mttq-nlp misses (JSONL) to FILE")
    args = parser.parse_args(argv)

    corpus = args.vntc.resolve()
    if not corpus.is_file():
        print(f"error: no VNTC corpus at {corpus}; pass --vntc PATH (JSONL or JSONL.gz with id, title, text).",
              file=sys.stderr)
        return 2
    if args.articles < 1 or args.queries < 1:
        parser.error("--articles and --queries must be 1 or more")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    args.load = os.getloadavg()  # other work on a shared machine slows the builds and queries
    started = time.perf_counter()
    articles = load_articles(corpus, args.articles, args.seed, args.first)
    queries, tone_queries, eligible = make_queries(articles, args.queries, args.seed)
    changed = [i for i, q in enumerate(queries) if q["variants"]["other tone placement"] != q["text"]]
    log(f"{len(articles)} articles, {len(queries)} queries ({eligible} titles long enough), "
        f"the other tone placement changes {len(changed)} of them; {len(tone_queries)} tone-placement "
        f"queries ({time.perf_counter() - started:.1f} s)")

    with contextlib.ExitStack() as stack:
        if args.keep:
            folder = args.keep
            folder.mkdir(parents=True, exist_ok=True)
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mttq-search-quality-")))
        manifest = {"corpus": str(corpus), "articles": args.articles, "seed": args.seed, "first": args.first}
        reuse = args.keep and (folder / "manifest.json").is_file() and \
            json.loads((folder / "manifest.json").read_text()) == manifest
        build_times: dict[str, str] = {}
        if reuse:
            build_times = json.loads((folder / "build-times.json").read_text())
            log(f"reusing the indexes in {folder}")
        else:
            for name in ("manifest.json", "articles.jsonl"):
                (folder / name).unlink(missing_ok=True)
            for name, build in (
                ("mttq-nlp", lambda: build_mttq(articles, folder, args.jobs)),
                ("whoosh-standard", lambda: build_whoosh(articles, folder)),
                ("sqlite-fts5", lambda: build_fts5(articles, folder)),
            ):
                log(f"building {name} ...")
                t0 = time.perf_counter()
                build()
                build_times[name] = f"{time.perf_counter() - t0:.1f} s"
                log(f"  {build_times[name]}")
            build_times["mttq-nlp"] += f" ({args.jobs} segmenting process{'es' if args.jobs > 1 else ''})"
            if args.keep:
                (folder / "build-times.json").write_text(json.dumps(build_times))
                (folder / "manifest.json").write_text(json.dumps(manifest))

        runners = {
            "mttq-nlp": mttq_search(folder),
            "whoosh-standard": whoosh_search(folder),
            "sqlite-fts5": fts5_search(folder, "OR"),
            "sqlite-fts5-and": fts5_search(folder, "AND"),
        }
        # warm up: load the segmenter, fill caches
        for query in queries[:2]:
            for run in runners.values():
                for text in query["variants"].values():
                    with contextlib.suppress(Exception):
                        run(text)
        results = {}
        latencies: list[float] = []
        for name, run in runners.items():
            log(f"querying {name} ...")
            t0 = time.perf_counter()
            if name == "mttq-nlp" and args.jobs > 1:  # the slow one: a searcher per process
                with multiprocessing.get_context("fork").Pool(args.jobs, _worker_init, (folder,)) as pool:
                    results[name] = evaluate(run, queries + tone_queries, latencies, pool)
            else:
                results[name] = evaluate(run, queries + tone_queries, latencies if name == "mttq-nlp" else None)
            log(f"  {time.perf_counter() - t0:.1f} s")

    report = render(args, corpus, articles, queries, tone_queries, eligible, changed, results, build_times,
                    latencies)
    print(report)
    write_report(args.output, report)  # keeping the notes written by hand at its end
    log(f"written to {args.output}")
    if args.misses:
        with open(args.misses, "w", encoding="utf-8") as handle:
            for i, query in enumerate(queries + tone_queries):
                for variant, text in query["variants"].items():
                    rr = results["mttq-nlp"]["ranks"][i][variant]
                    if rr < 1:
                        handle.write(json.dumps({
                            "set": "main" if i < len(queries) else "tone", "variant": variant, "query": text,
                            "rr": rr, "target": query["target"],
                            "peers": {n: results[n]["ranks"][i][variant] for n in SYSTEMS[1:]},
                        }, ensure_ascii=False) + "\n")
    return 0


def render(args, corpus, articles, queries, tone_queries, eligible, changed, results, build_times,
           latencies) -> str:
    def cell(name: str, variant: str, subset: list[int]) -> tuple[float, str]:
        mrr, recall = summarise([results[name]["ranks"][i][variant] for i in subset])
        return mrr, f"{mrr:.3f} ({recall:.3f})"

    main = list(range(len(queries)))
    tone = list(range(len(queries), len(queries) + len(tone_queries)))
    # (label, variant, queries, the row whose mttq-nlp MRR it is compared with)
    rows = [(variant, variant, main, "exact") for variant in VARIANTS]
    if changed:
        rows.insert(3, (f"other tone placement, the {len(changed)} changed only", "other tone placement", changed,
                        "exact"))
    if tone:
        rows += [(f"tone set ({len(tone)}): exact", "exact", tone, None),
                 (f"tone set ({len(tone)}): other tone placement", "other tone placement", tone,
                  f"tone set ({len(tone)}): exact")]
    columns = SYSTEMS + EXTRA_SYSTEMS
    lines = [
        "# Search quality: known-item queries on VNTC",
        "",
        "Generated by `benchmarks/search_quality.py`; rerun from the repository root with:",
        "",
        "```",
        "python benchmarks/search_quality.py " + " ".join(
            [f"--articles {args.articles}", f"--queries {args.queries}", f"--seed {args.seed}"]
            + (["--first"] if args.first else [])),
        "```",
        "",
        f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Machine: {machine()}; load average at the start {args.load[0]:.1f} (1 min), "
        f"{args.load[2]:.1f} (15 min)",
        f"- Versions: {versions()}",
        f"- Corpus: `{_shown(corpus)}`, {len(articles)} articles "
        f"({'the first' if args.first else f'a random sample, seed {args.seed}'}).",
        f"- Queries: {len(queries)} (seed {args.seed}), each a contiguous span of {SPAN[0]}-{SPAN[1]} syllables "
        f"of the title of a sampled article ({eligible} titles have at least {MIN_TITLE_SYLLABLES} syllables). "
        f"The target is that article; {sum(len(q['relevant']) > 1 for q in queries)} queries "
        "also accept another indexed article with the same title.",
        f"- Variants: exact (as in the title); no diacritics (`mttq_nlp.text.fold`); the other tone placement "
        f"(hòa <-> hoà, thủy <-> thuỷ, khỏe <-> khoẻ at the end of a syllable, not after q; it changes "
        f"{len(changed)} of the {len(queries)} queries, and the row \"changed only\" is those); "
        "NFD; ALL CAPS (`str.upper`).",
        f"- Tone set: since few random spans hold a syllable whose tone mark can move, {len(tone_queries)} more "
        "queries are drawn the same way from the titles that have one, each span covering such a syllable; "
        "they are run as written and with the other placement.",
        "- Index builds: " + ", ".join(f"{name} {t}" for name, t in build_times.items()) + ".",
        "",
        f"## MRR@{K} (recall@{K})",
        "",
        "| variant | " + " | ".join(columns) + " |",
        "| --- | " + " | ".join("---:" for _ in columns) + " |",
    ]
    verdicts = []
    mine_by_label = {}
    for label, variant, subset, reference in rows:
        cells = [cell(name, variant, subset) for name in columns]
        lines.append(f"| {label} | " + " | ".join(text for _, text in cells) + " |")
        mine = mine_by_label[label] = cells[0][0]
        above = all(mine > c[0] for c in cells[1:len(SYSTEMS)])
        if reference is None:
            verdicts.append(f"| {label} | (reference) | | {'yes' if above else '**no**'} |")
            continue
        base = mine_by_label[reference]
        within = mine >= base * (1 - GOAL)
        verdicts.append(
            f"| {label} | {mine / base - 1:+.1%} | {'yes' if within else '**no**'} | "
            f"{'yes' if above else '**no**'} |")
    lines += [
        "",
        "Systems: mttq-nlp is this project (`index_corpus`, `Searcher.search`); whoosh-standard is Whoosh with "
        "`StandardAnalyzer()` on a title and a body field, default BM25F, `MultifieldParser` with `OrGroup`; "
        "sqlite-fts5 is FTS5 with `unicode61 remove_diacritics 2` ranked by `bm25()`, each token quoted and "
        "joined with OR; sqlite-fts5-and (informational) is the same with implicit AND.",
        "",
        "## Goal: every variant within 5% of the exact queries' MRR, above both peers",
        "",
        "| variant | mttq-nlp MRR vs exact (same queries) | within 5% | above both peers |",
        "| --- | ---: | :---: | :---: |",
        *verdicts,
        "",
        "## mttq-nlp query latency (warm searcher, all variants)",
        "",
        f"{len(latencies)} queries (`Searcher.search`, limit 10, with the total count and snippets), "
        f"in {args.jobs} process{'es' if args.jobs > 1 else ''}: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms (informational: a shared machine).",
    ]
    errors = {name: results[name]["errors"] for name in columns if results[name]["errors"]}
    if errors:
        lines += ["", "Queries that raised (counted as misses): "
                  + ", ".join(f"{name} {count}" for name, count in errors.items()) + "."]
    return "\n".join(lines) + "\n"


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path, REPO)
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
