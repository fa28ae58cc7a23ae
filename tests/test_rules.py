import json
import unicodedata

import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from mttq_nlp.cli import cli
from mttq_nlp.rules import RulesError, evaluate_rules, label_records, load_rules, parse_rules
from mttq_nlp.topics import TOPIC_CODES


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, **kwargs)


CRITIQUE = parse_rules("""
[settings]
min_hits = 1

[topics.phan-bien]
phrases = ["phản biện xã hội"]

[topics.an-sinh]
keywords = ["bão", "hòa bình"]

[topics.to-chuc]
keywords = ["Mặt trận Tổ quốc"]
""")


@pytest.mark.parametrize("text", [
    "Hội nghị phản biện xã hội dự thảo luật",
    "HỘI NGHỊ PHẢN BIỆN XÃ HỘI",
    "PHAN BIEN XA HOI ve du thao luat",
    "phan bien xa hoi",
    unicodedata.normalize("NFD", "Hội nghị phản biện xã hội"),
    "Phản Biện Xã Hội\u200b",
], ids=["plain", "caps", "caps-no-accents", "no-accents", "nfd", "zero-width"])
def test_phrase_matches_whatever_the_case_and_accents(text):
    result = CRITIQUE.apply("", text)
    assert result.labels == ["phan-bien"]
    assert result.hits["phan-bien"]["terms"] == {"phản biện xã hội": 1}


def test_old_and_new_tone_placement_match_both_ways():
    assert CRITIQUE.apply("", "Vì hoà bình").labels == ["an-sinh"]  # old style in the text
    rules = parse_rules('[topics.an-sinh]\nkeywords = ["hoà bình"]\nmin_hits = 1\n')  # old style in the rule
    assert rules.apply("", "Vì hòa bình").labels == ["an-sinh"]


def test_accents_matter_when_both_sides_have_them():
    # "bao" (how much) in accented text is not "bão" (storm); unaccented text still matches
    assert CRITIQUE.apply("", "Giá bao nhiêu tiền một cân?").labels == []
    assert CRITIQUE.apply("", "Cơn bão số 3 gây thiệt hại").labels == ["an-sinh"]
    assert CRITIQUE.apply("", "con bao so 3 gay thiet hai").labels == ["an-sinh"]


def test_whole_syllables_only_and_not_across_lines():
    assert CRITIQUE.apply("", "phản biện xã hội hóa").labels == ["phan-bien"]
    assert CRITIQUE.apply("", "bãoo").labels == []
    assert CRITIQUE.apply("", "phản biện\nxã hội").labels == []


def test_abbreviations_match_long_forms():
    assert CRITIQUE.apply("", "Ủy ban MTTQ huyện họp").labels == ["to-chuc"]


def test_scores_weights_title_min_hits_and_exclusions():
    rules = parse_rules("""
[settings]
min_hits = 4
phrase_weight = 2
title_weight = 3

[topics.bau-cu]
keywords = ["cử tri"]
phrases = ["bầu cử"]
exclude = ["tổng thống"]
""")
    assert rules.apply("", "cử tri cử tri cử tri").labels == []  # 3 < 4
    assert rules.apply("", "bầu cử, bầu cử").labels == ["bau-cu"]  # 2 phrases x 2
    result = rules.apply("Cử tri", "bầu cử")  # title 1 x 3 + phrase 2
    assert result.labels == ["bau-cu"] and result.hits["bau-cu"]["score"] == 5
    result = rules.apply("", "bầu cử bầu cử tổng thống Mỹ")
    assert result.labels == [] and result.hits["bau-cu"]["excluded_by"] == "tổng thống"


def test_labels_are_ordered_by_score():
    rules = parse_rules('[settings]\nmin_hits = 1\n[topics.bau-cu]\nkeywords = ["bầu cử"]\n'
                        '[topics.covid-19]\nkeywords = ["covid"]\n')
    assert rules.apply("", "bầu cử; COVID-19, covid, Covid").labels == ["covid-19", "bau-cu"]


def test_shipped_rules_cover_the_taxonomy_and_label_obvious_texts():
    rules = load_rules()
    assert rules.codes == list(TOPIC_CODES)
    text = ("Ủy ban MTTQ tỉnh tổ chức hội nghị phản biện xã hội đối với dự thảo nghị quyết về giá đất.\n"
            "Các đại biểu góp ý dự thảo, đề nghị làm rõ phạm vi điều chỉnh.\n"
            "Ý kiến phản biện sẽ được tổng hợp gửi HĐND tỉnh.")
    assert rules.apply("Phản biện xã hội dự thảo nghị quyết", text).labels == ["phan-bien"]
    assert rules.apply("Tai nạn giao thông trên quốc lộ", "Một xe tải va chạm xe máy.").labels == []


# --- bad rules files -----------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    ('[topics.bau-cu]\nkeywords = ["bầu cử"\n',
     "{path}:2: Unclosed array at the end of the file; the rules file is not valid TOML."),
    ('[topics.bau-cu]\nkeywords == ["bầu cử"]\n',
     "{path}:2: Invalid value (column 11); the rules file is not valid TOML."),
    ('[topics.bau-cu]\nkeywords = ["bầu cử"]\n\n[topics.elections]\nkeywords = ["x"]\n',
     "{path}:4: unknown topic code 'elections'; the codes are "
     "bau-cu, covid-19, thi-dua, phan-bien, giam-sat, an-sinh, doan-ket, to-chuc."),
    ('[topics.bau-cu]\nkeyword = ["bầu cử"]\n',
     "{path}:2: unknown key 'keyword' in [topics.bau-cu]; "
     "use exclude, keywords, min_hits, name, phrase_weight, phrases, title_weight."),
    ('[topics.bau-cu]\nkeywords = "bầu cử"\n', "{path}:2: keywords of [topics.bau-cu] must be a list of strings."),
    ('[topics.bau-cu]\nkeywords = ["bầu cử"]\nmin_hits = 0\n', "{path}:3: min_hits must be a positive number, found 0."),
    ('[topics.bau-cu]\nkeywords = ["bầu cử"]\nmin_hits = nan\n', "{path}:3: min_hits must be a positive number, found nan."),
    ('[settings]\ntitle_weight = inf\n[topics.bau-cu]\nkeywords = ["bầu cử"]\n',
     "{path}:2: title_weight must be a positive number, found inf."),
    ('[settings]\nmin_hits = 2\n', "{path}: no topics: add a table per topic, e.g. [topics.bau-cu] "
                                   'with keywords = ["bầu cử", "cử tri"].'),
    ('[topics.bau-cu]\nkeywords = ["..."]\n',
     "{path}:2: keywords of [topics.bau-cu] has a term with no letters or digits: '...'."),
], ids=["unclosed", "syntax", "unknown-topic", "unknown-key", "not-a-list", "min-hits", "min-hits-nan", "weight-inf",
     "no-topics", "empty-term"])
def test_bad_rules_file_errors_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "rules.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RulesError) as error:
        load_rules(path)
    assert str(error.value) == message.format(path=path)


def test_missing_rules_file(tmp_path):
    with pytest.raises(RulesError, match="no such rules file"):
        load_rules(tmp_path / "nope.toml")


def test_label_cli_bad_rules_exits_1(tmp_path):
    corpus = write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "text": "bầu cử"}])
    rules = tmp_path / "rules.toml"
    rules.write_text("[topics.xyz]\nkeywords = ['a']\n", encoding="utf-8")
    result = run("label", corpus, "--rules", rules)
    assert result.exit_code == 1
    assert f"Error: {rules}:1: unknown topic code 'xyz'" in result.stderr


# --- the label command ---------------------------------------------------------------

RECORDS = [
    {"id": "e1", "title": "HỘI NGHỊ HIỆP THƯƠNG LẦN THỨ HAI",
     "text": "Ủy ban MTTQ tỉnh tổ chức hội nghị hiệp thương lần thứ hai, lập danh sách sơ bộ người ứng cử "
             "đại biểu Quốc hội. Hội nghị cử tri nơi cư trú được tổ chức ở các thôn.\n"
             "Danh sách cử tri được niêm yết đúng luật bầu cử.",
     "source": "Báo mẫu", "labels": ["bau-cu"]},
    {"id": "e2", "title": "Tai nạn giao thông", "text": "Xe tải va chạm xe máy trên quốc lộ, một người bị thương.",
     "labels": []},
    {"id": "e3", "title": "Trao nha Dai doan ket cho ho ngheo",
     "text": "Uy ban MTTQ xa trao nha Dai doan ket tu Quy Vi nguoi ngheo cho ho ngheo, tang qua ho can ngheo.",
     "labels": ["an-sinh", "giam-sat"]},
    {"id": "u1", "title": "Không có nhãn", "text": "Quỹ Vì người nghèo trao quà cho hộ nghèo, hộ cận nghèo."},
]


def test_label_writes_records_with_labels_and_hits(tmp_path):
    corpus = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    out = tmp_path / "out.jsonl"
    result = run("label", corpus, "--out", out)
    assert result.exit_code == 0
    assert "read 4 = labelled 4 + skipped 0; 3 with a topic, 1 with none" in result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["e1", "e2", "e3", "u1"]
    first = records[0]
    assert first["labels"] == ["bau-cu"] and first["given_labels"] == ["bau-cu"]
    assert first["source"] == "Báo mẫu" and first["title"] == RECORDS[0]["title"]
    assert first["rule_hits"]["bau-cu"]["terms"]["hội nghị hiệp thương"] == 2  # title and text
    assert records[1]["labels"] == [] and records[1]["given_labels"] == []
    assert records[2]["labels"] == ["an-sinh"]
    assert "given_labels" not in records[3] and records[3]["labels"] == ["an-sinh"]


def test_label_to_stdout_and_eval(tmp_path):
    corpus = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    result = run("label", corpus, "--eval", "--json", "-q")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 4
    figures = json.loads(result.stderr)  # the records take stdout
    assert figures["records"] == 3  # the unlabelled record is not compared
    rows = {row["label"]: row for row in figures["per_label"]}
    assert rows["bau-cu"]["f1"] == 1.0
    assert rows["giam-sat"]["recall"] == 0.0 and rows["giam-sat"]["support"] == 1
    assert figures["macro"]["f1"] == pytest.approx((1.0 + 1.0 + 0.0) / 3)

    result = run("label", corpus, "--eval", "--out", tmp_path / "out.jsonl")
    assert "topic      precision  recall     F1  support  labelled" in result.stdout
    assert "micro" in result.stdout and "macro" in result.stdout


def test_label_eval_without_gold_labels(tmp_path):
    corpus = write_jsonl(tmp_path / "in.jsonl", [RECORDS[3]])
    result = run("label", corpus, "--eval", "--out", tmp_path / "out.jsonl")
    assert result.exit_code == 1
    assert "Error: --eval: no record has gold 'labels' to compare the rules with." in result.stderr


def test_label_reports_bad_records_and_goes_on(tmp_path):
    corpus = tmp_path / "in.jsonl"
    corpus.write_text(json.dumps(RECORDS[1]) + "\n{not json\n", encoding="utf-8")
    result = run("label", corpus, "--out", tmp_path / "out.jsonl")
    assert result.exit_code == 0
    assert f"{corpus}:2:" in result.stderr
    assert "read 2 = labelled 1 + skipped 1" in result.stderr


def test_label_refuses_to_write_over_an_input(tmp_path):
    corpus = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    before = corpus.read_text(encoding="utf-8")
    result = run("label", corpus, "--out", corpus)
    assert result.exit_code == 1
    assert (f"Error: {corpus} is both an input and the output: writing it would erase it before it is read. "
            "Write the labelled records to another file.") in result.stderr
    assert corpus.read_text(encoding="utf-8") == before


def test_label_does_not_read_its_own_output_in_an_input_folder(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "news"
    folder.mkdir()
    long = dict(RECORDS[0], text=RECORDS[0]["text"] + " Hội nghị hiệp thương." * 500)  # each record flushes
    write_jsonl(folder / "a.jsonl", [dict(long, id=f"e{n}") for n in range(3)])
    out = folder / "z-labelled.jsonl"
    # a subprocess with a timeout: reading the output it writes would never end
    done = subprocess.run([sys.executable, "-m", "mttq_nlp", "label", str(folder), "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "read 3 = labelled 3 + skipped 0" in done.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


def test_label_to_a_missing_folder_is_a_clear_error(tmp_path):
    corpus = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    result = run("label", corpus, "--out", tmp_path / "no" / "out.jsonl")
    assert result.exit_code == 1
    assert f"Error: Cannot write {tmp_path / 'no' / 'out.jsonl'}: No such file or directory." in result.stderr


def test_label_records_library_api(tmp_path):
    corpus = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    records = list(label_records([corpus]))
    assert [r["labels"] for r in records] == [["bau-cu"], [], ["an-sinh"], ["an-sinh"]]


def test_evaluate_rules_macro_over_present_labels():
    report = evaluate_rules([["a"], ["b"], []], [["a"], ["a"], ["c"]], ["a", "b", "c"])
    rows = {row["label"]: row for row in report["per_label"]}
    assert rows["a"]["precision"] == 0.5 and rows["a"]["recall"] == 1.0
    assert rows["c"]["support"] == 0 and rows["c"]["predicted"] == 1
    assert report["macro"]["f1"] == pytest.approx((2 / 3 + 0.0) / 2)
