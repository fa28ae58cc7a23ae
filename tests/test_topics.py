import json

from click.testing import CliRunner

from conftest import ARTICLES, write_jsonl
from mttq_nlp.cli import cli
from mttq_nlp.index import index_corpus, remove_articles
from mttq_nlp.topics import TOPIC_CODES, TOPICS, count_topics, topic_name


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def given_counts():
    counts = {code: 0 for code in TOPIC_CODES}
    for article in ARTICLES:
        for code in article["labels"]:
            counts[code] += 1
    return counts


def test_taxonomy_constants():
    assert TOPIC_CODES == ("bau-cu", "covid-19", "thi-dua", "phan-bien", "giam-sat", "an-sinh", "doan-ket", "to-chuc")
    assert TOPICS["bau-cu"] == "Bầu cử" and topic_name("to-chuc") == "Tổ chức, đại hội, nhân sự"
    assert topic_name("nope") == ""


def test_count_topics_in_an_index(index_dir):
    summary = count_topics(index_dir)
    counts = {t.code: t.count for t in summary.topics}
    assert [t.code for t in summary.topics] == list(TOPIC_CODES)
    assert counts == given_counts()
    assert all(t.given == t.count and t.predicted == 0 for t in summary.topics)  # every article has labels
    assert summary.articles == len(ARTICLES)
    assert summary.without_topic == sum(1 for a in ARTICLES if not a["labels"])


def test_counts_leave_out_removed_and_replaced_articles(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", ARTICLES)
    index_corpus([source], tmp_path / "ix")
    remove_articles(["covid"], tmp_path / "ix")
    changed = [dict(a, labels=["bau-cu"]) if a["id"] == "pb-1" else a for a in ARTICLES if a["id"] != "covid"]
    index_corpus([write_jsonl(tmp_path / "b.jsonl", changed)], tmp_path / "ix")
    counts = {t.code: t.count for t in count_topics(tmp_path / "ix").topics}
    expected = given_counts()
    expected["covid-19"] -= 1
    expected["an-sinh"] -= 1
    expected["phan-bien"] -= 1
    expected["bau-cu"] += 1
    assert counts == expected


def test_topics_command(index_dir):
    result = run("topics", "--index-dir", index_dir)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["code", "name", "articles", "given", "predicted"]
    assert any(line.startswith("an-sinh") and "An sinh xã hội, cứu trợ" in line and line.split()[-3:] == ["3", "3", "0"]
               for line in lines)
    assert lines[-1] == f"{len(ARTICLES)} articles in the index, 5 with no topic"


def test_topics_json(index_dir):
    data = json.loads(run("topics", "--index-dir", index_dir, "--json").output)
    assert data["articles"] == len(ARTICLES)
    assert {t["code"]: t["count"] for t in data["topics"]} == given_counts()
    assert data["topics"][0] == {"code": "bau-cu", "name": "Bầu cử", "count": 0, "given": 0, "predicted": 0}


def test_topics_without_an_index(tmp_path):
    result = run("topics", "--index-dir", tmp_path / "none")
    assert result.exit_code == 1
    assert f"No index at {tmp_path / 'none'}. Run 'mttq-nlp index' first" in result.stderr
