"""`mttq-nlp index --retag`: a new model's topics applied to an existing index,
without reading the sources again; given labels stay as they are."""

import json

import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from mttq_nlp.classify import train
from mttq_nlp.cli import cli
from mttq_nlp.index import index_corpus, open_index

# (text, topic) pairs written for this test: two topics a classifier can tell apart
ELECTION = "Hội nghị hiệp thương lập danh sách người ứng cử đại biểu Hội đồng nhân dân, cử tri nhận xét người ứng cử."
RELIEF = "Ủy ban Mặt trận trao quà cứu trợ cho hộ nghèo bị lũ lụt, Quỹ Vì người nghèo hỗ trợ xây nhà Đại đoàn kết."


def training_records(first: str, second: str):
    """A corpus where ELECTION-like texts carry ``first`` and RELIEF-like texts ``second``."""
    records = []
    for i in range(12):
        records.append({"id": f"e{i}", "text": f"{ELECTION} Xã số {i}.", "labels": [first]})
        records.append({"id": f"r{i}", "text": f"{RELIEF} Thôn số {i}.", "labels": [second]})
    return records


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("retag-models")
    made = {}
    for name, first, second in (("right", "bau-cu", "an-sinh"), ("swapped", "an-sinh", "bau-cu")):
        source = write_jsonl(folder / f"{name}.jsonl", training_records(first, second))
        train([str(source)], folder / name, seed=0, eval_split=0.25)
        made[name] = folder / name
    return made


def topics_by_id(index_dir):
    with open_index(index_dir).searcher() as searcher:
        return {doc["id"]: (doc["topics"], doc["topics_given"]) for doc in searcher.all_stored_fields()}


def test_retag_applies_a_new_model_and_keeps_given_labels(tmp_path, models):
    from mttq_nlp.classify import load_model

    source = write_jsonl(tmp_path / "news.jsonl", [
        {"id": "election", "text": ELECTION},
        {"id": "relief", "text": RELIEF},
        {"id": "given", "text": RELIEF, "labels": ["doan-ket"]},
    ])
    index_corpus([source], tmp_path / "ix", model=load_model(models["right"]))
    assert topics_by_id(tmp_path / "ix") == {
        "election": ("bau-cu", False), "relief": ("an-sinh", False), "given": ("doan-ket", True)}

    source.unlink()  # the sources are not needed again
    result = CliRunner().invoke(cli, ["index", "--retag", "--model", str(models["swapped"]),
                                      "--index-dir", str(tmp_path / "ix")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "topics changed for 2 article(s)" in result.stderr
    assert topics_by_id(tmp_path / "ix") == {
        "election": ("an-sinh", False), "relief": ("bau-cu", False), "given": ("doan-ket", True)}
    with open_index(tmp_path / "ix").searcher() as searcher:
        scores = json.loads(searcher.document(id="given")["topic_scores"])
    assert scores["bau-cu"] > scores["an-sinh"]  # the new model's scores, even for given labels


def test_retag_with_sources_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["index", "x.jsonl", "--retag", "--index-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "--retag works on the index alone" in result.output


def test_retag_without_topics_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["index", "--retag", "--no-topics", "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 2
    assert ("--retag works on the index alone with a model: give no SOURCES, no --rebuild and no --no-topics."
            in result.output)
