"""The Whoosh index: schema, Vietnamese analyzer, incremental indexing and removal.

Titles and bodies are indexed from their segmented form (see ``text.segmented``):
each syllable at its own position, each multi-syllable word at the position of its
first syllable, and, where it differs, the folded (diacritic-free) form of each at
the same position. One field thus serves exact, accent-insensitive and phrase
matching, and the query side (``search.py``) weighs exact forms above folded ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from whoosh import index as whoosh_index
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.index import LockError

from . import text as vi
from .corpus import Article, Problem, read_corpus
from .errors import IndexLockedError, IndexMissingError, MttqError

__all__ = [
    "DEFAULT_INDEX_DIR",
    "IndexStats",
    "index_corpus",
    "open_index",
    "remove_articles",
    "resolve_index_dir",
    "schema",
]

DEFAULT_INDEX_DIR = "mttq-index"
INDEX_DIR_VARIABLE = "MTTQ_NLP_INDEX"
SCHEMA_VERSION = 1


class SegmentedTokenizer(Tokenizer):
    """Whoosh tokenizer for segmented text: syllables, words, and their folded forms."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, term in vi.terms(value):
            folded = vi.fold(term)
            for form in (term, folded) if folded != term else (term,):
                token.text = form
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = form
                if positions:
                    token.pos = start_pos + pos
                if chars:  # offsets are not kept: snippets are made from the stored text
                    token.startchar = token.endchar = start_char
                yield token


def schema() -> Schema:
    analyzer = SegmentedTokenizer()
    return Schema(
        id=ID(stored=True, unique=True),
        # id + content hash: tells unchanged articles from changed ones without
        # loading stored fields
        version=ID(),
        title=TEXT(analyzer=analyzer, phrase=True),
        body=TEXT(analyzer=analyzer, phrase=True),
        title_text=STORED,  # normalised title and text, for display and snippets
        text=STORED,
        segmented=STORED,  # for re-tagging without re-reading the sources
        date=DATETIME(stored=True),
        year=ID(stored=False),
        source=ID(stored=True),
        source_key=ID(),  # folded, lower-case: for accent-insensitive source filters
        url=STORED,
        topics=KEYWORD(stored=True, commas=True, scorable=False),
        topic_scores=STORED,
        topics_given=BOOLEAN(stored=True),
    )


def resolve_index_dir(index_dir: str | os.PathLike | None) -> Path:
    """The index folder: as given, else $MTTQ_NLP_INDEX, else ./mttq-index."""
    return Path(index_dir or os.environ.get(INDEX_DIR_VARIABLE) or DEFAULT_INDEX_DIR)


def open_index(index_dir: str | os.PathLike | None = None):
    """Open an existing index, or raise ``IndexMissingError`` saying how to build one."""
    path = resolve_index_dir(index_dir)
    if not path.is_dir() or not whoosh_index.exists_in(str(path)):
        raise IndexMissingError(f"No index at {path}. Run 'mttq-nlp index' first (or pass --index-dir).")
    try:
        return whoosh_index.open_dir(str(path))
    except Exception as error:  # Whoosh raises many kinds on a damaged index
        raise IndexMissingError(
            f"The index at {path} cannot be opened ({type(error).__name__}: {error}). "
            "Rebuild it with 'mttq-nlp index --rebuild'."
        ) from error


def source_key(source: str) -> str:
    return vi.fold(vi.normalize(source)).lower().strip()


@dataclass
class IndexStats:
    """What an indexing run did. ``read == indexed + updated + unchanged + skipped``."""

    read: int = 0
    indexed: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    warnings: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"read {self.read} = indexed {self.indexed} + updated {self.updated} "
            f"+ unchanged {self.unchanged} + skipped {self.skipped}"
        )
        if self.warnings:
            text += f" ({self.warnings} warning{'s' if self.warnings != 1 else ''})"
        return text


def document(article: Article, segmented_title: str, segmented_body: str,
             topics: list[str], scores: dict[str, float] | None, given: bool) -> dict:
    """The Whoosh document for an article."""
    import datetime as dt

    doc = dict(
        id=article.id,
        version=f"{article.id}\x00{article.content_hash()}",
        title=segmented_title,
        body=segmented_body,
        title_text=vi.normalize(article.title),
        text=vi.normalize(article.text),
        segmented=segmented_title + "\n" + segmented_body,
        source=article.source,
        source_key=source_key(article.source),
        url=article.url,
        topics=",".join(topics),
        topic_scores=json.dumps(scores or {}),
        topics_given=given,
    )
    if article.date:
        date = dt.date.fromisoformat(article.date)
        doc["date"] = dt.datetime(date.year, date.month, date.day)
        doc["year"] = str(date.year)
    return doc


def index_corpus(
    sources: Iterable[str],
    index_dir: str | os.PathLike | None = None,
    *,
    model=None,
    rebuild: bool = False,
    strict: bool = False,
    batch_size: int = 256,
    on_problem: Callable[[Problem], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IndexStats:
    """Index the articles of ``sources`` into ``index_dir``, incrementally.

    New articles are added, changed ones (same id, other content) replaced, unchanged
    ones skipped. ``model`` (a ``classify.TopicModel``) tags each article's topics;
    labels given in the data are kept as they are. Problems go to ``on_problem``
    as they are found; with ``strict`` the first one stops the run before anything
    is written.
    """
    path = resolve_index_dir(index_dir)
    stats = IndexStats()
    ix = _open_or_create(path, rebuild)
    try:
        writer = ix.writer(limitmb=128)
    except LockError:
        raise IndexLockedError(
            f"The index at {path} is being updated by another process; try again when it is done."
        ) from None
    try:
        reader = writer.reader()
        known_ids = {term.decode("utf-8") for term in reader.lexicon("id")}
        known_versions = {term.decode("utf-8") for term in reader.lexicon("version")}
        seen: dict[str, str] = {}
        batch: list[Article] = []

        def report(problem: Problem) -> None:
            if problem.level == "warning":
                stats.warnings += 1
            else:
                stats.skipped += 1
                if strict:
                    raise MttqError(f"{problem} (--strict: nothing was written)")
            stats.problems.append(problem)
            if on_problem:
                on_problem(problem)

        for item in read_corpus(sources):
            if isinstance(item, Problem):
                if item.level == "error":
                    stats.read += 1
                report(item)
                continue
            stats.read += 1
            if item.id in seen:
                report(Problem(item.location, f"duplicate id {item.id!r} (first at {seen[item.id]}); skipped"))
                continue
            seen[item.id] = item.location
            if f"{item.id}\x00{item.content_hash()}" in known_versions:
                stats.unchanged += 1
            else:
                batch.append(item)
                if len(batch) >= batch_size:
                    _write_batch(writer, batch, known_ids, model, stats)
                    batch = []
            if on_progress:
                on_progress(stats.read)
        if batch:
            _write_batch(writer, batch, known_ids, model, stats)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    return stats


def _open_or_create(path: Path, rebuild: bool):
    try:
        if rebuild or not whoosh_index.exists_in(str(path)):
            path.mkdir(parents=True, exist_ok=True)
            return whoosh_index.create_in(str(path), schema())
        return whoosh_index.open_dir(str(path))
    except OSError as error:
        raise MttqError(f"Cannot write the index at {path}: {error.strerror or error}.") from error


def _write_batch(writer, batch: list[Article], known_ids: set[str], model, stats: IndexStats) -> None:
    segmented = [(vi.segmented(a.title), vi.segmented(a.text)) for a in batch]
    predictions = model.predict_segmented([t + "\n" + b for t, b in segmented]) if model else None
    for i, (article, (title, body)) in enumerate(zip(batch, segmented)):
        prediction = predictions[i] if predictions else None
        given = article.labels is not None
        topics = article.labels if given else (prediction.labels if prediction else [])
        scores = prediction.scores if prediction else None
        doc = document(article, title, body, topics, scores, given)
        if article.id in known_ids:
            writer.update_document(**doc)
            stats.updated += 1
        else:
            writer.add_document(**doc)
            stats.indexed += 1


def remove_articles(ids: Iterable[str], index_dir: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """Delete articles by id. Returns (removed, not found)."""
    ix = open_index(index_dir)
    try:
        writer = ix.writer()
    except LockError:
        raise IndexLockedError("The index is being updated by another process; try again when it is done.") from None
    removed, missing = [], []
    try:
        for article_id in ids:
            if writer.delete_by_term("id", article_id):
                removed.append(article_id)
            else:
                missing.append(article_id)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    return removed, missing
