"""The train, evaluate and classify commands: options, output formats, exit codes."""

import json

import pytest
from click.testing import CliRunner

from mttq_nlp.cli import cli
from test_classify import MULTI, SINGLE, multi_records, single_records, write_jsonl


def run(*args, input=None, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False, **kwargs)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-classify")


@pytest.fixture(scope="module")
def multi_file(folder):
    return write_jsonl(folder / "multi.jsonl", multi_records())


@pytest.fixture(scope="module")
def single_file(folder):
    return write_jsonl(folder / "single.jsonl", single_records())


@pytest.fixture(scope="module")
def multi_model(folder, multi_file):
    result = run("train", multi_file, "--out", folder / "multi-model", "--no-cache", "--seed", "1")
    assert result.exit_code == 0, result.stdout
    return folder / "multi-model"


@pytest.fixture(scope="module")
def single_model(folder, single_file):
    result = run("train", single_file, "--label-field", "label", "--out", folder / "single-model", "--no-cache",
                 "--json", "-q")
    assert result.exit_code == 0
    card = json.loads(result.stdout)
    assert card["task"] == "single-label" and card["labels"] == ["giao-duc", "kinh-te", "the-thao"]
    assert result.stderr == ""
    return folder / "single-model"


def test_train_human_output(multi_model, folder, multi_file):
    card = json.loads((multi_model / "model.json").read_text(encoding="utf-8"))
    assert card["command"] == f"mttq-nlp train {multi_file} --out {folder / 'multi-model'} --seed 1"
    result = run("train", multi_file, "--out", folder / "again", "--no-cache", "--cv", "2", "--classifier", "logreg",
                 "-C", "10", "--features", "syllables", "--ngrams", "1")
    assert result.exit_code == 0
    assert "Held-out evaluation (stratified hold-out 0.2):" in result.stdout
    assert "micro-average  P" in result.stdout and "per-label confusion" in result.stdout
    assert "2-fold cross-validation (mean ± std):" in result.stdout
    assert "read 32 records: 32 labelled, 0 without labels, 0 skipped; 3 labels, multi-label" in result.stderr
    assert f"model saved to {folder / 'again'}" in result.stderr
    card = json.loads((folder / "again" / "model.json").read_text(encoding="utf-8"))
    assert card["params"]["model"] == "logreg" and card["params"]["features"] == "syllables"
    assert card["command"].endswith("--cv 2 --seed 0 --features syllables --ngrams 1 --classifier logreg --C 10.0")
    assert "The same records typed without diacritics (the unaccented twin model):" in result.stdout
    assert "held-out" in result.stdout.split("without diacritics")[1]

    result = run("train", multi_file, "--out", folder / "plain", "--no-cache", "--no-unaccented")
    assert result.exit_code == 0 and "without diacritics" not in result.stdout
    card = json.loads((folder / "plain" / "model.json").read_text(encoding="utf-8"))
    assert card["params"]["unaccented_twin"] is False and card["command"].endswith("--seed 0 --no-unaccented")


@pytest.mark.parametrize("args, message", [
    (["--label-field", "topic"], "Error: No record has a 'topic' field (fields found: id, title, text, labels). "
                                 "Name the field that holds the topics with --label-field."),
    (["--eval-split", "0"], "Error: Nothing to evaluate the model on: use --eval-split (e.g. 0.2), "
                            "--eval CORPUS or --cv K."),
], ids=["unknown-field", "no-evaluation"])
def test_train_errors_exit_1(multi_file, tmp_path, args, message):
    result = run("train", multi_file, "--out", tmp_path / "m", "--no-cache", *args)
    assert result.exit_code == 1
    assert result.stderr.strip() == message
    assert not (tmp_path / "m").exists()


def test_train_usage_errors_exit_2(multi_file, tmp_path):
    assert run("train", multi_file).exit_code == 2  # no --out
    assert run("train", multi_file, "--out", tmp_path / "m", "--eval-split", "1").exit_code == 2


def test_evaluate_human_json_and_report(single_model, single_file, tmp_path):
    result = run("evaluate", single_file, "--model", single_model, "--no-cache", "-q")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"single-label, {len(SINGLE)} records\naccuracy     ")
    assert "confusion matrix (rows: true label, columns: predicted" in result.stdout

    report = tmp_path / "report.html"
    result = run("evaluate", single_file, "--model", single_model, "--no-cache", "--json", "--report", report)
    metrics = json.loads(result.stdout)
    assert metrics["records"] == len(SINGLE) and 0 <= metrics["accuracy"] <= 1
    assert {"micro", "macro", "per_label", "confusion_matrix", "calibration"} <= set(metrics)
    assert [row["support"] for row in metrics["per_label"]] == [8, 8, 8]
    assert sum(map(sum, metrics["confusion_matrix"]["matrix"])) == len(SINGLE)
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "Confusion matrix" in page
    assert "<script" not in page and "https://" not in page


def test_evaluate_report_that_cannot_be_written_keeps_the_figures(single_model, single_file, tmp_path):
    report = tmp_path / "no-such-folder" / "report.html"
    result = run("evaluate", single_file, "--model", single_model, "--no-cache", "--json", "-q", "--report", report)
    assert result.exit_code == 1
    assert f"Error: Cannot write the report {report}: No such file or directory." in result.stderr
    assert json.loads(result.stdout)["records"] == len(SINGLE)


def test_evaluate_multilabel(multi_model, multi_file):
    result = run("evaluate", multi_file, "--model", multi_model, "--no-cache", "--json", "-q")
    metrics = json.loads(result.stdout)
    assert metrics["task"] == "multi-label" and metrics["accuracy"] is None
    assert set(metrics["per_label_confusion"]) == {"an-sinh", "bau-cu", "covid-19"}


def test_evaluate_wrong_kind_of_corpus(multi_model, single_file):
    result = run("evaluate", single_file, "--model", multi_model, "--no-cache", "--label-field", "label")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == ("Error: The corpus is single-label in 'label' but the model is multi-label: "
                                     "use --label-field to name the right field.")


def test_classify_human(multi_model):
    result = run("classify", "--model", multi_model, "--text", "Trao quà cho hộ nghèo bị lũ lụt")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "text-1"
    assert lines[1].startswith("  labels: ") and "an-sinh" in lines[1]
    assert lines[2].startswith("  scores: ")


def test_classify_says_when_the_unaccented_twin_decided(multi_model):
    result = run("classify", "--model", multi_model, "--jsonl", "--text", "Trao qua cho ho ngheo bi lu lut",
                 "--text", "Trao quà cho hộ nghèo bị lũ lụt")
    plain, marked = (json.loads(line) for line in result.stdout.splitlines())
    assert plain["unaccented"] is True and "unaccented" not in marked
    assert plain["labels"][0] == marked["labels"][0] == "an-sinh"
    result = run("classify", "--model", multi_model, "--text", "TRAO QUA CHO HO NGHEO BI LU LUT")
    assert "(typed without diacritics: decided by the model's unaccented twin)" in result.stdout.splitlines()[1]


def test_classify_json_jsonl_top_k(multi_model, multi_file):
    result = run("classify", multi_file, "--model", multi_model, "--jsonl", "--top-k", "2")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(MULTI)
    assert rows[0]["id"] == "m0" and rows[0]["title"] == MULTI[0][0]
    assert all(len(row["scores"]) == 2 for row in rows)
    assert all(list(row["scores"].values()) == sorted(row["scores"].values(), reverse=True) for row in rows)
    assert "read 32 records: 32 classified, 0 skipped" in result.stderr

    result = run("classify", "--model", multi_model, "--json", "--text", "Tiêm vắc xin phòng COVID-19",
                 "--text", "Cử tri đi bầu cử")
    data = json.loads(result.stdout)
    assert data["model"] == str(multi_model)
    assert [a["id"] for a in data["articles"]] == ["text-1", "text-2"]
    assert set(data["articles"][0]["scores"]) == {"an-sinh", "bau-cu", "covid-19"}
    assert "Tiêm" not in result.stdout or "\\u" not in result.stdout


def test_classify_stdin(multi_model):
    line = json.dumps({"id": "x1", "title": "Hiệp thương lập danh sách người ứng cử", "text": ""}, ensure_ascii=False)
    result = run("classify", "-", "--model", multi_model, "--jsonl", input=line + "\n")
    (row,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert row["id"] == "x1" and "bau-cu" in row["labels"]


def test_classify_explain_terms_occur_in_the_text(multi_model):
    text = "Trao nhà Đại đoàn kết và quà Tết cho hộ nghèo ở xã vùng cao"
    result = run("classify", "--model", multi_model, "--jsonl", "--explain", "--text", text)
    row = json.loads(result.stdout)
    assert row["labels"] and set(row["explain"]) == set(row["labels"])
    for terms in row["explain"].values():
        assert terms
        for item in terms:
            assert item["term"] in text.lower() and item["weight"] > 0
    human = run("classify", "--model", multi_model, "--explain", "--text", text).stdout
    assert "  why an-sinh: " in human


def test_classify_default_model_from_environment(single_model, monkeypatch):
    monkeypatch.setenv("MTTQ_NLP_MODEL", str(single_model))
    result = run("classify", "--text", "Giá vàng tăng mạnh", "--jsonl")
    assert json.loads(result.stdout)["labels"] == ["kinh-te"]


def test_classify_errors(multi_model, tmp_path):
    result = run("classify", "--model", tmp_path / "none", "--text", "x")
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: No topic model at {tmp_path / 'none'}. "
                                     f"Train one: mttq-nlp train CORPUS --out {tmp_path / 'none'}")
    assert run("classify", "--model", multi_model).exit_code == 2
    assert run("classify", "--model", multi_model, "--text", "x", "--json", "--jsonl").exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    result = run("classify", bad, "--model", multi_model)
    assert result.exit_code == 1
    assert f"{bad}:1: not valid JSON" in result.stderr
    assert "Error: nothing could be classified: every record was skipped (see above)" in result.stderr


def test_classify_nothing_is_an_error(multi_model, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    result = run("classify", empty, "--model", multi_model)
    assert result.exit_code == 1
    assert f"Error: nothing to classify: {empty} held no records" in result.stderr
    result = run("classify", "-", "--model", multi_model, input="")
    assert result.exit_code == 1
    assert "Error: nothing to classify: standard input held no records" in result.stderr
    result = run("classify", "--text", " ", "--model", multi_model, "--jsonl")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ("--text 1: empty text: nothing to classify\n"
                             "Error: nothing could be classified: every record was skipped (see above)\n")
    result = run("classify", "--text", "M\udce1t tr\udce2n", "--text", "Mặt trận", "--model", multi_model, "--jsonl")
    assert result.exit_code == 0  # a terminal in Windows-1258 sent the first
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["text-2"]
    assert result.stderr == "--text 1: not UTF-8 text: set the terminal or the script that runs mttq-nlp to UTF-8\n"


def test_commands_have_help():
    for name in ("train", "evaluate", "classify"):
        result = run(name, "--help")
        assert result.exit_code == 0 and f"mttq-nlp {name}" in result.stdout


def test_identical_trainings_give_identical_model_files(folder, multi_file):
    """In two processes with different hash seeds, as two runs of the documented command."""
    import os
    import subprocess
    import sys

    for name, hash_seed in (("same-a", "1"), ("same-b", "2")):
        done = subprocess.run(
            [sys.executable, "-m", "mttq_nlp", "train", str(multi_file), "--out", str(folder / name),
             "--no-cache", "--seed", "3", "-q"],
            env=dict(os.environ, PYTHONHASHSEED=hash_seed), capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stderr
    first, second = ((folder / name / "model.joblib").read_bytes() for name in ("same-a", "same-b"))
    assert first == second


def test_train_with_rules_bootstraps_from_an_unlabelled_corpus(folder, tmp_path):
    """The shipped rules label the records, and the model learns those labels."""
    texts = {
        "bau-cu": "Hội nghị hiệp thương lần thứ hai lập danh sách người ứng cử đại biểu Quốc hội, cử tri nơi cư trú nhận xét",
        "an-sinh": "Ủy ban MTTQ trao nhà Đại đoàn kết và quà cho hộ nghèo, Quỹ Vì người nghèo hỗ trợ bà con vùng lũ",
        "phan-bien": "Hội nghị phản biện xã hội dự thảo nghị quyết, các chuyên gia góp ý dự thảo luật",
    }
    # whole articles, as the shipped rules expect (several hits of a topic's terms)
    records = [{"id": f"{code}-{i}", "title": text, "text": f"{text} (bài {i}).\n{text}."}
               for code, text in texts.items() for i in range(8)]
    source = write_jsonl(tmp_path / "unlabelled.jsonl", records)
    result = run("train", "--rules", "default", source, "--out", tmp_path / "model", "--no-cache", "--eval-split", "0.25")
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "model" / "model.json").read_text(encoding="utf-8"))
    assert set(card["labels"]) >= set(texts)
    assert "--rules default" in card["command"]
    predicted = run("classify", "--model", tmp_path / "model", "--json", "--text", texts["phan-bien"])
    assert json.loads(predicted.output)["articles"][0]["labels"] == ["phan-bien"]


def test_train_rules_with_a_label_field_is_a_usage_error(multi_file, tmp_path):
    result = run("train", "--rules", "default", "--label-field", "label", multi_file, "--out", tmp_path / "m")
    assert result.exit_code == 2
    assert "--rules gives 'labels' lists" in result.output
