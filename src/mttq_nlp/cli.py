"""The ``mttq-nlp`` command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the result:
data on stdout, progress and problems on stderr. ``MttqError`` becomes a clear
message and exit code 1; bad usage exits 2.
"""

from __future__ import annotations

import functools
import json
import sys
import time

import click

from .errors import MttqError

__all__ = ["cli"]

INDEX_DIR_OPTION = click.option(
    "--index-dir",
    type=click.Path(file_okay=False),
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
@click.option("--model", "model_dir", type=click.Path(file_okay=False), default=None,
              help="Topic model folder (default: the bundled Front model).")
@click.option("--rebuild", is_flag=True, help="Start from an empty index.")
@click.option("--strict", is_flag=True, help="Stop at the first record that cannot be read.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary on stderr.")
@friendly_errors
def index(sources, index_dir, model_dir, rebuild, strict, quiet):
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
    from .index import index_corpus, resolve_index_dir

    sources = list(sources) or [str(bundled_corpus())]
    model = _load_model_for_index(model_dir, quiet)
    progress = Progress("indexing", quiet)

    def report(problem):
        progress.done()
        click.echo(str(problem), err=True)

    stats = index_corpus(
        sources, index_dir, model=model, rebuild=rebuild, strict=strict,
        on_problem=report, on_progress=progress,
    )
    progress.done()
    if not quiet:
        click.echo(f"{resolve_index_dir(index_dir)}: {stats.summary()}", err=True)
    if stats.read == stats.skipped:
        raise click.ClickException("nothing could be indexed: every record was skipped (see above)")


def _load_model_for_index(model_dir, quiet):
    """The topic model for tagging, or None (with a note) when none is available."""
    try:
        from .classify import load_model
    except ImportError:  # the classifier is not built yet
        return None
    try:
        return load_model(model_dir)
    except MttqError as error:
        if model_dir:
            raise
        if not quiet:
            click.echo(f"note: indexing without topic tagging ({error})", err=True)
        return None


# --- search ------------------------------------------------------------------------

@cli.command()
@click.argument("query", required=False)
@INDEX_DIR_OPTION
@click.option("--topic", "topics", multiple=True, help="Only articles with this topic code (repeatable).")
@click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable).")
@click.option("--since", help="Only articles dated on or after this day (YYYY-MM-DD).")
@click.option("--until", help="Only articles dated on or before this day (YYYY-MM-DD).")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000), help="Hits per page.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1), help="Page of hits.")
@click.option("--facets", is_flag=True, help="Count the results by topic, source and year.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document: {query, total, hits, facets}.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="One JSON hit a line (with --queries: one result a line).")
@click.option("--queries", type=click.File("r", encoding="utf-8-sig"),
              help="Batch mode: read one query a line from FILE ('-' for stdin).")
@friendly_errors
def search(query, index_dir, topics, sources, since, until, limit, page, facets, as_json, as_jsonl, queries):
    """Search the index, accent- and tone-mark-insensitively.

    \b
    Query syntax:
        phản biện xã hội          all words rank first; a missing word is allowed
        "phản biện xã hội"        an exact phrase
        bầu cử AND hiệp thương    both; also OR, NOT and (parentheses)
        title:covid  source:X  topic:bau-cu
    \b
    Examples:
        mttq-nlp search "phan bien"            # no diacritics needed
        mttq-nlp search MTTQ --topic an-sinh --since 2020-01-01 --facets
        mttq-nlp search --queries queries.txt --jsonl
    """
    from .search import Searcher

    if as_json and as_jsonl:
        raise click.UsageError("Use --json or --jsonl, not both.")
    if (query is None) == (queries is None):
        raise click.UsageError("Give a QUERY or --queries FILE (one of them).")
    options = dict(topics=topics, sources=sources, since=since, until=until, limit=limit, page=page, facets=facets)
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
        click.echo(f"No results for {result.query!r}." if result.total == 0 else
                   f"No results on page {result.page} ({result.total} in all).")
    else:
        last = first + len(result.hits) - 1
        click.echo(f"{result.total} result{'s' if result.total != 1 else ''} for {result.query!r}"
                   f" (showing {first}-{last}):\n")
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


# --- remove ------------------------------------------------------------------------

@cli.command()
@click.argument("ids", nargs=-1, required=True)
@INDEX_DIR_OPTION
@friendly_errors
def remove(ids, index_dir):
    """Delete articles from the index by id.

    \b
    Example:
        mttq-nlp remove fn-a-001 fn-a-002
    """
    from .index import remove_articles

    removed, missing = remove_articles(ids, index_dir)
    click.echo(f"removed {len(removed)} article{'s' if len(removed) != 1 else ''}", err=True)
    for article_id in missing:
        click.echo(f"not in the index: {article_id}", err=True)
    if missing and not removed:
        raise click.ClickException("none of the given ids is in the index")
