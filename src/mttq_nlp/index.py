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
import pickle
import shutil
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from whoosh import formats
from whoosh import index as whoosh_index
from whoosh.analysis import Token, Tokenizer
from whoosh.filedb.filestore import FileStorage
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.system import pack_uint
from whoosh.writing import PostingPool, SegmentWriter

from . import postings
from . import text as vi
from .corpus import Article, Problem, read_corpus
from .errors import IndexLockedError, IndexMissingError, MttqError
from .locking import IndexLock

__all__ = [
    "DEFAULT_INDEX_DIR",
    "IndexStats",
    "index_corpus",
    "open_index",
    "remove_articles",
    "retag_index",
    "resolve_index_dir",
    "schema",
]

DEFAULT_INDEX_DIR = "mttq-index"
INDEX_DIR_VARIABLE = "MTTQ_NLP_INDEX"
# Each commit writes a segment (with worker processes, each worker's segment holds this
# many). Larger segments mean fewer for Whoosh to merge later (merging rewrote three
# quarters of a 50,000-article index once more) and for a search to look in; a killed
# run loses at most about this many articles' work a worker.
DEFAULT_COMMIT_EVERY = 5000
WRITER_MEMORY_MB = 1024  # Whoosh's sorting buffer: at 128 MB it spilled to disk each commit


_FOLDED: dict[str, str] = {}  # term -> folded term: a few thousand terms make most of a corpus


class SegmentedTokenizer(Tokenizer):
    """Whoosh tokenizer for segmented text: syllables, words, and their folded forms."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        folds = _FOLDED
        for pos, term in vi.terms(value):
            folded = folds.get(term)
            if folded is None:
                if len(folds) > 500_000:
                    folds.clear()
                folded = folds[term] = vi.fold(term)
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


class SegmentedText(TEXT):
    """A TEXT field of segmented text whose postings are made in one pass over the
    words: the terms, positions, frequencies and encoded positions that
    ``SegmentedTokenizer`` through Whoosh's ``Positions`` format gives, without a
    Token per term (``tests/test_index.py`` compares the two)."""

    def index(self, value, **kwargs):
        if (not isinstance(value, str) or type(self.format) is not formats.Positions
                or not isinstance(self.analyzer, SegmentedTokenizer)):
            yield from super().index(value, **kwargs)
            return
        positions: dict[bytes, list[int]] = {}
        words = _WORD_TERMS
        pos = 0
        for word in value.lower().split():
            entry = words.get(word)
            if entry is None:
                if len(words) > 500_000:
                    words.clear()
                entry = words[word] = _word_terms(word)
            offsets, width = entry
            for offset, term in offsets:
                found = positions.get(term)
                if found is None:
                    positions[term] = [pos + offset]
                else:
                    found.append(pos + offset)
            pos += width
        boost = self.format.field_boost
        dumps = pickle.dumps
        for term, found in positions.items():
            count = len(found)
            if count == 1:
                deltas = found
            else:  # Positions.encode: the gaps between positions
                deltas = [found[0]] + [b - a for a, b in zip(found, found[1:])]
            yield term, count, float(count) * boost, pack_uint(count) + dumps(deltas, 2)


_WORD_TERMS: dict[str, tuple] = {}  # lower-case word -> _word_terms(word)


def _word_terms(word: str) -> tuple[list[tuple[int, bytes]], int]:
    """A segmented word's index terms as (offset, UTF-8 term), each followed by its
    folded form where that differs, in ``SegmentedTokenizer``'s order; and how many
    positions the word takes. (The same bytes objects serve every posting of a term,
    which also keeps the writer's buffer of postings smaller.)"""
    offsets = []
    for offset, term in vi.terms(word):
        offsets.append((offset, term.encode("utf-8")))
        folded = vi.fold(term)
        if folded != term:
            offsets.append((offset, folded.encode("utf-8")))
    return offsets, sum(1 for part in word.split("_") if part)


def schema() -> Schema:
    analyzer = SegmentedTokenizer()
    return Schema(
        id=ID(stored=True, unique=True),
        # id + content hash: tells unchanged articles from changed ones without
        # loading stored fields
        version=ID(stored=True),
        title=SegmentedText(analyzer=analyzer, phrase=True),
        body=SegmentedText(analyzer=analyzer, phrase=True),
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
    path = Path(index_dir or os.environ.get(INDEX_DIR_VARIABLE) or DEFAULT_INDEX_DIR)
    if path.exists() and not path.is_dir():
        named = "" if index_dir else f" (from ${INDEX_DIR_VARIABLE})" if os.environ.get(INDEX_DIR_VARIABLE) else ""
        raise IndexMissingError(f"{path}{named} is a file, not an index folder: name a folder instead"
                                f"{' (or unset the variable to use ./mttq-index)' if named else ''}.")
    return path


def storage(path: str | os.PathLike) -> FileStorage:
    """The index folder as Whoosh storage, without mmap: with it, Whoosh copies every
    file of every segment into memory on opening (a BytesIO over the map), 1.7 GB and
    0.7 s for 50,000 articles, and again for each writer."""
    return FileStorage(str(path), supports_mmap=False)


def open_index(index_dir: str | os.PathLike | None = None):
    """Open an existing index, or raise ``IndexMissingError`` saying how to build one."""
    path = resolve_index_dir(index_dir)
    if not path.is_dir() or not whoosh_index.exists_in(str(path)):
        raise IndexMissingError(f"No index at {path}. Run 'mttq-nlp index' first (or pass --index-dir).")
    try:
        ix = storage(path).open_index()
    except Exception as error:  # Whoosh raises many kinds on a damaged index
        raise IndexMissingError(
            f"The index at {path} cannot be opened ({type(error).__name__}: {error}). "
            "Rebuild it with 'mttq-nlp index --rebuild'."
        ) from error
    return _checked(ix, path)


def _checked(ix, path: Path):
    """``ix``, unless it lacks fields of this version's schema (made by another version)."""
    missing = sorted(set(schema().names()) - set(ix.schema.names()))
    if missing:
        raise IndexMissingError(
            f"The index at {path} was made by another version of mttq-nlp (it has no {', '.join(missing)} "
            f"field{'s' if len(missing) > 1 else ''}): rebuild it with 'mttq-nlp index --rebuild SOURCES', "
            "SOURCES being your corpus."
        )
    return ix


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
    committed: int = 0  # articles written and committed
    interrupted: bool = False
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
             topics: list[str], scores: dict[str, float] | None, given: bool,
             normalized: tuple[str, str] | None = None) -> dict:
    """The Whoosh document for an article (``normalized``: its title and text already
    normalised, if they are at hand)."""
    import datetime as dt

    doc = dict(
        id=article.id,
        version=f"{article.id}\x00{article.content_hash()}",
        title=segmented_title,
        body=segmented_body,
        title_text=normalized[0] if normalized else vi.normalize(article.title),
        text=normalized[1] if normalized else vi.normalize(article.text),
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
    commit_every: int = DEFAULT_COMMIT_EVERY,
    jobs: int | None = None,
    wait: float = 0,
    on_problem: Callable[[Problem], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IndexStats:
    """Index the articles of ``sources`` into ``index_dir``, incrementally.

    New articles are added, changed ones (same id, other content) replaced, unchanged
    ones skipped. ``model`` (a ``classify.TopicModel``) tags each article's topics;
    labels given in the data are kept as they are. Problems go to ``on_problem``
    as they are found; with ``strict`` the first one stops the run and nothing is
    committed.

    With ``jobs`` > 1 (default: one per core), ``jobs`` worker processes segment,
    classify and write segments of their own (``index_workers.py``), each committed
    once it holds ``commit_every`` articles; with one job, all of it happens here and
    a commit follows every ``commit_every`` articles. Either way a killed run keeps
    what it committed, the next run finishes the job, and the index holds the same
    articles. Ctrl-C stops after the batches in hand, commits, and returns with
    ``stats.interrupted`` set. ``rebuild`` builds a new index beside the old one and
    swaps it in at the end.
    """
    path = resolve_index_dir(index_dir)
    stats = IndexStats()
    jobs = max(1, jobs or os.cpu_count() or 1)
    batch_size = max(1, min(batch_size, commit_every))  # commits no rarer than asked
    with IndexLock(path, wait=wait), _StopOnInterrupt() as interrupt:
        _refuse_other_files(path)
        target = _beside(path, ".rebuild") if rebuild else path
        if rebuild and target.exists():
            _refuse_other_files(target)
            shutil.rmtree(target)  # left by a killed rebuild
        ix = _open_or_create(target)
        known_ids, known_versions = _known(ix)
        if jobs > 1:
            from .index_workers import WritingWorkers

            writer = WritingWorkers(ix, target, jobs, model, segment_size=commit_every, commit=not strict,
                                    known_ids=known_ids, stats=stats)
        else:
            writer = _InProcessWriter(ix, target, model, commit_every, commit=not strict,
                                      known_ids=known_ids, stats=stats)
        try:
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
                        writer.add(batch)
                        batch = []
                if on_progress:
                    on_progress(stats.read)
                if interrupt.requested:
                    stats.interrupted = True
                    break
            if batch:
                writer.add(batch)
            writer.finish()
        except BaseException:
            writer.cancel()
            raise
        problem = decode_postings(ix, target, should_stop=lambda: interrupt.requested, jobs=jobs)
        if problem:
            stats.warnings += 1
            stats.problems.append(problem)
            if on_problem:
                on_problem(problem)
        if rebuild:
            _swap(target, path)
    return stats


def _known(ix) -> tuple[set[str], set[str]]:
    """The ids and the versions (id + content hash) of the articles in ``ix``."""
    reader = ix.reader()
    try:
        return ({term.decode("utf-8") for term in reader.lexicon("id")},
                {term.decode("utf-8") for term in reader.lexicon("version")})
    finally:
        reader.close()


def count_batch(articles: list[Article], known_ids: set[str], stats: IndexStats) -> None:
    """Count a batch about to be written as indexed (new ids) or updated (known ones)."""
    updated = sum(article.id in known_ids for article in articles)
    stats.updated += updated
    stats.indexed += len(articles) - updated


class _InProcessWriter:
    """Indexing in this process (one job): segment, classify and write each batch here,
    committing every ``commit_every`` articles (or only at the end, with ``commit``
    false)."""

    def __init__(self, ix, path: Path, model, commit_every: int, *, commit: bool,
                 known_ids: set[str], stats: IndexStats):
        self.model, self.commit_every = model, commit_every
        self.known_ids, self.stats = known_ids, stats
        self.writer = _Writer(ix, path, commit=commit)

    def add(self, articles: list[Article]) -> None:
        segmented = segment_batch([(a.title, a.text) for a in articles], self.model)
        count_batch(articles, self.known_ids, self.stats)
        for article, doc in zip(articles, documents(articles, segmented)):
            self.writer.add(doc, article.id in self.known_ids)
        if self.writer.pending >= self.commit_every:
            self.writer.commit()
            self.stats.committed = self.stats.indexed + self.stats.updated

    def finish(self) -> None:
        self.writer.commit(final=True)
        self.stats.committed = self.stats.indexed + self.stats.updated

    def cancel(self) -> None:
        self.writer.cancel()


def decode_postings(ix, path: Path, should_stop=lambda: False, jobs: int = 1) -> Problem | None:
    """Write the decoded posting arrays of new segments (``postings.py``), which make
    searches fast. A failure loses nothing (searches read Whoosh's own postings), so
    it is returned as a warning, not raised."""
    try:
        postings.update(path, ix, should_stop, jobs=jobs)
    except OSError as error:
        return Problem(str(path / postings.DIRNAME), (
            f"the index is committed, but its decoded postings could not be written "
            f"({error.strerror or error}), so searches will be slower; fix the cause "
            "(disk space, permissions) and run `mttq-nlp index` again to finish"), level="warning")
    return None


def _open_or_create(path: Path):
    try:
        if not whoosh_index.exists_in(str(path)):
            path.mkdir(parents=True, exist_ok=True)
            return storage(path).create_index(schema())
        ix = storage(path).open_index()
    except OSError as error:
        raise MttqError(f"Cannot write the index at {path}: {error.strerror or error}.") from error
    return _checked(ix, path)


def _refuse_other_files(path: Path) -> None:
    """Refuse a folder that holds something other than an index: the index would be
    mixed with its files, and a rebuild would delete them."""
    if path.is_dir() and not whoosh_index.exists_in(str(path)) and any(path.iterdir()):
        raise MttqError(f"{path} is a folder with other files in it, not an index: mttq-nlp does not write "
                        "an index there or replace it, so as not to delete them. Give --index-dir a new or "
                        "empty folder, or move that one away.")


def _beside(path: Path, suffix: str) -> Path:
    """The folder named like ``path`` plus ``suffix``, beside it (also for "." and "..")."""
    path = Path(os.path.abspath(path))
    return path.with_name(path.name + suffix)


def _swap(new: Path, old: Path) -> None:
    """Put a rebuilt index in place of the old one."""
    old = Path(os.path.abspath(old))
    retired = _beside(old, ".old")
    if retired.exists():
        _refuse_other_files(retired)
        shutil.rmtree(retired)
    if old.exists():
        old.rename(retired)
    new.rename(old)
    if retired.exists():
        shutil.rmtree(retired)


class FastSegmentWriter(SegmentWriter):
    """Whoosh's ``SegmentWriter``, except that writing the postings at commit reads
    each field's lengths once, not once a posting (a column read through the compound
    file each time: a quarter of the commit). With a ``postings.Recorder`` as
    ``recorder``, the postings it writes are recorded too."""

    recorder = None

    def __init__(self, ix, limitmb: int = 128, **kwargs):
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool = _PostingPool(self._tempstorage, self.newsegment, limitmb=limitmb)

    def _flush_segment(self):
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        self.lengths = _LengthsOnce(reader, self.docnum) if reader else None
        items = self.pool.iter_postings()
        if self.recorder is not None:
            items = self.recorder.record(items)
        self.fieldwriter.add_postings(self.schema, self.lengths, items)
        self.fieldwriter.close()
        if reader:
            reader.close()


class _PostingPool(PostingPool):
    """Whoosh's buffer of postings, adding one without the type checks (the fields
    give bytes) and with the same size estimate in one expression."""

    def add(self, item):
        fieldname = item[0]
        self.fieldnames.add(fieldname)
        self.currentsize += 150 + len(fieldname) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)


class _LengthsOnce:
    """``doc_field_length`` of a per-document reader, each field read whole on first use."""

    def __init__(self, reader, doc_count: int):
        self.reader, self.doc_count = reader, doc_count
        self.fields: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        return self.of(fieldname)[docnum] or default

    def of(self, fieldname: str) -> list[int]:
        """The field's length in each document (0 where it has none)."""
        lengths = self.fields.get(fieldname)
        if lengths is None:
            # (Whoosh's reader gives None, not the default, for a length of 0)
            lengths = self.fields[fieldname] = [self.reader.doc_field_length(d, fieldname, 0) or 0
                                                for d in range(self.doc_count)]
        return lengths


class _Writer:
    """A Whoosh writer that commits in batches and turns I/O errors into clear ones."""

    def __init__(self, ix, path: Path, commit: bool = True):
        self.ix, self.path, self.commit_batches = ix, path, commit
        self.pending = 0
        self.writer = self._open()

    def _open(self):
        try:
            return FastSegmentWriter(self.ix, limitmb=WRITER_MEMORY_MB)
        except LockError:
            raise IndexLockedError(f"The index at {self.path} is locked by another writer; try again later.") from None
        except OSError as error:
            raise self._io_error(error) from error

    def _io_error(self, error: OSError) -> MttqError:
        return MttqError(
            f"Cannot write the index at {self.path}: {error.strerror or error}. "
            "The index still holds what was last committed; fix the cause (disk space, "
            "permissions) and run the same command again to finish."
        )

    def add(self, doc: dict, update: bool) -> None:
        try:
            (self.writer.update_document if update else self.writer.add_document)(**doc)
        except OSError as error:
            raise self._io_error(error) from error
        self.pending += 1

    def commit(self, final: bool = False) -> None:
        if not (self.commit_batches or final):
            return
        try:
            self.writer.commit()
        except OSError as error:
            self.writer = None
            raise self._io_error(error) from error
        self.pending = 0
        self.writer = None if final else self._open()

    def cancel(self) -> None:
        if self.writer is not None:
            try:
                self.writer.cancel()
            except Exception:  # the writer is being abandoned anyway
                pass
            self.writer = None


def segment_batch(pairs: list[tuple[str, str]], model=None) -> list[tuple]:
    """Segment (and, with a model, classify) the titles and texts of a batch: for each
    article (segmented title, segmented text, normalised title, normalised text,
    prediction or None)."""
    # (normalised title, segmented title, normalised text, segmented text) per article
    done = [vi.normalized_and_segmented(title) + vi.normalized_and_segmented(body) for title, body in pairs]
    predictions = (model.predict_segmented([d[1] + "\n" + d[3] for d in done])
                   if model is not None and done else [None] * len(done))
    return [(d[1], d[3], d[0], d[2], prediction) for d, prediction in zip(done, predictions)]


class _StopOnInterrupt:
    """Turns Ctrl-C into a request to stop after the current batch (main thread only)."""

    def __enter__(self):
        self.requested = False
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def documents(articles: list[Article], segmented: list[tuple]) -> Iterable[dict]:
    """The Whoosh documents of a batch, from ``segment_batch``'s results."""
    for article, (title, body, title_text, body_text, prediction) in zip(articles, segmented):
        given = article.labels is not None
        topics = article.labels if given else (prediction.labels if prediction else [])
        scores = prediction.scores if prediction else None
        yield document(article, title, body, topics, scores, given, (title_text, body_text))


def retag_index(
    index_dir: str | os.PathLike | None = None,
    *,
    model,
    batch_size: int = 256,
    wait: float = 0,
    on_progress: Callable[[int], None] | None = None,
    on_problem: Callable[[Problem], None] | None = None,
) -> int:
    """Re-apply ``model`` to every article of an index, from the stored segmented text,
    without re-reading the sources. Labels given in the data stay; their scores are
    updated. Returns the number of articles whose topics changed."""
    path = resolve_index_dir(index_dir)
    ix = open_index(path)
    changed = 0
    with IndexLock(path, wait=wait):
        writer = _Writer(ix, path, commit=False)
        try:
            with ix.searcher() as searcher:
                stored = [fields for _, fields in searcher.reader().iter_docs()]
            for start in range(0, len(stored), batch_size):
                chunk = stored[start:start + batch_size]
                predictions = model.predict_segmented([f.get("segmented", "") for f in chunk])
                for fields, prediction in zip(chunk, predictions):
                    doc = _document_from_stored(fields)
                    if not fields.get("topics_given"):
                        new_topics = ",".join(prediction.labels)
                        changed += new_topics != fields.get("topics", "")
                        doc["topics"] = new_topics
                    doc["topic_scores"] = json.dumps(prediction.scores)
                    writer.add(doc, update=True)
                if on_progress:
                    on_progress(start + len(chunk))
            writer.commit(final=True)
        except BaseException:
            writer.cancel()
            raise
        problem = decode_postings(ix, path)
        if problem and on_problem:
            on_problem(problem)
    return changed


def _document_from_stored(fields: dict) -> dict:
    """A whole Whoosh document again, from an article's stored fields."""
    title, _, body = fields.get("segmented", "").partition("\n")
    doc = {name: fields[name] for name in
           ("id", "version", "title_text", "text", "segmented", "source", "url", "topics", "topic_scores", "topics_given")
           if name in fields}
    doc.update(title=title, body=body, source_key=source_key(fields.get("source", "")))
    if fields.get("date"):
        doc["date"] = fields["date"]
        doc["year"] = str(fields["date"].year)
    return doc


def remove_articles(
    ids: Iterable[str], index_dir: str | os.PathLike | None = None, *, wait: float = 0,
    on_problem: Callable[[Problem], None] | None = None,
) -> tuple[list[str], list[str]]:
    """Delete articles by id. Returns (removed, not found)."""
    path = resolve_index_dir(index_dir)
    ix = open_index(path)
    removed, missing = [], []
    with IndexLock(path, wait=wait):
        writer = _Writer(ix, path)
        try:
            for article_id in ids:
                if writer.writer.delete_by_term("id", article_id):
                    removed.append(article_id)
                else:
                    missing.append(article_id)
            writer.commit(final=True)
        except BaseException:
            writer.cancel()
            raise
        problem = decode_postings(ix, path)
        if problem and on_problem:
            on_problem(problem)
    return removed, missing
