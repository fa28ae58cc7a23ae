"""Indexing on every core: worker processes that segment, classify and write Whoosh
segments of their own, which the indexing process commits.

Each worker holds a ``SegmentWriter`` over a folder of its own,
``<index>/incoming/<worker>/`` (an empty index with the index's schema). When told
to, it finishes its segment (Whoosh's ``_finalize_segment``, as Whoosh's
``MpWriter(multisegment=True)`` does), decodes the segment's postings for searches
(``postings.py``) and hands the ``Segment`` back. The indexing process, which holds
the locks, moves the segment's file into the index and commits a table of contents
that names it, together with the deletion of the older versions of the articles it
replaces. Only articles go to the workers and only small messages come back.

Crash safety is Whoosh's own: a segment is part of the index once a table of
contents names it, and a table of contents is written beside the old one and renamed
into place. A segment file moved into the index but not committed (the indexing
process killed in between) is deleted by the next commit, like any file no table of
contents names; the incoming folders of a killed run are deleted when the next run
starts. Workers die with the indexing process.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import queue
import shutil
import signal
import traceback
from pathlib import Path

from whoosh.index import LockError

from . import postings
from .corpus import Article
from .errors import IndexLockedError, MttqError
from .index import WRITER_MEMORY_MB, FastSegmentWriter, count_batch, documents, segment_batch, storage

INCOMING = "incoming"  # the workers' folders, inside the index folder
AHEAD = 4  # batches queued per worker, so that none waits for the next one


@dataclasses.dataclass
class _Worker:
    number: int
    process: multiprocessing.Process
    tasks: multiprocessing.Queue
    limit: int  # articles in the current segment before it is finished
    queued: int = 0  # batches and finishing orders sent and not done yet
    in_segment: int = 0  # articles sent into the current segment
    updates: list = dataclasses.field(default_factory=list)  # ids it replaces
    finishing: list = dataclasses.field(default_factory=list)  # (updates, articles) per segment ordered


@dataclasses.dataclass
class _Finished:
    worker: _Worker
    segment: object  # a whoosh.codec.base.Segment
    files: list[str]
    updates: list[str]
    articles: int


class WritingWorkers:
    """``jobs`` worker processes that write the batches given to ``add`` into segments
    of about ``segment_size`` articles each; each finished segment is committed at
    once (all of them at the end when ``commit`` is false). Counts go to ``stats``
    (an ``index.IndexStats``): indexed or updated as batches are handed over,
    committed as segments are."""

    def __init__(self, ix, path: Path, jobs: int, model, *, segment_size: int, commit: bool,
                 known_ids: set[str], stats):
        self.ix, self.path = ix, Path(path)
        self.segment_size, self.commit_each = segment_size, commit
        self.known_ids, self.stats = known_ids, stats
        self.incoming = self.path / INCOMING
        self.uncommitted: list[_Finished] = []
        shutil.rmtree(self.incoming, ignore_errors=True)  # a killed run's
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        self.results = context.Queue()
        self.workers: list[_Worker] = []
        for number in range(jobs):
            tasks = context.Queue()
            process = context.Process(
                target=_work, name=f"mttq-nlp-index-{number}", daemon=True,
                args=(number, str(self.path), str(self.incoming / str(number)), ix.schema, model, tasks,
                      self.results, os.getpid()))
            process.start()
            # the first segments are of staggered sizes, so that commits alternate
            self.workers.append(_Worker(number, process, tasks, limit=segment_size * (number + 1) // jobs))

    def add(self, articles: list[Article]) -> None:
        count_batch(articles, self.known_ids, self.stats)
        worker = min(self.workers, key=lambda w: w.queued)
        worker.tasks.put(("batch", [dataclasses.replace(a, fields={}) for a in articles]))
        worker.queued += 1
        worker.in_segment += len(articles)
        worker.updates += [a.id for a in articles if a.id in self.known_ids]
        if self.commit_each and worker.in_segment >= worker.limit:
            self._finish_segment(worker)
        while sum(w.queued for w in self.workers) > AHEAD * len(self.workers):
            self._receive()

    def finish(self) -> None:
        """Finish and commit every segment, and stop the workers."""
        for worker in self.workers:
            if worker.in_segment:
                self._finish_segment(worker)
            worker.tasks.put(None)
        while any(w.queued for w in self.workers):
            self._receive()
        if self.uncommitted:
            self._commit(self.uncommitted)
            self.uncommitted = []
        for worker in self.workers:
            worker.process.join()
        shutil.rmtree(self.incoming, ignore_errors=True)

    def cancel(self) -> None:
        """Stop the workers, commit nothing more."""
        for worker in self.workers:
            worker.tasks.cancel_join_thread()
            if worker.process.is_alive():
                worker.process.kill()
            worker.process.join()
        self.results.cancel_join_thread()
        shutil.rmtree(self.incoming, ignore_errors=True)

    def _finish_segment(self, worker: _Worker) -> None:
        worker.tasks.put(("finish",))
        worker.queued += 1
        worker.finishing.append((worker.updates, worker.in_segment))
        worker.updates, worker.in_segment, worker.limit = [], 0, self.segment_size

    def _receive(self) -> None:
        """Take one message from the workers (or notice that one has died)."""
        try:
            kind, number, *rest = self.results.get(timeout=1)
        except queue.Empty:
            for worker in self.workers:
                if not worker.process.is_alive() and worker.queued:
                    raise MttqError(f"An indexing worker process stopped unexpectedly (exit code "
                                    f"{worker.process.exitcode}). The index still holds what was last "
                                    "committed; run the same command again to finish.") from None
            return
        worker = self.workers[number]
        worker.queued -= 1
        if kind == "error":
            error_kind, message = rest
            if error_kind == "os":
                raise _io_error(self.path, message)
            raise RuntimeError(f"an indexing worker failed:\n{message}")
        if kind == "segment":
            segment, files = rest
            updates, articles = worker.finishing.pop(0)
            if segment is None:
                return
            finished = _Finished(worker, segment, files, updates, articles)
            if self.commit_each:
                self._commit([finished])
            else:
                self.uncommitted.append(finished)

    def _commit(self, finished: list[_Finished]) -> None:
        """One commit: the older versions of the articles replaced deleted, the
        finished segments added (and small ones merged, as Whoosh's ``MERGE_SMALL``
        decides)."""
        try:
            writer = FastSegmentWriter(self.ix, limitmb=WRITER_MEMORY_MB)
        except LockError:
            raise IndexLockedError(f"The index at {self.path} is locked by another writer; try again later.") from None
        except OSError as error:
            raise _io_error(self.path, error.strerror or str(error)) from error
        try:
            for item in finished:
                for article_id in item.updates:
                    writer.delete_by_term("id", article_id)
            segments = writer._merge_segments(None, None, None)
            if writer._added:  # small segments merged into this writer's
                segments.append(writer._finalize_segment())
            else:
                writer._close_segment()
            for item in finished:
                folder = self.incoming / str(item.worker.number)
                for name in item.files:
                    os.replace(folder / name, self.path / name)
                segments.append(item.segment)
            writer._commit_toc(segments)
            writer._finish()
        except OSError as error:
            _abandon(writer)
            raise _io_error(self.path, error.strerror or str(error)) from error
        except BaseException:
            _abandon(writer)
            raise
        self.stats.committed += sum(item.articles for item in finished)


def _abandon(writer) -> None:
    if not writer.is_closed:
        try:
            writer.cancel()
        except Exception:  # the writer is being abandoned anyway
            pass


def _io_error(path: Path, reason: str) -> MttqError:
    return MttqError(
        f"Cannot write the index at {path}: {reason}. "
        "The index still holds what was last committed; fix the cause (disk space, "
        "permissions) and run the same command again to finish."
    )


# --- in a worker process -------------------------------------------------------------------

def _work(number: int, index_dir: str, folder: str, schema, model, tasks, results, parent: int) -> None:
    """A worker's loop: ``("batch", articles)`` adds the articles to the segment being
    written; ``("finish",)`` finishes it and sends it back; None ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the indexing process decides when to stop
    _die_with(parent)
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        own = storage(folder)
        ix = own.create_index(schema)
        writer = leads = None
        while (task := _next(tasks, parent)) is not None:
            if task[0] == "batch":
                articles = task[1]
                segmented = segment_batch([(a.title, a.text) for a in articles], model)
                if writer is None:
                    writer = FastSegmentWriter(ix, _lk=False, limitmb=WRITER_MEMORY_MB)
                    writer.recorder, leads = postings.Recorder(), []
                for doc in documents(articles, segmented):
                    writer.add_document(**doc)
                    leads.append(postings.lead_bytes(doc["title_text"], doc["text"]))
                results.put(("batch", number))
            elif writer is None:  # nothing to finish
                results.put(("segment", number, None, []))
            else:
                segment = writer._finalize_segment()
                _save_postings(writer, leads, Path(index_dir) / postings.DIRNAME / segment.segment_id())
                writer = leads = None
                results.put(("segment", number, segment, segment.list_files(own)))
    except OSError as error:
        results.put(("error", number, "os", error.strerror or str(error)))
    except BaseException:
        results.put(("error", number, "other", traceback.format_exc()))


def _next(tasks, parent: int):
    """The next task; None when told to end or when the indexing process is gone."""
    while True:
        try:
            return tasks.get(timeout=1)
        except queue.Empty:
            if os.getppid() != parent:
                return None


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when the indexing process dies (Linux);
    elsewhere ``_next`` notices within a second."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # died before that
        os._exit(1)


def _save_postings(writer, leads: list[bytes], folder: Path) -> None:
    """Save a finished segment's decoded postings (``postings.py``) from what its writer
    recorded, on this core and without reading the segment back; if that fails,
    ``postings.update`` decodes the segment after the last commit."""
    import numpy as np

    names = [f for f in postings.FIELDS if f in writer.schema.names()]
    lengths = {f: np.asarray(writer.lengths.of(f), dtype=np.float32) for f in names} if writer.lengths else None
    try:
        if lengths is not None:
            postings.save_segment(folder, writer.recorder.tables(lengths), leads)
    except OSError:
        pass
