"""Speed at real scale: index, re-index, search and classify VNTC news, against naive baselines.

One command, one run, one table (issue 5). Every measurement runs in a child process of
its own, so that peak memory (RSS) is that measurement's alone.

    python benchmarks/speed.py                  # the full VNTC test set, 50,373 articles (30+ min)
    python benchmarks/speed.py --quick          # 5,000 articles, 2,000 classified (a few minutes)
    python benchmarks/speed.py --articles 20000 --classify 5000
    python benchmarks/speed.py --verify 2000    # only check: fast segmentation == underthesea's

Writes the table to ``benchmarks/results/speed.md`` (``--out``), with the machine and the date.

What is measured
- naive index: one process; each article segmented with underthesea's ``word_tokenize``
  (line by line, as ``mttq_nlp.text.segmented`` did before it got faster, so the index
  holds the same words), classified alone, added to a Whoosh writer with default
  settings (same schema), one commit at the end.
- project index: ``mttq_nlp.index.index_corpus(jobs=2)`` with the default model.
- re-index: the same call again on the same, unchanged sources.
- search: a warm ``Searcher``, queries of 2-6 syllables cut from titles, half of them
  without diacritics; and ``mttq-nlp search`` as a fresh process (median of 5).
- classify: the naive per-article loop (segment, predict one) against
  ``mttq-nlp classify FILE --jsonl`` as a fresh process; the labels must be identical.

Peak memory: for the stages run by this script (indexing, the warm searcher, the naive
classify loop), the largest sum, sampled twice a second, of the proportional set sizes of
the stage's process and its workers (Linux; elsewhere an upper bound). For the
``mttq-nlp`` commands, their peak RSS plus the largest worker's times the number of
workers (an upper bound).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VNTC = REPO.parent / "shared" / "corpora" / "vntc" / "test.jsonl.gz"
FULL = 50_373


# --- the reference segmentation: mttq_nlp.text.segmented before this work ---------------

def reference_segmented(text: str) -> str:
    """``text.segmented`` as it was: underthesea's ``word_tokenize`` on each line."""
    from underthesea import word_tokenize

    from mttq_nlp import text as vi

    text = vi.normalize(text)
    words: list[list[str]] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if _reference_all_caps(line):
            line = line.lower()
        for token in word_tokenize(line):
            parts = vi.syllables(token)
            if parts:
                words.append(parts)
    return " ".join("_".join(word) for word in _reference_regroup(words))


def _reference_all_caps(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    if len(letters) < 4:
        return False
    upper = sum(c.isupper() for c in letters)
    return upper / len(letters) > 0.8


def _reference_regroup(words: list[list[str]]) -> list[list[str]]:
    from mttq_nlp import text as vi

    dictionary = vi._dictionary()
    flat = [s for word in words for s in word]
    lower = [s.lower() for s in flat]
    starts = set()
    n = 0
    for word in words:
        starts.add(n)
        n += len(word)
    out: list[list[str]] = []
    i = 0
    while i < len(flat):
        term = next((t for t in dictionary.get(lower[i], ()) if tuple(lower[i:i + len(t)]) == t), None)
        if term:
            out.append(flat[i:i + len(term)])
            i += len(term)
            starts.add(i)
            continue
        if i in starts or not out:
            out.append([flat[i]])
        else:
            out[-1].append(flat[i])
        i += 1
    return out


# --- data ----------------------------------------------------------------------------------

def read_records(path: Path, n: int | None, skip: int = 0) -> list[dict]:
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number < skip:
                continue
            if n is not None and len(records) >= n:
                break
            records.append(json.loads(line))
    return records


def write_jsonl(records: list[dict], path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


# --- stages, each run in a child process (python speed.py --stage NAME ARGS_JSON) ------------

def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def stage_naive_index(args: dict) -> dict:
    from whoosh import index as whoosh_index

    from mttq_nlp.classify import load_model
    from mttq_nlp.corpus import read_corpus
    from mttq_nlp.index import document, schema

    start = time.perf_counter()
    model = load_model(args["model"]) if args["model"] else None
    folder = Path(args["index"])
    folder.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(folder), schema())
    writer = ix.writer()
    count = 0
    for article in read_corpus([args["source"]]):
        if not hasattr(article, "text"):
            continue
        title, body = reference_segmented(article.title), reference_segmented(article.text)
        prediction = model.predict_segmented([title + "\n" + body])[0] if model else None
        topics = article.labels if article.labels is not None else (prediction.labels if prediction else [])
        writer.add_document(**document(article, title, body, topics, prediction.scores if prediction else None,
                                       article.labels is not None))
        count += 1
        if args.get("limit") and count >= args["limit"]:
            break
    writer.commit()
    return {"seconds": time.perf_counter() - start, "articles": count}


def stage_project_index(args: dict) -> dict:
    from mttq_nlp.classify import load_model
    from mttq_nlp.index import index_corpus

    start = time.perf_counter()
    model = load_model(args["model"]) if args["model"] else None
    stats = index_corpus([args["source"]], args["index"], model=model, jobs=args["jobs"])
    return {"seconds": time.perf_counter() - start, "articles": stats.read,
            "indexed": stats.indexed + stats.updated, "unchanged": stats.unchanged}


def stage_search(args: dict) -> dict:
    from mttq_nlp.search import Searcher

    queries = args["queries"]
    # a time budget: on a large index a query can take seconds, and the run must end
    budget = float(os.environ.get("SPEED_SEARCH_BUDGET", args.get("budget", 240)))
    began = time.perf_counter()
    with Searcher(args["index"]) as searcher:
        for query in queries[-3:]:  # warm up: caches, lazily loaded readers
            searcher.search(query)
        times, hits = [], 0
        for query in queries:
            start = time.perf_counter()
            result = searcher.search(query)
            times.append((time.perf_counter() - start) * 1000)
            hits += result.total > 0
            if time.perf_counter() - began > budget:
                break
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))],
            "max": times[-1], "queries": len(times), "planned": len(queries), "with_hits": hits}


def stage_naive_classify(args: dict) -> dict:
    from mttq_nlp.classify import load_model

    start = time.perf_counter()
    model = load_model(args["model"])
    labels = []
    with open(args["source"], encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            segmented = reference_segmented(f"{record.get('title') or ''}\n{record['text']}")
            labels.append(model.predict_segmented([segmented])[0].labels)
    return {"seconds": time.perf_counter() - start, "articles": len(labels), "labels": labels}


STAGES = {"naive_index": stage_naive_index, "project_index": stage_project_index, "search": stage_search,
          "naive_classify": stage_naive_classify}


def _tree_pss_mb(root: int) -> float:
    """Memory of a process and all its descendants now: the sum of their proportional
    set sizes (shared pages counted once in all), from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) / 1024
                        break
        except OSError:
            continue
    return total


def run_stage(name: str, args: dict, workers: int = 0) -> dict:
    """Run a stage in a child process; add its peak memory (MB): the largest sum of
    the proportional set sizes of the process and its workers, sampled twice a second
    on Linux; elsewhere an upper bound (its peak RSS + the largest worker's times the
    number of workers)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(args, handle)
    peak, done = [0.0], threading.Event()
    try:
        process = subprocess.Popen([sys.executable, __file__, "--stage", name, handle.name],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def sample():
            while not done.wait(0.5):
                try:
                    peak[0] = max(peak[0], _tree_pss_mb(process.pid))
                except OSError:
                    pass

        sampler = threading.Thread(target=sample, daemon=True)
        if os.path.exists("/proc/self/smaps_rollup"):
            sampler.start()
        stdout, stderr = process.communicate()
        done.set()
        if process.returncode:
            raise RuntimeError(f"stage {name} failed: {stderr[-2000:]}")
    finally:
        os.unlink(handle.name)
    result = json.loads(stdout.strip().splitlines()[-1])
    bound = result.pop("own_mb") + workers * result.pop("children_mb")
    result["peak_mb"] = peak[0] if peak[0] else bound
    result["peak_bound_mb"] = bound
    return result


def run_command(command: list[str], **kwargs) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall time (s) and peak RSS (MB, own + largest child x 2 as an upper bound) of a command."""
    wrapper = [sys.executable, "-c", (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=sys.stdout, stderr=sys.stderr)\n"
        "t = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps([t, u.ru_maxrss / 1024, p.returncode, u.ru_utime + u.ru_stime]), file=sys.stderr)\n"
    )] + command
    out = subprocess.run(wrapper, capture_output=True, text=True, **kwargs)
    seconds, peak, code, cpu = json.loads(out.stderr.strip().splitlines()[-1])
    out.cpu = cpu
    if code:
        raise RuntimeError(f"{command} failed: {out.stderr[-2000:]}")
    return seconds, peak, out


# --- queries --------------------------------------------------------------------------------

def make_queries(records: list[dict], n: int, seed: int = 5) -> list[str]:
    from mttq_nlp import text as vi

    rng = random.Random(seed)
    queries = []
    titles = [r["title"] for r in records if r.get("title")]
    while len(queries) < n and titles:
        words = vi.syllables(vi.normalize(rng.choice(titles)))
        if len(words) < 2:
            continue
        size = rng.randint(2, min(6, len(words)))
        first = rng.randrange(0, len(words) - size + 1)
        query = " ".join(words[first:first + size]).lower()
        queries.append(vi.fold(query) if len(queries) % 2 else query)
    return queries


# --- verify ---------------------------------------------------------------------------------

def verify(n: int, skip: int) -> int:
    """Compare ``text.segmented`` with the reference on ``n`` real articles (title and text)."""
    from mttq_nlp import text as vi

    records = read_records(VNTC, n, skip)
    texts = [r.get("title") or "" for r in records] + [r["text"] for r in records]
    vi.segmented("khởi động")
    reference_segmented("khởi động")
    start = time.perf_counter()
    new = [vi.segmented(t) for t in texts]
    new_seconds = time.perf_counter() - start
    start = time.perf_counter()
    old = [reference_segmented(t) for t in texts]
    old_seconds = time.perf_counter() - start
    diffs = [i for i, (a, b) in enumerate(zip(new, old)) if a != b]
    syllables = sum(len(vi.syllables(t)) for t in texts)
    print(f"{len(records)} articles ({len(texts)} titles and texts, {syllables:,} syllables): "
          f"{len(diffs)} differ; reference {old_seconds:.1f} s ({syllables / old_seconds:,.0f} syllables/s), "
          f"text.segmented {new_seconds:.1f} s ({syllables / new_seconds:,.0f} syllables/s), "
          f"{old_seconds / new_seconds:.2f}x")
    for i in diffs[:5]:
        print(f"  differs: {texts[i][:100]!r}")
    return 1 if diffs else 0


# --- the machine ----------------------------------------------------------------------------

def search_only(options) -> int:
    """The search rows alone, on an index built before (it takes half an hour to build)."""
    index = options.search_index
    records = read_records(VNTC, options.articles)
    queries = make_queries(records, options.queries)
    search = run_stage("search", {"index": index, "queries": queries})
    fresh = []
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for query in queries[:5]:
        seconds, peak, _ = run_command(["mttq-nlp", "search", query, "--index-dir", index], env=env)
        fresh.append((seconds, peak))
    ok = lambda flag: "yes" if flag else "**no**"  # noqa: E731
    median = statistics.median(s for s, _ in fresh)
    lines = [
        "| measurement | result | peak memory | target met |",
        "|---|---|---|---|",
        f"| search, warm `Searcher`, {search['queries']} title queries of 2-6 words (half without diacritics) "
        f"| p50 {search['p50']:.1f} ms, p95 {search['p95']:.1f} ms, max {search['max']:.0f} ms "
        f"| {search['peak_mb']:,.0f} MB | p50 < 20 ms: {ok(search['p50'] < 20)}; p95 < 100 ms: {ok(search['p95'] < 100)} |",
        f"| `mttq-nlp search` as a fresh process (median of 5) | {median:.2f} s "
        f"| {max(p for _, p in fresh):,.0f} MB | < 1.5 s: {ok(median < 1.5)} |",
    ]
    text = "\n".join([
        f"# Speed: search over {len(records):,} VNTC articles",
        "",
        f"`python benchmarks/speed.py --search-index {index}`, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"the index holds the first {len(records):,} articles of VNTC test.",
        "",
        f"Machine: {machine()}. Load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        "",
        *lines,
        "",
    ])
    print(text)
    out = Path(options.out) if options.out != str(HERE / "results" / "speed.md") else HERE / "results" / "speed-search.md"
    out.write_text(text, encoding="utf-8")
    return 0


def classify_only(options) -> int:
    """The classify rows alone: the naive per-article loop against `mttq-nlp classify`."""
    from mttq_nlp.classify import default_model_dir

    n = options.classify or 10_000
    model_dir = options.model or str(default_model_dir())
    load_start = " ".join(f"{x:.1f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="mttq-speed-"))
    try:
        source = write_jsonl(read_records(VNTC, n), work / "classify.jsonl")
        naive = run_stage("naive_classify", {"source": str(source), "model": model_dir})
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        seconds, peak, out = run_command(["mttq-nlp", "classify", str(source), "--jsonl", "--model", model_dir, "-q",
                                          "--jobs", str(options.jobs)], env=env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    labels = [json.loads(line)["labels"] for line in out.stdout.splitlines() if line.strip()]
    same = labels == naive["labels"]
    naive_rate, rate = naive["articles"] / naive["seconds"], len(labels) / seconds
    ok = lambda flag: "yes" if flag else "**no**"  # noqa: E731
    text = "\n".join([
        f"# Speed: classifying {n:,} VNTC articles",
        "",
        f"`python benchmarks/speed.py --classify-only --classify {n}`, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        f"Machine: {machine()}. Load average at the start: {load_start}; at the end: "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        "",
        "| measurement | articles | wall time | CPU time | rate | peak memory | target met |",
        "|---|---|---|---|---|---|---|",
        f"| classify, naive per-article loop | {naive['articles']:,} | {naive['seconds']:,.1f} s | {naive['cpu']:,.0f} s "
        f"| {naive_rate:,.1f} art/s | {naive['peak_mb']:,.0f} MB | |",
        f"| classify, `mttq-nlp classify --jsonl --jobs {options.jobs}` | {len(labels):,} | {seconds:,.1f} s "
        f"| {out.cpu:,.0f} s | {rate:,.1f} art/s ({rate / naive_rate:.2f}x naive) | {peak:,.0f} MB (+ workers) "
        f"| ≥3x: {ok(rate >= 3 * naive_rate)}; identical labels: {ok(same)} |",
        "",
    ])
    print(text)
    (HERE / "results" / "speed-classify.md").write_text(text, encoding="utf-8")
    return 0


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        ram = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")) / 1024 / 1024
    except (OSError, StopIteration):
        ram = float("nan")
    import underthesea
    import whoosh

    return (f"{os.cpu_count()} cores ({cpu}), {ram:.0f} GB RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}, underthesea {underthesea.__version__}, "
            f"Whoosh {'.'.join(map(str, whoosh.__version__))}")


# --- main -----------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 articles, 2,000 classified")
    parser.add_argument("--articles", type=int, help="articles to index (default: all 50,373; 5,000 with --quick)")
    parser.add_argument("--naive-articles", type=int,
                        help="articles the naive indexing baseline runs on (default: all; its rate is what counts)")
    parser.add_argument("--classify", type=int, help="articles to classify (default 10,000; 2,000 with --quick)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--model", help="topic model folder (default: the bundled model)")
    parser.add_argument("--out", default=str(HERE / "results" / "speed.md"))
    parser.add_argument("--verify", type=int, metavar="N", help="only compare segmentation on N articles")
    parser.add_argument("--skip", type=int, default=0, help="with --verify: start after this many articles")
    parser.add_argument("--search-index", metavar="DIR",
                        help="only the search rows, on an index of the VNTC test articles built before, e.g. "
                             "with `mttq-nlp index ../shared/corpora/vntc/test.jsonl.gz --index-dir DIR`")
    parser.add_argument("--classify-only", action="store_true",
                        help="only the classify rows (naive loop and mttq-nlp classify) on --classify articles")
    parser.add_argument("--stage", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.stage:
        name, path = options.stage
        result = STAGES[name](json.loads(Path(path).read_text()))
        own, children = _peak_mb()
        times = os.times()
        result.update(own_mb=own, children_mb=children,
                      cpu=times.user + times.system + times.children_user + times.children_system)
        print(json.dumps(result, ensure_ascii=False))
        return 0
    if options.verify:
        return verify(options.verify, options.skip)
    if options.search_index:
        return search_only(options)
    if options.classify_only:
        return classify_only(options)

    n_articles = options.articles or (5_000 if options.quick else None)
    n_classify = options.classify or (2_000 if options.quick else 10_000)
    from mttq_nlp.classify import default_model_dir, load_model

    model_dir = options.model or str(default_model_dir())
    load_model(model_dir)  # fails early, and clearly, if there is no model
    work = Path(tempfile.mkdtemp(prefix="mttq-speed-"))
    load_start = " ".join(f"{x:.1f}" for x in os.getloadavg())
    log = lambda message: print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)  # noqa: E731
    try:
        records = read_records(VNTC, n_articles)
        source = write_jsonl(records, work / "articles.jsonl")
        n = len(records)
        rows = []

        naive_n = min(options.naive_articles or n, n)
        log(f"naive index of {naive_n:,} articles")
        naive = run_stage("naive_index", {"source": str(source), "index": str(work / "naive-index"),
                                          "model": model_dir, "limit": naive_n})
        shutil.rmtree(work / "naive-index")
        log(f"project index of {n:,} articles, {options.jobs} jobs")
        project = run_stage("project_index", {"source": str(source), "index": str(work / "index"),
                                              "model": model_dir, "jobs": options.jobs}, workers=options.jobs)
        log("re-index, unchanged sources")
        again = run_stage("project_index", {"source": str(source), "index": str(work / "index"),
                                            "model": model_dir, "jobs": options.jobs}, workers=options.jobs)
        assert again["unchanged"] == project["indexed"], again

        queries = make_queries(records, options.queries)
        log(f"search: {len(queries)} queries")
        search = run_stage("search", {"index": str(work / "index"), "queries": queries})
        fresh_times = []
        fresh_peak = 0.0
        for query in queries[:5]:
            seconds, peak, _ = run_command(["mttq-nlp", "search", query, "--index-dir", str(work / "index")],
                                           env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
            fresh_times.append(seconds)
            fresh_peak = max(fresh_peak, peak)

        classify_records = records[:n_classify] if n_classify <= n else read_records(VNTC, n_classify)
        classify_source = write_jsonl(classify_records, work / "classify.jsonl")
        log(f"naive classify of {len(classify_records):,} articles")
        naive_classify = run_stage("naive_classify", {"source": str(classify_source), "model": model_dir})
        log("mttq-nlp classify")
        seconds, peak, out = run_command(
            ["mttq-nlp", "classify", str(classify_source), "--jsonl", "--model", model_dir, "-q",
             "--jobs", str(options.jobs)],
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
        project_labels = [json.loads(line)["labels"] for line in out.stdout.splitlines() if line.strip()]
        same = project_labels == naive_classify["labels"]
        mismatches = sum(a != b for a, b in zip(project_labels, naive_classify["labels"]))

        def rate(count, secs):
            return count / secs if secs else float("nan")

        naive_rate = rate(naive["articles"], naive["seconds"])
        project_rate = rate(project["articles"], project["seconds"])
        naive_classify_rate = rate(naive_classify["articles"], naive_classify["seconds"])
        classify_rate = rate(len(project_labels), seconds)
        ok = lambda flag: "yes" if flag else "**no**"  # noqa: E731
        rows = [
            ("index, naive (1 process, per-article, default Whoosh writer)"
             + (f", first {naive['articles']:,} articles" if naive["articles"] < n else ""),
             f"{naive['articles']:,}", f"{naive['seconds']:,.1f} s", f"{naive['cpu']:,.0f} s",
             f"{naive_rate:,.1f} art/s",
             f"{naive['peak_mb']:,.0f} MB", ""),
            (f"index, project (`index_corpus`, jobs={options.jobs})", f"{project['articles']:,}",
             f"{project['seconds']:,.1f} s", f"{project['cpu']:,.0f} s", f"{project_rate:,.1f} art/s ({project_rate / naive_rate:.2f}x naive)",
             f"{project['peak_mb']:,.0f} MB",
             f"≥3x: {ok(project_rate >= 3 * naive_rate)}; < 3 GB: {ok(project['peak_mb'] < 3072)}"),
            ("re-index, unchanged sources", f"{again['articles']:,}", f"{again['seconds']:,.1f} s",
             f"{again['cpu']:,.0f} s",
             f"{100 * again['seconds'] / project['seconds']:.1f}% of a full run", f"{again['peak_mb']:,.0f} MB",
             f"< 10%: {ok(again['seconds'] < 0.1 * project['seconds'])}"),
            (f"search, warm `Searcher`, {search['queries']} title queries of 2-6 words (half without diacritics)"
             + (f", of {search['planned']} (time budget)" if search["queries"] < search["planned"] else ""),
             "", "", "", f"p50 {search['p50']:.1f} ms, p95 {search['p95']:.1f} ms, max {search['max']:.0f} ms",
             f"{search['peak_mb']:,.0f} MB",
             f"p50 < 20 ms: {ok(search['p50'] < 20)}; p95 < 100 ms: {ok(search['p95'] < 100)}"),
            ("`mttq-nlp search` as a fresh process (median of 5)", "", f"{statistics.median(fresh_times):.2f} s", "", "",
             f"{fresh_peak:,.0f} MB", f"< 1.5 s: {ok(statistics.median(fresh_times) < 1.5)}"),
            ("classify, naive per-article loop", f"{naive_classify['articles']:,}",
             f"{naive_classify['seconds']:,.1f} s", f"{naive_classify['cpu']:,.0f} s", f"{naive_classify_rate:,.1f} art/s",
             f"{naive_classify['peak_mb']:,.0f} MB", ""),
            (f"classify, `mttq-nlp classify --jsonl --jobs {options.jobs}`", f"{len(project_labels):,}",
             f"{seconds:,.1f} s", f"{out.cpu:,.0f} s", f"{classify_rate:,.1f} art/s ({classify_rate / naive_classify_rate:.2f}x naive)",
             f"{peak:,.0f} MB (+ workers)",
             f"≥3x: {ok(classify_rate >= 3 * naive_classify_rate)}; identical labels: "
             f"{ok(same)}{'' if same else f' ({mismatches} differ)'}"),
        ]
        header = ["measurement", "articles", "wall time", "CPU time", "rate", "peak memory", "target met"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        command = "python benchmarks/speed.py" + (" --quick" if options.quick else "") + (
            f" --articles {options.articles}" if options.articles else "") + (
            f" --naive-articles {options.naive_articles}" if options.naive_articles else "") + (
            f" --classify {options.classify}" if options.classify else "")
        text = "\n".join([
            f"# Speed: {n:,} VNTC articles" + (" (quick mode)" if options.quick else ""),
            "",
            f"`{command}`, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.",
            "",
            f"Machine: {machine()}.",
            "",
            *lines,
            "",
            f"Load average (other work on the machine) at the start: {load_start}, at the end: "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}. CPU time: user + system, all processes of "
            "the measurement; on a busy machine wall time suffers, CPU time much less.",
            "",
            "Peak memory: for the index, re-index, search and naive rows, the largest sum, sampled twice a "
            "second, of the proportional set sizes (PSS: a shared page divided among the processes sharing "
            "it) of the measured process and its workers; for the `mttq-nlp` commands, their peak RSS plus "
            "the largest worker's times the number of workers (an upper bound). art/s: articles per second, end to end (read, normalise, segment, classify, "
            "write, commit).",
            "",
        ])
        print(text)
        out_path = Path(options.out)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text, encoding="utf-8")
        log(f"written to {out_path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
