"""The fast paths give what the plain ones give: segmentation, parallel indexing with a
model, and batch classification (issue 5)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from mttq_nlp import text as vi
from mttq_nlp.classify import article_text, train
from mttq_nlp.cli import cli
from mttq_nlp.corpus import Article
from mttq_nlp.index import index_corpus, open_index

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# tokens where Python and underthesea_core's Rust could disagree on case and digits
ODD_TOKENS = ["Hà", "HÀ", "hà", "COVID-19", "1A", "iPhone", "H'Mông", "ThS.", "(", "123", "-1", "+5",
              "2147483647", "2147483648", "²", "½", "١٢", "ǅa", "ß", "İ", "ΑΣ", "Đ", "_", "1.000"]


def sample_records(n):
    records = []
    for path in sorted(CORPUS.glob("front-news-*.jsonl")):
        records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return records[:n]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speed")
    source = write_jsonl(folder / "train.jsonl", sample_records(85)[::2])
    return train([str(source)], folder / "model", seed=0, eval_split=0.2).model


def fast_path_or_skip():
    """The fast tokenizer, or a skip where underthesea's model has other CRF features
    (then ``text`` uses underthesea's own ``word_tokenize``, as intended)."""
    from importlib import metadata

    try:
        vi._FastWordTokenizer()
    except (ValueError, ImportError) as error:  # what _segmenter() falls back on
        pytest.skip(f"underthesea {metadata.version('underthesea')}: {error}; the fast path is off")
    segmenter = vi._segmenter()
    assert isinstance(segmenter, vi._FastWordTokenizer)
    return segmenter


def test_fast_segmenter_gives_underthesea_words():
    from underthesea import word_tokenize

    segmenter = fast_path_or_skip()
    lines = [line for record in sample_records(50) for line in vi.normalize(record["title"] + "\n" + record["text"]).split("\n")
             if line.strip()]
    lines += [" ".join(ODD_TOKENS), "MẶT TRẬN TỔ QUỐC VIỆT NAM", "x", "ð Ð"]
    assert len(lines) > 150
    for line in lines:
        assert segmenter(line) == word_tokenize(line), line


def test_fast_features_are_underthesea_core_features():
    import underthesea.pipeline.word_tokenize as wt

    wt.word_tokenize("khởi động")
    featurizer = wt.word_tokenize_model.featurizer
    segmenter = fast_path_or_skip()
    for tokens in (ODD_TOKENS, ["Một"], ["Một", "hai"], ["Hà", "Nội", "và", "TP", "HCM"]):
        assert segmenter.features(tokens) == featurizer.process([[[t] for t in tokens]])[0]


def stored(path):
    with open_index(path).searcher() as searcher:
        return sorted(
            (doc["id"], doc["version"], doc["segmented"], doc["topics"], doc["topic_scores"], doc["title_text"],
             doc["text"])
            for doc in searcher.all_stored_fields()
        )


def test_parallel_and_single_process_give_the_same_index_and_labels(tmp_path, tiny_model):
    records = [dict(r, id=f"{r['id']}-x", labels=None) for r in sample_records(24)]
    records = [{k: v for k, v in r.items() if v is not None} for r in records]
    source = write_jsonl(tmp_path / "a.jsonl", records)
    index_corpus([source], tmp_path / "one", model=tiny_model, jobs=1, batch_size=8)
    index_corpus([source], tmp_path / "two", model=tiny_model, jobs=2, batch_size=8)
    one, two = stored(tmp_path / "one"), stored(tmp_path / "two")
    assert one == two
    # and the labels are the model's, article by article
    by_id = {doc[0]: doc for doc in one}
    for record in records:
        segmented = by_id[record["id"]][2]
        assert by_id[record["id"]][3] == ",".join(tiny_model.predict_segmented([segmented])[0].labels)


def test_batch_classify_gives_the_per_article_labels(tmp_path, tiny_model):
    # more articles than the pool threshold, so the CLI segments in worker processes
    base = sample_records(60)
    records = [dict(base[i % len(base)], id=f"c{i}", text=base[i % len(base)]["text"][:100] + f" Số {i}.")
               for i in range(410)]
    source = write_jsonl(tmp_path / "c.jsonl", records)
    result = CliRunner().invoke(cli, ["classify", str(source), "--jsonl", "--model", str(tiny_model.path), "-q",
                                      "--jobs", "2"], catch_exceptions=False)
    assert result.exit_code == 0
    batch = [json.loads(line)["labels"] for line in result.stdout.splitlines()]
    one_by_one = [tiny_model.predict_segmented([vi.segmented(article_text(Article(id=r["id"], title=r["title"],
                                                                                  text=r["text"])))])[0].labels
                  for r in records]
    assert batch == one_by_one


def test_worker_segments_give_the_same_index_as_one_process(tmp_path, tiny_model):
    """Several segments a worker, commits while the other worker writes, small segments
    merged by Whoosh's policy: the same articles, stored fields and postings as the
    single-process path."""
    from test_index import all_postings

    records = [{k: v for k, v in dict(r, id=f"{r['id']}-w", labels=None).items() if v is not None}
               for r in sample_records(40)]
    source = write_jsonl(tmp_path / "a.jsonl", records)
    one = index_corpus([source], tmp_path / "one", model=tiny_model, jobs=1, batch_size=4, commit_every=8)
    two = index_corpus([source], tmp_path / "two", model=tiny_model, jobs=2, batch_size=4, commit_every=8)
    assert (two.read, two.indexed, two.committed) == (one.read, one.indexed, one.committed) == (40, 40, 40)
    assert stored(tmp_path / "one") == stored(tmp_path / "two")
    assert all_postings(tmp_path / "one") == all_postings(tmp_path / "two")
    assert not (tmp_path / "two" / "incoming").exists()


def test_worker_segments_replace_updated_articles_and_skip_unchanged(tmp_path):
    records = sample_records(30)
    source = write_jsonl(tmp_path / "a.jsonl", records)
    ix = tmp_path / "ix"
    index_corpus([source], ix, jobs=2, batch_size=4, commit_every=8)
    changed = [dict(r, text=r["text"] + " Đã sửa.") if i % 3 == 0 else r for i, r in enumerate(records)]
    write_jsonl(source, changed + [dict(records[0], id="new-1")])
    stats = index_corpus([source], ix, jobs=2, batch_size=4, commit_every=8)
    assert (stats.read, stats.indexed, stats.updated, stats.unchanged, stats.skipped) == (31, 1, 10, 20, 0)
    rows = stored(ix)
    assert sorted(row[0] for row in rows) == sorted([r["id"] for r in records] + ["new-1"])  # each once
    edited = {r["id"] for r in changed if r["text"].endswith("Đã sửa.")}
    assert {row[0] for row in rows if row[6].endswith("Đã sửa.")} == edited


def test_strict_with_workers_writes_nothing(tmp_path):
    from mttq_nlp.errors import MttqError

    source = write_jsonl(tmp_path / "a.jsonl", sample_records(20))
    with source.open("a", encoding="utf-8") as handle:
        handle.write("not json\n")
    ix = tmp_path / "ix"
    with pytest.raises(MttqError, match="--strict: nothing was written"):
        index_corpus([source], ix, jobs=2, batch_size=4, commit_every=4, strict=True)
    assert stored(ix) == []
    assert not (ix / "incoming").exists()
