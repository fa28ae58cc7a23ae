"""The ``mttq-nlp`` command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the result:
data on stdout, progress and problems on stderr. ``MttqError`` becomes a clear
message and exit code 1; bad usage exits 2.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time

import click

from .errors import MttqError

__all__ = ["cli"]


class NonEmptyPath(click.Path):
    """A path option that refuses "" (an unset shell variable), which would otherwise
    mean the current folder or a default."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail("is empty: give a path (is a shell variable unset?).", param, ctx)
        return super().convert(value, param, ctx)


INDEX_DIR_OPTION = click.option(
    "--index-dir",
    type=NonEmptyPath(file_okay=False),
    default=None,
    help="Index folder (default: $MTTQ_NLP_INDEX or ./mttq-index).",
)


def friendly_errors(command):
    """Turn library errors into click errors: a message, no traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except MttqError as error:
            raise click.ClickException(str(error)) from error

    return wrapper


def _names(sources) -> str:
    """The corpus sources for a message: '-' is standard input."""
    return ", ".join("standard input" if source == "-" else str(source) for source in sources)


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


class Progress:
    """A one-line counter on stderr, only when it is a terminal and not --quiet."""

    def __init__(self, label: str, quiet: bool):
        self.label = label
        self.enabled = not quiet and sys.stderr.isatty()
        self.started = time.monotonic()
        self.shown = 0.0

    def __call__(self, count: int) -> None:
        now = time.monotonic()
        if self.enabled and now - self.shown > 0.2:
            self.shown = now
            rate = count / max(now - self.started, 1e-9)
            click.echo(f"\r{self.label} {count:,} ({rate:,.0f}/s)", err=True, nl=False)

    def done(self) -> None:
        if self.enabled and self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mttq-nlp")
def cli():
    """Vietnamese search and topic tagging for Fatherland Front (MTTQ) news.

    \b
    Start with:
        mttq-nlp index                 # index the bundled sample corpus
        mttq-nlp search "phản biện"    # search it
    """


# --- index -------------------------------------------------------------------------

@cli.command()
@click.argument("sources", nargs=-1, type=click.Path(allow_dash=True))
@INDEX_DIR_OPTION
@click.option("--model", "model_dir", type=NonEmptyPath(file_okay=False), default=None,
              help="Topic model folder (default: the bundled Front model).")
@click.option("--no-topics", is_flag=True, help="Do not tag topics (given labels are still kept).")
@click.option("--rebuild", is_flag=True, help="Build a new index from scratch (the old one serves until it is done).")
@click.option("--retag", is_flag=True, help="Re-apply the topic model to the index; no SOURCES are read.")
@click.option("--strict", is_flag=True, help="Stop at the first record that cannot be read; commit nothing.")
# default: index.DEFAULT_COMMIT_EVERY, copied so that other commands do not import Whoosh (a test checks)
@click.option("--commit-every", default=5000, show_default=True, type=click.IntRange(1),
              help="Commit after this many articles (with several jobs, each worker's segment of this "
                   "many): a killed run keeps what it committed.")
@click.option("-j", "--jobs", type=click.IntRange(1), default=None,
              help="Worker processes that segment, classify and write the index [default: one per core].")
@click.option("--wait", default=0.0, type=click.FloatRange(0), metavar="SECONDS",
              help="If another process is writing the index, wait this long for it.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary on stderr.")
@friendly_errors
def index(sources, index_dir, model_dir, no_topics, rebuild, retag, strict, commit_every, jobs, wait, quiet):
    """Index a news corpus for search, tagging each article's topics.

    SOURCES are .txt, .jsonl, .jsonl.gz or .csv files, or folders of them (searched
    recursively); '-' reads JSONL from standard input. Without SOURCES, the sample
    corpus bundled with mttq-nlp is indexed. Indexing again adds new articles,
    replaces changed ones and skips unchanged ones.

    \b
    Examples:
        mttq-nlp index
        mttq-nlp index news/ extra.jsonl.gz --index-dir ~/mttq-index
        cat new.jsonl | mttq-nlp index -
    """
    from .corpus import bundled_corpus
    from .index import index_corpus, resolve_index_dir, retag_index

    where = resolve_index_dir(index_dir)
    if retag:
        if sources or rebuild or no_topics:
            raise click.UsageError("--retag works on the index alone with a model: give no SOURCES, no --rebuild "
                                   "and no --no-topics.")
        from .classify import load_model

        model = load_model(model_dir)
        changed = retag_index(index_dir, model=model, wait=wait, on_progress=Progress("re-tagging", quiet),
                              on_problem=lambda problem: click.echo(str(problem), err=True))
        if not quiet:
            click.echo(f"{where}: re-tagged; topics changed for {changed} article(s)", err=True)
        return
    sources = list(sources) or [str(bundled_corpus())]
    model = None if no_topics else _load_model_for_index(model_dir, quiet)
    progress = Progress("indexing", quiet)

    def report(problem):
        progress.done()
        click.echo(str(problem), err=True)

    stats = index_corpus(
        sources, index_dir, model=model, rebuild=rebuild, strict=strict, commit_every=commit_every,
        jobs=jobs, wait=wait, on_problem=report, on_progress=progress,
    )
    progress.done()
    if not quiet:
        click.echo(f"{where}: {stats.summary()}", err=True)
        if stats.indexed or stats.updated:
            _note_other_labels(where)
    if stats.interrupted:
        click.echo(f"interrupted: {stats.committed} article(s) committed after reading {stats.read}; "
                   "run the same command again to finish", err=True)
        sys.exit(130)
    if stats.read == 0:
        raise click.ClickException(f"nothing to index: {_names(sources)} held no records")
    if stats.read == stats.skipped:
        raise click.ClickException("nothing could be indexed: every record was skipped (see above)")


def _note_other_labels(index_dir) -> None:
    """Say which labels given in the data are not codes of the Front taxonomy (a typo
    such as "bau_cu" would otherwise become a topic of its own, silently)."""
    from .index import open_index
    from .topics import TOPIC_CODES

    with open_index(index_dir).reader() as reader:
        other = [t.decode() if isinstance(t, bytes) else t for t in reader.lexicon("topics")]
    other = sorted(set(other) - set(TOPIC_CODES))
    if other:
        shown = ", ".join(other[:10]) + (f" and {len(other) - 10} more" if len(other) > 10 else "")
        click.echo(f"note: labels given in the data that are not Front topic codes, kept as given: {shown} "
                   "('mttq-nlp topics' counts them)", err=True)


def _load_model_for_index(model_dir, quiet):
    """The topic model for tagging, or None (with a note) when none is available."""
    try:
        from .classify import MODEL_ENV, load_model
    except ImportError:  # the classifier is not built yet
        return None
    try:
        return load_model(model_dir)
    except MttqError as error:
        if model_dir or os.environ.get(MODEL_ENV):  # a model asked for by name must be there
            raise
        if not quiet:
            click.echo(f"note: indexing without topic tagging ({error})", err=True)
        return None


# --- search ------------------------------------------------------------------------

class QueriesFile(click.File):
    """A file of queries, one a line, decoded as corpus files are; a line that cannot
    be decoded stops the batch with its file and line."""

    def __init__(self):
        super().__init__("rb")

    def convert(self, value, param, ctx):
        from .corpus import text_lines

        handle = super().convert(value, param, ctx)
        return text_lines(handle, "<stdin>" if value == "-" else str(value))


@cli.command()
@click.argument("query", required=False)
@INDEX_DIR_OPTION
@click.option("--topic", "topics", multiple=True, help="Only articles with this topic code (repeatable).")
@click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable).")
@click.option("--since", help="Only articles dated on or after this day (YYYY-MM-DD; or a year, 2021, or month, "
              "2021-05, from its first day; 23/05/2021 works too).")
@click.option("--until", help="Only articles dated on or before this day (as --since; a year or month to its last day).")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000), help="Hits per page.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1), help="Page of hits.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True,
              help="Order of the hits. newest/oldest list the articles with every word of the query by date.")
@click.option("--facets", is_flag=True, help="Count the results by topic, source and year.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document: {query, total, hits, facets}.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="One JSON hit a line (with --queries: one result a line).")
@click.option("--queries", type=QueriesFile(),
              help="Batch mode: read one query a line from FILE ('-' for stdin).")
@friendly_errors
def search(query, index_dir, topics, sources, since, until, limit, page, sort, facets, as_json, as_jsonl, queries):
    """Search the index, accent- and tone-mark-insensitively.

    \b
    Query syntax:
        phản biện xã hội          all words rank first; a missing word is allowed
        "phản biện xã hội"        an exact phrase
        ủy ban nhân dân           a name, also found as UBND (and UBND as it)
        bầu cử AND hiệp thương    both; also OR, NOT and (parentheses)
        bầu cử NOT phản biện      NOT and title: take the next word whole
        title:covid  source:X  topic:bau-cu
    \b
    Examples:
        mttq-nlp search "phan bien"            # no diacritics needed
        mttq-nlp search MTTQ --topic an-sinh --since 2020-01-01 --facets
        mttq-nlp search "bầu cử" --sort newest     # the latest articles with both words
        mttq-nlp search --topic bau-cu            # filters alone: newest first
        mttq-nlp search --queries queries.txt --jsonl
    """
    from .search import Searcher

    if as_json and as_jsonl:
        raise click.UsageError("Use --json or --jsonl, not both.")
    if query is not None and queries is not None:
        raise click.UsageError("Give a QUERY or --queries FILE, not both.")
    if query is None and queries is None:
        if not (topics or sources or since or until):
            raise click.UsageError("Give a QUERY, a filter (--topic, --source, --since, --until) or --queries FILE.")
        query = ""
    options = dict(topics=topics, sources=sources, since=since, until=until, limit=limit, page=page, sort=sort,
                   facets=facets)
    with Searcher(index_dir) as searcher:
        if queries is not None:
            for line in queries:
                text = line.strip()
                if not text:
                    continue
                result = searcher.search(text, **options)
                if as_json or as_jsonl:
                    echo_json({"query": text, "total": result.total,
                               "hits": [hit.to_dict() for hit in result.hits]})
                else:
                    _print_human(result)
            return
        result = searcher.search(query, **options)
        if not result.total:
            for kind, value in searcher.unknown_filters(query, topics, sources):
                hint = "'mttq-nlp topics' lists the codes" if kind == "topic" else "--facets counts the sources"
                click.echo(f"note: no article in the index has the {kind} {value!r}; {hint}.", err=True)
    if as_json:
        echo_json(result.to_dict())
    elif as_jsonl:
        for hit in result.hits:
            echo_json(hit.to_dict())
    else:
        _print_human(result)


def _highlighted(snippet: str, spans) -> str:
    out, last = [], 0
    for start, end in spans:
        out.append(snippet[last:start])
        out.append(click.style(snippet[start:end], bold=True))
        last = end
    out.append(snippet[last:])
    return "".join(out)


def _print_human(result) -> None:
    first = (result.page - 1) * result.limit + 1
    if not result.hits:
        if result.total:
            click.echo(f"No results on page {result.page} ({result.total} in all).")
        elif result.sort != "relevance" and result.query.strip():
            click.echo(f"No article holds every word of {result.query!r}; without --sort, the articles"
                       " that hold some of them are listed.")
        else:
            click.echo(f"No results for {result.query!r}.")
    else:
        last = first + len(result.hits) - 1
        order = "" if result.sort == "relevance" else f", {result.sort} first"
        about = f" for {result.query!r}" if result.query.strip() else ""
        click.echo(f"{result.total} result{'s' if result.total != 1 else ''}{about}"
                   f" (showing {first}-{last}{order}):\n")
    for rank, hit in enumerate(result.hits, first):
        click.echo(f"{rank:>3}. " + click.style(hit.title or "(no title)", bold=True))
        meta = [hit.date or "undated", hit.source or "no source"]
        if hit.topics:
            meta.append("topics: " + ", ".join(hit.topics))
        meta.append(f"score {hit.score:.2f}")
        meta.append(f"id {hit.id}")
        click.echo("     " + " · ".join(meta))
        if hit.snippet:
            click.echo("     " + _highlighted(hit.snippet, hit.highlights))
        click.echo()
    if result.facets:
        for name, counts in result.facets.items():
            shown = ", ".join(f"{key} ({count})" for key, count in list(counts.items())[:12])
            click.echo(f"{name}: {shown or '-'}")


# --- show --------------------------------------------------------------------------

@cli.command()
@click.argument("ids", nargs=-1, required=True)
@INDEX_DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object an article a line (the API's fields).")
@friendly_errors
def show(ids, index_dir, as_json):
    """Print whole articles from the index by id (the ids that search shows).

    \b
    Examples:
        mttq-nlp show fn-a-001
        mttq-nlp search "phản biện" --jsonl | jq -r .id | head -3 | xargs mttq-nlp show
    """
    from .search import Searcher

    missing = []
    with Searcher(index_dir) as searcher:
        for number, article_id in enumerate(ids):
            article = searcher.article(article_id)
            if article is None:
                missing.append(article_id)
                click.echo(f"not in the index: {article_id}", err=True)
            elif as_json:
                echo_json(article)
            else:
                _print_article(article, first=number == 0)
    if missing and len(missing) == len(ids):
        raise click.ClickException("none of the given ids is in the index")


def _print_article(article: dict, first: bool) -> None:
    if not first:
        click.echo("\n" + "─" * 60 + "\n")
    click.echo(click.style(article["title"] or "(no title)", bold=True))
    meta = [article["date"] or "undated", article["source"] or "no source", f"id {article['id']}"]
    click.echo(" · ".join(meta))
    if article["url"]:
        click.echo(article["url"])
    scores = article["topic_scores"]
    if article["topics"] or scores:
        tagged = ", ".join(f"{code} {scores[code]:.2f}" if code in scores else code for code in article["topics"])
        how = "given in the data" if article["topics_given"] else "by the model"
        click.echo(f"topics ({how}): {tagged or '-'}")
    click.echo()
    click.echo(article["text"])


# --- remove ------------------------------------------------------------------------

@cli.command()
@click.argument("ids", nargs=-1, required=True)
@INDEX_DIR_OPTION
@click.option("--wait", default=0.0, type=click.FloatRange(0), metavar="SECONDS",
              help="If another process is writing the index, wait this long for it.")
@friendly_errors
def remove(ids, index_dir, wait):
    """Delete articles from the index by id.

    \b
    Example:
        mttq-nlp remove fn-a-001 fn-a-002
    """
    from .index import remove_articles

    removed, missing = remove_articles(ids, index_dir, wait=wait,
                                       on_problem=lambda problem: click.echo(str(problem), err=True))
    click.echo(f"removed {len(removed)} article{'s' if len(removed) != 1 else ''}", err=True)
    for article_id in missing:
        click.echo(f"not in the index: {article_id}", err=True)
    if missing and not removed:
        raise click.ClickException("none of the given ids is in the index")


# --- train, evaluate, classify -----------------------------------------------------

MODEL_OPTION = click.option(
    "--model", "model_dir", type=NonEmptyPath(file_okay=False), default=None,
    help="Topic model folder (default: $MTTQ_NLP_MODEL or the bundled Front model).",
)
CACHE_OPTION = click.option(
    "--cache-dir", type=NonEmptyPath(file_okay=False), default=None,
    help="Keep segmented texts here for the next run (default: ~/.cache/mttq-nlp).",
)
NO_CACHE_OPTION = click.option("--no-cache", is_flag=True, help="Neither read nor write the segmentation cache.")
CLASSIFY_BATCH = 2048
JOBS_OPTION = click.option("-j", "--jobs", type=click.IntRange(1), default=None,
                           help="Processes that segment large corpora (default: up to 2).")


def _cache_dir(cache_dir, no_cache):
    from .classify import default_cache_dir

    if no_cache:
        return None
    return cache_dir or default_cache_dir()


class _Stages:
    """Stage messages and a counter on stderr for long work; silent with --quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.progress = None

    def stage(self, message: str) -> None:
        self.done()
        if not self.quiet:
            click.echo(message, err=True)
        self.progress = Progress("  done", self.quiet)

    def count(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.label = f"  {total:,} texts:"
            self.progress(done)

    def done(self) -> None:
        if self.progress is not None:
            self.progress.done()

    def problem(self, problem) -> None:
        self.done()
        if not self.quiet:
            click.echo(str(problem), err=True)


def _train_command(sources, out_dir, options) -> str:
    """The command line that retrains this model (for the model card)."""
    import shlex

    words = ["mttq-nlp", "train", *sources, "--out", out_dir]
    for name, value in options.items():
        if value is None or value is False or value == ():
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            words.append(flag)
        elif isinstance(value, (tuple, list)):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return shlex.join(words)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def _print_metrics(metrics: dict) -> None:
    """Metrics as plain-text tables on stdout."""
    n = metrics["records"]
    click.echo(f"{metrics['task']}, {n:,} records")
    if metrics.get("accuracy") is not None:
        click.echo(f"accuracy     {_fmt(metrics['accuracy'])}")
    if metrics.get("exact_match") is not None:
        click.echo(f"exact match  {_fmt(metrics['exact_match'])}")
    for average in ("micro", "macro"):
        m = metrics[average]
        click.echo(f"{average}-average  P {_fmt(m['precision'])}  R {_fmt(m['recall'])}  F1 {_fmt(m['f1'])}")
    calibration = metrics.get("calibration") or {}
    if calibration.get("ece") is not None:
        click.echo(f"calibration  ECE {_fmt(calibration['ece'])}  Brier {_fmt(calibration['brier'])}")
    width = max([len(row["label"]) for row in metrics["per_label"]] + [5])
    click.echo()
    click.echo(f"{'label':<{width}}  precision  recall     f1  support")
    for row in metrics["per_label"]:
        click.echo(f"{row['label']:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  "
                   f"{row['f1']:.4f}  {row['support']:7,}")
    click.echo()
    if "confusion_matrix" in metrics:
        labels = metrics["confusion_matrix"]["labels"]
        matrix = metrics["confusion_matrix"]["matrix"]
        cell = max([len(f"{v:,}") for row in matrix for v in row] + [3])
        click.echo("confusion matrix (rows: true label, columns: predicted, in the order of the rows)")
        for label, row in zip(labels, matrix):
            click.echo(f"{label:<{width}}  " + " ".join(f"{v:>{cell},}" for v in row))
    else:
        click.echo("per-label confusion")
        click.echo(f"{'label':<{width}}  {'TP':>6} {'FP':>6} {'FN':>6} {'TN':>7}")
        for label, c in metrics["per_label_confusion"].items():
            click.echo(f"{label:<{width}}  {c['tp']:>6,} {c['fp']:>6,} {c['fn']:>6,} {c['tn']:>7,}")


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--out", "out_dir", required=True, type=NonEmptyPath(file_okay=False),
              help="Model folder to write (replaced atomically when complete).")
@click.option("--label-field", default="labels", show_default=True,
              help="Field with the topics: a list (multi-label) or a string (single-label).")
@click.option("--eval", "eval_sources", multiple=True, type=NonEmptyPath(allow_dash=True),
              help="Evaluate on this corpus instead of a hold-out (repeatable).")
@click.option("--eval-split", type=click.FloatRange(0, 1, max_open=True), default=0.2, show_default=True,
              help="Share of the records held out (stratified) for evaluation; 0 needs --cv or --eval.")
@click.option("--cv", type=click.IntRange(2), default=None, help="Also give K-fold cross-validated figures.")
@click.option("--rules", "rules_file", default=None, metavar="FILE",
              help="Label the (unlabelled) CORPUS with these keyword rules first, and train on those "
                   "labels; 'default' for the shipped rules.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (splits, folds, models).")
@click.option("--features", type=click.Choice(["words", "syllables", "terms"]), default=None,
              help="Tokens: segmented words, syllables, or both (default: words).")
@click.option("--ngrams", type=click.IntRange(1, 3), default=None, help="Use 1..N-grams of the tokens (default: 2).")
@click.option("--classifier", type=click.Choice(["svm", "logreg", "sgd"]), default=None,
              help="Linear model (default: svm, a calibrated LinearSVC).")
@click.option("-C", "C", type=click.FloatRange(0, min_open=True), default=None, help="Inverse regularisation strength.")
@click.option("--min-df", type=click.IntRange(1), default=None, help="Drop terms in fewer records (default: 2).")
@click.option("--max-features", type=click.IntRange(1), default=None, help="Keep at most N terms.")
@click.option("--no-unaccented", is_flag=True,
              help="No twin model for text typed without diacritics (one model to fit, not two).")
@CACHE_OPTION
@NO_CACHE_OPTION
@JOBS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the model card as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@friendly_errors
def train(sources, out_dir, label_field, eval_sources, eval_split, cv, rules_file, seed, features, ngrams, classifier,
          C, min_df, max_features, no_unaccented, cache_dir, no_cache, jobs, as_json, quiet):
    """Train a topic model on labelled corpora and save it with its model card.

    Records with a list in 'labels' give a multi-label model (an article may have
    several topics or none); a string field (--label-field label) a single-label one.
    The model is evaluated on records it was not trained on and the figures are saved
    in DIR/model.json.

    \b
    Examples:
        mttq-nlp train corpus/ --out models/front-topics --cv 5
        mttq-nlp train vntc/train.jsonl.gz --label-field label --eval vntc/test.jsonl.gz --out vntc-model
        mttq-nlp train --rules default my-unlabelled-news/ --out my-model
    """
    import tempfile

    from .classify import train as train_model

    if rules_file is not None and label_field != "labels":
        raise click.UsageError("--rules gives 'labels' lists: it cannot be used with --label-field.")

    params = {key: value for key, value in {
        "features": features, "ngram_max": ngrams, "model": classifier, "C": C,
        "min_df": min_df, "max_features": max_features}.items() if value is not None}
    if no_unaccented:
        params["unaccented_twin"] = False
    command = _train_command(sources, out_dir, {
        "label_field": label_field if label_field != "labels" else None,
        "eval": eval_sources, "eval_split": eval_split if eval_split != 0.2 and not eval_sources else None,
        "cv": cv, "rules": rules_file, "seed": seed, "features": features, "ngrams": ngrams, "classifier": classifier,
        "C": C, "min_df": min_df, "max_features": max_features, "no_unaccented": no_unaccented})
    stages = _Stages(quiet)
    with tempfile.TemporaryDirectory(prefix="mttq-rules-") as scratch:
        if rules_file is not None:
            from .rules import label_corpus

            stages.stage(f"labelling {', '.join(sources)} with the rules in {rules_file}")
            labelled = f"{scratch}/rules-labelled.jsonl"
            label_corpus(sources, labelled, None if rules_file == "default" else rules_file, on_problem=stages.problem)
            sources = (labelled,)
        result = train_model(
            list(sources), out_dir, label_field=label_field, eval_sources=list(eval_sources) or None,
            eval_split=eval_split, cv=cv, seed=seed, params=params, cache_dir=_cache_dir(cache_dir, no_cache),
            processes=jobs, on_problem=stages.problem, on_stage=stages.stage, on_progress=stages.count,
            command=command,
        )
    stages.done()
    if not quiet:
        click.echo(f"model saved to {result.path}", err=True)
    if as_json:
        echo_json(result.card)
        return
    evaluation = result.card["evaluation"]
    if evaluation["metrics"]:
        click.echo(f"Held-out evaluation ({evaluation['method']}):")
        _print_metrics(evaluation["metrics"])
    if evaluation["cross_validation"]:
        summary = evaluation["cross_validation"]
        click.echo(f"\n{summary['folds']}-fold cross-validation (mean ± std):")
        for key, value in summary.items():
            if isinstance(value, dict):
                click.echo(f"  {key:<16} {value['mean']:.4f} ± {value['std']:.4f}")
    unaccented = evaluation.get("unaccented") or {}
    held_out, folds = unaccented.get("metrics"), unaccented.get("cross_validation")
    if held_out or folds:
        click.echo("\nThe same records typed without diacritics (the unaccented twin model):")
    if held_out:
        accuracy = f"accuracy {held_out['accuracy']:.4f}, " if held_out.get("accuracy") is not None else ""
        click.echo(f"  held-out         {accuracy}micro-F1 {held_out['micro']['f1']:.4f}, "
                   f"macro-F1 {held_out['macro']['f1']:.4f}")
    if folds:
        click.echo(f"  cross-validated  micro-F1 {folds['micro_f1']['mean']:.4f}, "
                   f"macro-F1 {folds['macro_f1']['mean']:.4f}")


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(allow_dash=True))
@MODEL_OPTION
@click.option("--label-field", default=None, help="Field with the true topics (default: the model's).")
@click.option("--json", "as_json", is_flag=True, help="All the figures as one JSON document.")
@click.option("--report", "report_file", type=NonEmptyPath(dir_okay=False, writable=True), default=None,
              help="Also write a self-contained HTML report with charts.")
@CACHE_OPTION
@NO_CACHE_OPTION
@JOBS_OPTION
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@friendly_errors
def evaluate(sources, model_dir, label_field, as_json, report_file, cache_dir, no_cache, jobs, quiet):
    """Measure a topic model on a labelled corpus.

    Accuracy (single-label), micro and macro precision, recall and F1, a per-label
    table with support, and the confusion matrix (single-label) or per-label
    confusion (multi-label).

    \b
    Examples:
        mttq-nlp evaluate labelled.jsonl --model models/front-topics
        mttq-nlp evaluate vntc/test.jsonl.gz --model vntc-model --json --report vntc.html
    """
    from .classify import load_model
    from .evaluate import evaluate_model

    model = load_model(model_dir)
    stages = _Stages(quiet)
    stages.stage(f"evaluating {model}")
    metrics = evaluate_model(model, list(sources), label_field, cache_dir=_cache_dir(cache_dir, no_cache),
                             processes=jobs, on_problem=stages.problem, on_progress=stages.count)
    stages.done()
    if as_json:
        echo_json(metrics)
    else:
        _print_metrics(metrics)
    if report_file:  # after the figures, so that they are not lost if it cannot be written
        from .report import write_report

        write_report(metrics, report_file, model.card)
        if not quiet:
            click.echo(f"report written to {report_file}", err=True)


@cli.command()
@click.argument("inputs", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--text", "texts", multiple=True, help="Classify this text (repeatable).")
@MODEL_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON document: {model, articles}.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="One JSON object per article a line.")
@click.option("--top-k", type=click.IntRange(1), default=None, help="Show only the N best scores.")
@click.option("--explain", is_flag=True, help="For each decided label, the terms that weighed most toward it.")
@click.option("--explain-terms", type=click.IntRange(1), default=8, show_default=True,
              help="How many terms --explain shows per label.")
@JOBS_OPTION
@click.option("-q", "--quiet", is_flag=True, help="No problems or summary on stderr.")
@friendly_errors
def classify(inputs, texts, model_dir, as_json, as_jsonl, top_k, explain, explain_terms, jobs, quiet):
    """Tag articles with topics: decided labels and a probability per label.

    INPUT is a .txt, .jsonl, .jsonl.gz or .csv file or a folder of them, '-' for JSONL
    on standard input; or give the text itself with --text.

    \b
    Examples:
        mttq-nlp classify --text "Hội nghị hiệp thương lần thứ hai"
        mttq-nlp classify news.jsonl --jsonl --top-k 3
        mttq-nlp classify article.txt --explain --model my-model
    """
    from .classify import article_text, load_model, prepare_texts
    from .corpus import Article, Problem, read_corpus

    if as_json and as_jsonl:
        raise click.UsageError("Use --json or --jsonl, not both.")
    if not inputs and not texts:
        raise click.UsageError("Give an INPUT file or folder, '-' for stdin, or --text.")
    model = load_model(model_dir)
    stages = _Stages(quiet)

    def articles():
        for number, value in enumerate(texts, 1):
            if not value.strip():
                yield Problem(f"--text {number}", "empty text: nothing to classify")
            elif not _is_utf8(value):
                yield Problem(f"--text {number}", "not UTF-8 text: set the terminal or the script that "
                                                  "runs mttq-nlp to UTF-8")
            else:
                yield Article(id=f"text-{number}", text=value)
        if inputs:
            yield from read_corpus(inputs)

    results, read, skipped = [], 0, 0

    def flush(batch):
        prepared = prepare_texts([article_text(a) for a in batch], model.params, processes=jobs)
        for article, segmented, prediction in zip(batch, prepared, model.predict_segmented(prepared)):
            record = {"id": article.id, "labels": prediction.labels, "scores": prediction.top(top_k)}
            if article.title:
                record["title"] = article.title
            if prediction.unaccented:
                record["unaccented"] = True
            if explain:
                record["explain"] = {
                    label: [{"term": term, "weight": weight} for term, weight in terms]
                    for label, terms in model.explain_segmented(segmented, prediction.labels, explain_terms).items()
                }
            if as_jsonl:
                echo_json(record)
            elif as_json:
                results.append(record)
            else:
                _print_classified(record)

    batch = []
    for item in articles():
        if isinstance(item, Problem):
            if item.level != "warning":
                read += 1
                skipped += 1
            stages.problem(item)
            continue
        read += 1
        batch.append(item)
        if len(batch) == CLASSIFY_BATCH:  # large enough for the pool of segmenters
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    if as_json:
        echo_json({"model": str(model.path), "articles": results})
    if not quiet and inputs:
        click.echo(f"read {read:,} records: {read - skipped:,} classified, {skipped:,} skipped", err=True)
    if not read:
        raise click.ClickException(f"nothing to classify: {_names(inputs)} held no records")
    if read == skipped:
        raise click.ClickException("nothing could be classified: every record was skipped (see above)")


def _is_utf8(argument: str) -> bool:
    """Whether a command-line argument came as UTF-8 (other bytes arrive as lone surrogates)."""
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _print_classified(record) -> None:
    heading = record["id"] + (f"  {record['title']}" if record.get("title") else "")
    click.echo(click.style(heading, bold=True))
    click.echo("  labels: " + (", ".join(record["labels"]) if record["labels"] else "(none)")
               + ("  (typed without diacritics: decided by the model's unaccented twin)" if record.get("unaccented") else ""))
    click.echo("  scores: " + ", ".join(f"{label} {score:.3f}" for label, score in record["scores"].items()))
    for label, terms in record.get("explain", {}).items():
        shown = ", ".join(f"{t['term']} ({t['weight']:.3f})" for t in terms) or "(no term of the text)"
        click.echo(f"  why {label}: {shown}")
    click.echo()


# --- label -------------------------------------------------------------------------

@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--rules", "rules_file", type=NonEmptyPath(dir_okay=False), default=None,
              help="Rules file, TOML (default: the shipped rules for the 8 topics).")
@click.option("--out", default="-", show_default=True, type=NonEmptyPath(dir_okay=False, allow_dash=True),
              help="JSONL file to write ('-': standard output).")
@click.option("--eval", "evaluate", is_flag=True,
              help="Compare with the records' own 'labels': precision, recall, F1 per topic.")
@click.option("--json", "as_json", is_flag=True, help="Print the --eval figures as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
@friendly_errors
def label(sources, rules_file, out, evaluate, as_json, quiet):
    """Give articles provisional topics from keyword and phrase rules.

    Each record is written with its fields, 'labels' (the rules' topics; labels the
    input had are kept as 'given_labels') and 'rule_hits' (per topic: score and terms
    found). Matching ignores case, accents and tone-mark placement. Train a model on
    the output: mttq-nlp train labelled.jsonl --out my-model.

    \b
    Examples:
        mttq-nlp label news/ --out labelled.jsonl
        mttq-nlp label news/ --rules my-rules.toml --out labelled.jsonl
        mttq-nlp label corpus/ --out /dev/null --eval     # how good are the rules?
    """
    from .rules import format_report, label_corpus

    def report(problem):
        if not quiet:
            click.echo(str(problem), err=True)

    stats, figures = label_corpus(list(sources), out, rules_file, evaluate=evaluate, on_problem=report)
    if not quiet:
        counts = ", ".join(f"{code} {n}" for code, n in sorted(stats.per_topic.items())) or "-"
        click.echo(f"{stats.summary()}\ntopics: {counts}", err=True)
    if not stats.read:
        raise click.ClickException(f"nothing to label: {_names(sources)} held no records")
    if evaluate:
        stream_is_data = out == "-"  # the records are on stdout: the figures go to stderr
        if figures is None:
            raise click.ClickException("--eval: no record has gold 'labels' to compare the rules with.")
        if as_json:
            click.echo(json.dumps(figures, ensure_ascii=False), err=stream_is_data)
        else:
            click.echo(format_report(figures), err=stream_is_data)
    if stats.read and stats.read == stats.skipped:
        raise click.ClickException("nothing could be labelled: every record was skipped (see above)")


# --- topics ------------------------------------------------------------------------

@cli.command()
@INDEX_DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON document: {articles, without_topic, topics}.")
@friendly_errors
def topics(index_dir, as_json):
    """List the topic codes with their names and article counts in the index.

    'given' counts articles whose data had the topic, 'predicted' those tagged by
    the model.

    \b
    Examples:
        mttq-nlp topics
        mttq-nlp topics --index-dir ~/mttq-index --json
    """
    from .topics import count_topics

    summary = count_topics(index_dir)
    if as_json:
        echo_json(summary.to_dict())
        return
    width = max(len(t.code) for t in summary.topics)
    name_width = max(len(t.name) for t in summary.topics)
    click.echo(f"{'code':<{width}}  {'name':<{name_width}}  {'articles':>8}  {'given':>6}  {'predicted':>9}")
    for t in summary.topics:
        click.echo(f"{t.code:<{width}}  {t.name:<{name_width}}  {t.count:>8,}  {t.given:>6,}  {t.predicted:>9,}")
    click.echo(f"{summary.articles:,} articles in the index, {summary.without_topic:,} with no topic")


# --- serve -------------------------------------------------------------------------

@cli.command()
@INDEX_DIR_OPTION
@click.option("--model", "model_dir", type=NonEmptyPath(file_okay=False), default=None,
              help="Topic model folder for the classify page (default: the bundled Front model).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 opens the server to the network.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@friendly_errors
def serve(index_dir, model_dir, host, port):
    """Serve the search page, the classify page and the JSON API in a browser.

    Read-only: nothing is written to the index or the model. Needs the web extra:
    pip install 'mttq-nlp[web]'.

    \b
    Examples:
        mttq-nlp serve                      # then open http://127.0.0.1:8000/
        mttq-nlp serve --index-dir ~/mttq-index --port 8080
    """
    try:
        from .server import serve as run_server
    except ImportError as error:
        raise click.ClickException(f"The web server needs FastAPI and uvicorn ({error}). "
                                   "Install them: pip install 'mttq-nlp[web]'") from error
    run_server(index_dir, model_dir, host=host, port=port, echo=lambda line: click.echo(line, err=True))
