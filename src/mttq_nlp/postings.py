"""Decoded posting lists of the title and body fields, kept beside the Whoosh index.

Whoosh stores postings in blocks of 128, each a pickled, zlib-compressed tuple with
the positions of every posting. Reading a list means unpickling every block, and on
50,000 articles that was 80% of a query's time. So after each indexing run, every
segment of the index gets its postings decoded once into plain NumPy arrays, in
``<index>/postings/<segment id>/``, which searches map into memory.

Whoosh segments never change once written (deletions are kept apart, and the searcher
masks deleted documents), so a segment's arrays stay valid until the segment is merged
away; they are then deleted. A segment without arrays (a run killed before they were
written, an index from an older version) is read through Whoosh as before: the
arrays only make reading faster, never different.

Beside them, per document, the field lengths (which Whoosh gives one call a document)
and what the ranking's adjacency check reads (the folded title and lead,
``ranking.folded_lead``), which otherwise means unpickling the stored article.

Per segment and field, terms are looked up by a 64-bit hash of their UTF-8 bytes
(``keys``, sorted); the term's own bytes are compared too, so a hash collision never
returns another term's postings.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

DIRNAME = "postings"
FORMAT = "mttq-nlp-postings/1"
FIELDS = ("title", "body")
_ARRAYS = ("keys", "starts", "ids", "tfs", "terms", "term_starts")


def term_key(term: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(term, digest_size=8).digest(), "little")


def segment_id(leaf) -> str | None:
    """The id of the segment a leaf reader reads (None for an empty index's reader)."""
    segment = leaf.segment()
    return segment.segment_id() if segment is not None else None


# --- reading -----------------------------------------------------------------------------

class SegmentPostings:
    """The decoded postings of one segment, mapped from disk."""

    def __init__(self, folder: Path, tables: dict[str, dict[str, np.ndarray]], leads: dict[str, np.ndarray] | None):
        self.folder = folder
        self.tables = tables
        self.leads = leads

    @classmethod
    def open(cls, folder: Path, doc_count: int) -> SegmentPostings | None:
        """The segment's arrays, or None when they are missing, of another format or
        do not fit the segment (then Whoosh is read instead)."""
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or meta.get("doc_count") != doc_count:
                return None
            tables = {}
            for field in meta["fields"]:
                table = {name: np.load(folder / f"{field}.{name}.npy", mmap_mode="r") for name in _ARRAYS}
                count = len(table["keys"])
                if (len(table["starts"]) != count + 1 or len(table["term_starts"]) != count + 1
                        or int(table["starts"][-1]) != len(table["ids"]) or len(table["ids"]) != len(table["tfs"])
                        or int(table["term_starts"][-1]) != len(table["terms"])):
                    return None
                table["lengths"] = np.load(folder / f"{field}.lengths.npy", mmap_mode="r")
                if len(table["lengths"]) != doc_count:
                    return None
                tables[field] = table
            leads = {name: np.load(folder / f"leads.{name}.npy", mmap_mode="r") for name in ("text", "starts")}
            if len(leads["starts"]) != doc_count + 1 or int(leads["starts"][-1]) != len(leads["text"]):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(folder, tables, leads)

    def lengths(self, field: str) -> np.ndarray | None:
        """The length of ``field`` in each document of the segment, or None."""
        table = self.tables.get(field)
        return table["lengths"] if table is not None else None

    def lead(self, docnum: int) -> tuple[str, str] | None:
        """``ranking.folded_lead`` of a document of the segment, or None."""
        if self.leads is None:
            return None
        starts = self.leads["starts"]
        title, _, lead = self.leads["text"][starts[docnum]:starts[docnum + 1]].tobytes().decode("utf-8").partition("\n")
        return title, lead

    def lookup(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(local document numbers, term frequencies) of ``term`` in ``field``; empty
        arrays for a term the segment does not have; None for a field not decoded."""
        table = self.tables.get(field)
        if table is None:
            return None
        raw = term.encode("utf-8")
        keys = table["keys"]
        key = np.uint64(term_key(raw))
        i = int(np.searchsorted(keys, key))
        term_starts = table["term_starts"]
        while i < len(keys) and keys[i] == key:  # equal keys: compare the terms themselves
            if table["terms"][term_starts[i]:term_starts[i + 1]].tobytes() == raw:
                start, end = int(table["starts"][i]), int(table["starts"][i + 1])
                return table["ids"][start:end], table["tfs"][start:end]
            i += 1
        return _EMPTY


_EMPTY = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


def open_all(index_dir: str | os.PathLike, leaves) -> list[SegmentPostings | None]:
    """Per leaf reader (as ``reader.leaf_readers()`` gives them), its arrays or None."""
    root = Path(index_dir) / DIRNAME
    return [SegmentPostings.open(root / segment_id(leaf), leaf.doc_count_all()) if segment_id(leaf) else None
            for leaf, _ in leaves]


def read_matcher(matcher) -> tuple[np.ndarray, np.ndarray]:
    """All (ids, weights) of a leaf posting matcher, a block at a time when the
    matcher is Whoosh's W3 leaf matcher, else one posting at a time."""
    ids_parts, tf_parts = [], []
    if all(hasattr(matcher, a) for a in ("_read_ids", "_read_weights", "_next_block", "_ids")):
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            ids_parts.append(np.asarray(matcher._ids, dtype=np.int64)[matcher._i:])
            tf_parts.append(np.asarray(matcher._weights, dtype=np.float32)[matcher._i:])
            matcher._next_block()
    else:  # any other matcher: the public, slower way
        ids, tfs = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            tfs.append(matcher.weight())
            matcher.next()
        ids_parts.append(np.asarray(ids, dtype=np.int64))
        tf_parts.append(np.asarray(tfs, dtype=np.float32))
    if not ids_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return np.concatenate(ids_parts), np.concatenate(tf_parts)


# --- writing -----------------------------------------------------------------------------

def update(index_dir: str | os.PathLike, ix, should_stop=lambda: False, jobs: int = 1) -> int:
    """Decode the postings of every segment of ``ix`` that has no arrays yet (in
    ``jobs`` processes), and delete the arrays of segments merged away. Returns how many
    segments were decoded. Run by the indexing commands after their last commit, under
    the index lock."""
    root = Path(index_dir) / DIRNAME
    reader = ix.reader()
    try:
        leaves = [(leaf, offset) for leaf, offset in reader.leaf_readers() if segment_id(leaf)]
        current = {segment_id(leaf) for leaf, _ in leaves}
        if root.exists():
            for entry in root.iterdir():
                if entry.name not in current:
                    shutil.rmtree(entry, ignore_errors=True)
        todo = [leaf for leaf, _ in leaves if SegmentPostings.open(root / segment_id(leaf), leaf.doc_count_all()) is None]
        if jobs > 1 and len(todo) > 1:
            return _update_in_processes(index_dir, [segment_id(leaf) for leaf in todo], should_stop, jobs)
        built = 0
        for leaf in todo:
            if should_stop():
                break
            write_segment(leaf, root / segment_id(leaf))
            built += 1
        return built
    finally:
        reader.close()


def _update_in_processes(index_dir, segment_ids: list[str], should_stop, jobs: int) -> int:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    built = 0
    # spawned, not forked: a fork of the writing process would start with its memory
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(jobs, len(segment_ids)), mp_context=spawn, initializer=_ignore_interrupt) as pool:
        futures = [pool.submit(_write_segment_of, str(index_dir), segment) for segment in segment_ids]
        for future in futures:
            if should_stop():
                for rest in futures:
                    rest.cancel()
                break
            future.result()
            built += 1
    return built


def _ignore_interrupt() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop


def _write_segment_of(index_dir: str, segment: str) -> None:
    """``write_segment`` for one segment, by id, in a worker process."""
    from .index import storage  # (index imports this module)

    ix = storage(index_dir).open_index()
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            if segment_id(leaf) == segment:
                write_segment(leaf, Path(index_dir) / DIRNAME / segment)


def write_segment(leaf, folder: Path) -> None:
    """Decode every posting list of ``FIELDS`` in one segment into ``folder``."""
    from .ranking import field_lengths  # (ranking imports this module)

    tables = {}
    terms_reader = leaf._terms
    for field in (f for f in FIELDS if f in leaf.schema.names()):
        field_format = leaf.schema[field].format
        raw_terms, id_parts, tf_parts = [], [], []
        for (name, term), info in terms_reader.items_from(field, b""):
            if name != field:
                break
            matcher = terms_reader._codec.postings_reader(terms_reader._postfile, info, field_format)
            ids, tfs = read_matcher(matcher)
            raw_terms.append(term)
            id_parts.append(ids.astype(np.int32))
            tf_parts.append(tfs)
        tables[field] = (raw_terms, id_parts, tf_parts, field_lengths(leaf, field))
    leads = []
    for docnum in range(leaf.doc_count_all()):
        stored = leaf.stored_fields(docnum)
        leads.append(lead_bytes(stored.get("title_text", ""), stored.get("text", "")))
    save_segment(folder, tables, leads)


def lead_bytes(title: str, text: str) -> bytes:
    """A document's ``ranking.folded_lead``, as kept in the ``leads`` arrays."""
    from .ranking import folded_lead

    return "\n".join(folded_lead(title, text)).encode("utf-8")


class Recorder:
    """Records the postings of ``FIELDS`` as a segment's writer writes them (Whoosh's
    sorted stream of (field, term, document, weight, value)), so that a new segment's
    arrays are made without reading the segment back: see ``arrays``."""

    def __init__(self):
        # per field: terms, and the flat document numbers and weights with each term's start
        self.fields = {field: ([], [], [], []) for field in FIELDS}

    def record(self, items):
        """``items``, unchanged, recording those of ``FIELDS`` as they pass."""
        fields = self.fields
        last_field = last_term = None
        terms = ids = weights = starts = None
        for item in items:
            field, term, docnum, weight, _ = item
            if field != last_field:
                last_field, last_term = field, None
                terms, ids, weights, starts = fields.get(field, (None,) * 4)
            if terms is not None:
                if term != last_term:
                    terms.append(term)
                    starts.append(len(ids))
                    last_term = term
                ids.append(docnum)
                weights.append(weight)
            yield item

    def tables(self, lengths: dict[str, np.ndarray]) -> dict:
        """``save_segment``'s tables: per field (terms, document numbers and weights
        per term, field lengths), for the fields in ``lengths``."""
        tables = {}
        for field, (terms, ids, weights, starts) in self.fields.items():
            if field not in lengths:
                continue
            bounds = starts[1:]
            tables[field] = (terms, np.split(np.asarray(ids, dtype=np.int32), bounds),
                             np.split(np.asarray(weights, dtype=np.float32), bounds), lengths[field])
        return tables


def save_segment(folder: Path, tables: dict, leads: list[bytes]) -> None:
    """Write a segment's arrays into ``folder``, beside it first and renamed into place,
    so a reader never sees half of them. ``tables``: per field, (terms, document numbers
    per term, weights per term, field length per document), terms in any order;
    ``leads``: ``lead_bytes`` per document."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for field, (raw_terms, id_parts, tf_parts, lengths) in tables.items():
        keys = np.fromiter((term_key(t) for t in raw_terms), dtype=np.uint64, count=len(raw_terms))
        order = sorted(range(len(raw_terms)), key=lambda i: (int(keys[i]), raw_terms[i]))
        counts = np.fromiter((len(id_parts[i]) for i in order), dtype=np.int64, count=len(order))
        term_lengths = np.fromiter((len(raw_terms[i]) for i in order), dtype=np.int64, count=len(order))
        tfs = np.concatenate([tf_parts[i] for i in order]) if order else np.zeros(0, dtype=np.float32)
        if len(tfs) and np.all(tfs == np.round(tfs)) and tfs.min() >= 0 and tfs.max() < 65536:
            tfs = tfs.astype(np.uint16)  # counts: half the space of float32
        arrays = {
            "keys": keys[order] if order else np.zeros(0, dtype=np.uint64),
            "starts": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            "ids": np.concatenate([id_parts[i] for i in order]) if order else np.zeros(0, dtype=np.int32),
            "tfs": tfs,
            "terms": np.frombuffer(b"".join(raw_terms[i] for i in order), dtype=np.uint8),
            "term_starts": np.concatenate([[0], np.cumsum(term_lengths)]).astype(np.int64),
            "lengths": lengths,
        }
        for name, array in arrays.items():
            np.save(partial / f"{field}.{name}.npy", array)
    np.save(partial / "leads.text.npy", np.frombuffer(b"".join(leads), dtype=np.uint8))
    np.save(partial / "leads.starts.npy",
            np.concatenate([[0], np.cumsum([len(lead) for lead in leads], dtype=np.int64)]).astype(np.int64))
    meta = {"format": FORMAT, "segment": folder.name, "doc_count": len(leads), "fields": list(tables)}
    (partial / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
