"""The decoded posting arrays beside the index: the same postings as Whoosh's, kept in
step with the segments, and never a different search result."""

import shutil
import threading

import numpy as np
import pytest
from whoosh import index as whoosh_index

from mttq_nlp import postings, ranking
from mttq_nlp.index import index_corpus, remove_articles
from mttq_nlp.search import Searcher

from conftest import ARTICLES, write_jsonl

QUERIES = ["phản biện", "hoa giai", "THUỶ LỢI", "ubnd xa", "hội đồng nhân dân", "mặt trận tổ quốc",
           '"ban công tác"', "bàn ghế -bạn", "covid", "đại hội đảng", "sức khỏe người cao tuổi"]


def _results(index_dir):
    with Searcher(index_dir) as searcher:
        return [[(h.id, h.score, h.snippet) for h in searcher.search(q, limit=20).hits] for q in QUERIES]


def _segments(index_dir):
    with whoosh_index.open_dir(str(index_dir)).reader() as reader:
        return [postings.segment_id(leaf) for leaf, _ in reader.leaf_readers()]


@pytest.fixture
def two_runs(tmp_path):
    """An index written by two runs (so possibly two segments), then one article removed."""
    first = write_jsonl(tmp_path / "first.jsonl", ARTICLES[:6])
    second = write_jsonl(tmp_path / "second.jsonl", ARTICLES[6:])
    index_dir = tmp_path / "index"
    index_corpus([str(first)], index_dir)
    index_corpus([str(second)], index_dir)
    remove_articles(["caps"], index_dir)
    assert len(_segments(index_dir)) == 2
    return index_dir


def test_every_posting_list_equals_whoosh(two_runs):
    ix = whoosh_index.open_dir(str(two_runs))
    with ix.searcher() as searcher:
        fast, plain = ranking.Collection(searcher, two_runs), ranking.Collection(searcher)
        assert all(a is not None for a in fast._decoded())
        checked = 0
        for field in postings.FIELDS:
            for term in searcher.reader().lexicon(field):
                term = term.decode("utf-8")
                ids, tfs = plain._read(field, term)
                got_ids, got_tfs = fast._read(field, term)
                assert np.array_equal(ids, got_ids) and np.array_equal(tfs, got_tfs), term
                checked += 1
        assert checked > 300
        assert len(fast._read("body", "không_có_từ_này")[0]) == 0
        assert searcher.reader().has_deletions()  # what was removed is not in the arrays' answers


def test_search_is_the_same_without_the_arrays(two_runs, tmp_path):
    with_arrays = _results(two_runs)
    assert any(with_arrays)
    plain = tmp_path / "plain"
    shutil.copytree(two_runs, plain)
    shutil.rmtree(plain / postings.DIRNAME)
    assert _results(plain) == with_arrays
    assert "caps" not in {hit for hits in with_arrays for hit, *_ in hits}  # removed stays removed


def test_arrays_follow_the_segments(two_runs, tmp_path):
    ix = whoosh_index.open_dir(str(two_runs))
    ix.optimize()  # merges every segment into a new one
    postings.update(two_runs, ix)
    kept = sorted(p.name for p in (two_runs / postings.DIRNAME).iterdir())
    assert kept == sorted(_segments(two_runs)) and len(kept) == 1


def test_damaged_arrays_are_ignored_and_rewritten(two_runs, corpus_file):
    expected = _results(two_runs)
    folder = two_runs / postings.DIRNAME / _segments(two_runs)[0]
    (folder / "body.ids.npy").write_bytes(b"\x93NUMPY truncated")
    assert _results(two_runs) == expected  # read through Whoosh instead
    index_corpus([str(corpus_file)], two_runs)  # any indexing run repairs them
    ids = np.load(folder / "body.ids.npy")
    assert len(ids) > 0
    assert _results(two_runs) == expected


def test_hash_collisions_return_the_right_term(tmp_path, corpus_file, monkeypatch):
    monkeypatch.setattr(postings, "term_key", lambda term: 7)  # every term collides
    index_dir = tmp_path / "index"
    index_corpus([str(corpus_file)], index_dir, jobs=1)
    with whoosh_index.open_dir(str(index_dir)).reader() as reader:
        leaf, _ = next(iter(reader.leaf_readers()))
        decoded = postings.open_all(index_dir, [(leaf, 0)])[0]
        for term in list(leaf.lexicon("title"))[:50]:
            ids, _ = postings.read_matcher(leaf.postings("title", term))
            assert np.array_equal(decoded.lookup("title", term.decode("utf-8"))[0], ids)
        assert len(decoded.lookup("title", "vắng_mặt")[0]) == 0


def test_a_failed_write_is_a_warning_and_the_index_still_searches(tmp_path, corpus_file, monkeypatch):
    def full_disk(leaf, folder):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(postings, "write_segment", full_disk)
    index_dir = tmp_path / "index"
    problems = []
    stats = index_corpus([str(corpus_file)], index_dir, on_problem=problems.append, jobs=1)
    assert stats.indexed == len(ARTICLES) and stats.warnings == 1
    assert "No space left on device" in str(problems[0]) and "searches will be slower" in str(problems[0])
    with Searcher(index_dir) as searcher:
        assert searcher.search("phản biện").hits[0].id == "pb-1"


def test_threads_sharing_a_searcher_get_serial_answers(two_runs):
    """The index files are read with seek and read: the searcher must serialise."""
    expected = _results(two_runs)
    answers, errors = {}, []
    with Searcher(two_runs) as searcher:
        def ask(i):
            try:
                for _ in range(10):
                    query = QUERIES[i % len(QUERIES)]
                    hits = searcher.search(query, limit=20).hits
                    answers.setdefault(i, []).append([(h.id, h.score, h.snippet) for h in hits])
                    searcher.article("pb-1")
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(QUERIES) * 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    for i, runs in answers.items():
        assert runs == [expected[i % len(QUERIES)]] * 10


def test_refresh_sees_a_rebuilt_index(two_runs, corpus_file):
    with Searcher(two_runs) as searcher:
        assert searcher.search("thuỷ lợi").total > 0
        only = write_jsonl(two_runs.parent / "only.jsonl", ARTICLES[:1])
        index_corpus([str(only)], two_runs, rebuild=True)  # a new folder swapped in
        assert not searcher.up_to_date()
        searcher.refresh()
        assert searcher.search("thuỷ lợi").total == 0
        assert searcher.search("phản biện").hits[0].id == "pb-1"


def test_an_interrupted_run_leaves_the_rest_to_the_next(two_runs):
    shutil.rmtree(two_runs / postings.DIRNAME)
    ix = whoosh_index.open_dir(str(two_runs))
    assert postings.update(two_runs, ix, should_stop=lambda: True) == 0  # Ctrl-C: none written
    assert not (two_runs / postings.DIRNAME).exists() or not any((two_runs / postings.DIRNAME).iterdir())
    expected = _results(two_runs)  # read through Whoosh
    assert postings.update(two_runs, ix, jobs=2) == 2  # one process a segment
    assert postings.update(two_runs, ix) == 0  # nothing left to do
    assert _results(two_runs) == expected


def test_arrays_recorded_by_the_workers_are_those_decoded_from_the_segment(tmp_path, monkeypatch):
    """Worker processes save a new segment's arrays from the postings they wrote; reading
    the segment back gives the same arrays, byte for byte."""
    many = [dict(a, id=f"{a['id']}-{i}", text=a["text"] + f" Số {i}.") for i in range(6) for a in ARTICLES]
    many += [{"id": "title-only", "title": "Phản biện xã hội", "text": ""}]  # a length of 0
    index_dir = tmp_path / "index"
    monkeypatch.setattr(postings, "write_segment", None)  # not needed: the workers saved them all
    index_corpus([str(write_jsonl(tmp_path / "a.jsonl", many))], index_dir, jobs=2, batch_size=10,
                 commit_every=1000)
    monkeypatch.undo()
    with whoosh_index.open_dir(str(index_dir)).reader() as reader:
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        assert len(leaves) == 2  # one a worker
        for leaf in leaves:
            recorded = index_dir / postings.DIRNAME / postings.segment_id(leaf)
            decoded = tmp_path / "decoded" / postings.segment_id(leaf)
            postings.write_segment(leaf, decoded)
            names = sorted(p.name for p in recorded.iterdir())
            assert names == sorted(p.name for p in decoded.iterdir()) and len(names) > 10
            for name in names:
                if name.endswith(".npy"):
                    a, b = np.load(recorded / name), np.load(decoded / name)
                    assert a.dtype == b.dtype and np.array_equal(a, b), name
                else:
                    assert (recorded / name).read_bytes() == (decoded / name).read_bytes()
