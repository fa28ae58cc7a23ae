"""Tests of the topic classifier library: training, saving and loading, predictions,
thresholds, explanations and the errors a user can meet."""

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mttq_nlp import classify
from mttq_nlp.classify import Prediction, load_model, read_labelled, segment_texts, train
from mttq_nlp.errors import ModelError, MttqError, TrainingError
from mttq_nlp.evaluate import compute_metrics
from mttq_nlp.report import render_report

# Tiny corpora, written for these tests (short made-up news lines).
MULTI = [
    # bau-cu
    ("Hội nghị hiệp thương lần thứ hai lập danh sách người ứng cử đại biểu Quốc hội", ["bau-cu"]),
    ("Cử tri phường đi bỏ phiếu bầu đại biểu Hội đồng nhân dân các cấp", ["bau-cu"]),
    ("Tổ bầu cử kiểm tra danh sách cử tri trước ngày bầu cử", ["bau-cu"]),
    ("Lấy ý kiến cử tri nơi cư trú về người ứng cử đại biểu", ["bau-cu"]),
    ("Ứng cử viên trình bày chương trình hành động trước cử tri", ["bau-cu"]),
    ("Kết quả bầu cử đại biểu Quốc hội khóa mới được công bố", ["bau-cu"]),
    ("Hiệp thương thỏa thuận cơ cấu người ứng cử đại biểu Hội đồng nhân dân", ["bau-cu"]),
    ("Niêm yết danh sách cử tri tại nhà văn hóa thôn trước ngày bầu cử", ["bau-cu"]),
    # an-sinh
    ("Trao nhà Đại đoàn kết cho hộ nghèo ở xã vùng cao", ["an-sinh"]),
    ("Quỹ Vì người nghèo hỗ trợ sinh kế cho hộ cận nghèo", ["an-sinh"]),
    ("Cứu trợ đồng bào bị lũ lụt ở các tỉnh miền Trung", ["an-sinh"]),
    ("Trao quà Tết cho hộ nghèo và gia đình chính sách", ["an-sinh"]),
    ("Ủng hộ người dân vùng thiên tai khắc phục hậu quả bão", ["an-sinh"]),
    ("Trao học bổng cho học sinh nghèo vượt khó học giỏi", ["an-sinh"]),
    ("Giảm nghèo bền vững nhờ mô hình nuôi bò sinh sản cho hộ nghèo", ["an-sinh"]),
    ("Xây dựng nhà tình thương cho hộ nghèo neo đơn", ["an-sinh"]),
    # covid-19
    ("Tiêm vắc xin phòng COVID-19 cho người dân trong khu cách ly", ["covid-19"]),
    ("Phường thực hiện giãn cách xã hội để phòng, chống dịch COVID-19", ["covid-19"]),
    ("Tổ COVID cộng đồng theo dõi sức khỏe người về từ vùng dịch", ["covid-19"]),
    ("Ủng hộ Quỹ vắc xin phòng COVID-19 của thành phố", ["covid-19"]),
    ("Điều trị F0 tại nhà trong đợt dịch bệnh bùng phát", ["covid-19"]),
    ("Khu cách ly tập trung tiếp nhận người nhập cảnh phòng dịch", ["covid-19"]),
    # both
    ("Trao quà cho hộ nghèo gặp khó khăn do dịch COVID-19 và giãn cách", ["covid-19", "an-sinh"]),
    ("Hỗ trợ gạo cho hộ nghèo bị ảnh hưởng bởi dịch bệnh COVID-19", ["covid-19", "an-sinh"]),
    ("Bầu cử đại biểu bảo đảm an toàn phòng dịch COVID-19 tại tổ bầu cử", ["bau-cu", "covid-19"]),
    # none
    ("Tai nạn giao thông trên quốc lộ làm hai người bị thương", []),
    ("Giá lúa tăng nhẹ, nông dân phấn khởi thu hoạch vụ mùa", []),
    ("Đội bóng đá của tỉnh giành chiến thắng trận chung kết", []),
    ("Công an huyện bắt giữ đối tượng trộm cắp tài sản", []),
    ("Khánh thành cây cầu mới nối hai bờ sông", []),
    ("Doanh nghiệp xuất khẩu thủy sản đạt doanh thu kỷ lục", []),
    ("Học sinh thi tốt nghiệp trung học phổ thông năm nay", []),
]

SINGLE = [
    ("Đội tuyển bóng đá quốc gia thắng đậm trong trận giao hữu", "the-thao"),
    ("Tiền đạo ghi bàn thắng quyết định ở phút cuối trận đấu", "the-thao"),
    ("Vận động viên điền kinh phá kỷ lục chạy cự ly ngắn", "the-thao"),
    ("Câu lạc bộ bóng đá chiêu mộ thủ môn mới cho mùa giải", "the-thao"),
    ("Giải quần vợt quốc tế khởi tranh với nhiều tay vợt mạnh", "the-thao"),
    ("Huấn luyện viên đội tuyển công bố danh sách cầu thủ", "the-thao"),
    ("Vận động viên bơi lội giành huy chương vàng tại đại hội thể thao", "the-thao"),
    ("Trận derby kết thúc với tỉ số hòa, cổ động viên thất vọng", "the-thao"),
    ("Ngân hàng nhà nước điều chỉnh lãi suất cho vay", "kinh-te"),
    ("Giá vàng trong nước tăng mạnh theo thị trường thế giới", "kinh-te"),
    ("Kim ngạch xuất khẩu nông sản tăng so với cùng kỳ", "kinh-te"),
    ("Chỉ số chứng khoán giảm điểm, nhà đầu tư bán ròng", "kinh-te"),
    ("Doanh nghiệp nhỏ được vay vốn ưu đãi để mở rộng sản xuất", "kinh-te"),
    ("Lạm phát được kiểm soát, giá tiêu dùng ổn định", "kinh-te"),
    ("Thị trường bất động sản trầm lắng, giá nhà đất đi ngang", "kinh-te"),
    ("Tỷ giá đô la Mỹ biến động, ngân hàng bán ngoại tệ", "kinh-te"),
    ("Học sinh bước vào kỳ thi tuyển sinh lớp mười", "giao-duc"),
    ("Trường đại học công bố điểm chuẩn xét tuyển", "giao-duc"),
    ("Giáo viên mầm non được tăng lương từ năm học mới", "giao-duc"),
    ("Bộ Giáo dục ban hành chương trình sách giáo khoa mới", "giao-duc"),
    ("Sinh viên nhận học bổng du học tại nước ngoài", "giao-duc"),
    ("Nhà trường tổ chức lễ khai giảng năm học mới", "giao-duc"),
    ("Thí sinh làm bài thi môn toán trong kỳ thi tốt nghiệp", "giao-duc"),
    ("Học sinh tiểu học được miễn học phí tại nhiều địa phương", "giao-duc"),
]


def multi_records(pairs=MULTI):
    return [{"id": f"m{i}", "title": title, "text": "", "labels": labels} for i, (title, labels) in enumerate(pairs)]


def single_records(pairs=SINGLE):
    return [{"id": f"s{i}", "title": title, "text": "", "label": label} for i, (title, label) in enumerate(pairs)]


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("classify")


@pytest.fixture(scope="module")
def multi_model(folder):
    source = write_jsonl(folder / "multi.jsonl", multi_records())
    return train([source], folder / "multi-model", seed=1).model


@pytest.fixture(scope="module")
def single_model(folder):
    source = write_jsonl(folder / "single.jsonl", single_records())
    return train([source], folder / "single-model", label_field="label").model


UNSEEN = [
    "Trao quà cho hộ nghèo bị ảnh hưởng bởi lũ lụt",
    "Hội nghị hiệp thương giới thiệu người ứng cử đại biểu Quốc hội",
    "Tiêm vắc xin phòng COVID-19 cho công nhân",
    "Đội bóng đá thắng trận chung kết",
    "",
]


# --- training and round trip -----------------------------------------------------

def test_multilabel_model_and_card(multi_model, folder):
    assert multi_model.multilabel
    assert multi_model.labels_ == ["an-sinh", "bau-cu", "covid-19"]
    card = json.loads((folder / "multi-model" / "model.json").read_text(encoding="utf-8"))
    assert card == multi_model.card
    assert card["task"] == "multi-label" and card["labels"] == multi_model.labels_
    assert card["training_data"]["count"] == len(MULTI)
    assert len(card["training_data"]["sha256"]) == 64
    assert card["training_data"]["trained_on"] < len(MULTI)  # the rest is held out
    assert card["evaluation"]["method"] == "stratified hold-out 0.2"
    assert card["evaluation"]["records"] + card["training_data"]["trained_on"] == len(MULTI)
    assert 0 <= card["evaluation"]["metrics"]["micro"]["f1"] <= 1
    assert card["versions"]["scikit-learn"] and card["created"]
    digest = hashlib.sha256((folder / "multi-model" / "model.joblib").read_bytes()).hexdigest()
    assert card["model_sha256"] == digest


def test_round_trip_gives_identical_predictions(multi_model, single_model):
    for model in (multi_model, single_model):
        loaded = load_model(model.path)
        assert loaded.labels_ == model.labels_ and loaded.multilabel == model.multilabel
        assert loaded.predict_texts(UNSEEN) == model.predict_texts(UNSEEN)


def test_multilabel_predictions(multi_model):
    predictions = multi_model.predict_texts(UNSEEN)
    assert all(isinstance(p, Prediction) for p in predictions)
    for prediction in predictions:
        assert set(prediction.scores) == set(multi_model.labels_)
        assert all(0 <= s <= 1 for s in prediction.scores.values())
    assert "an-sinh" in predictions[0].labels
    assert "bau-cu" in predictions[1].labels
    assert "covid-19" in predictions[2].labels


def test_single_label_predictions(single_model):
    assert not single_model.multilabel
    assert single_model.labels_ == ["giao-duc", "kinh-te", "the-thao"]
    predictions = single_model.predict_texts(["Cầu thủ đội tuyển bóng đá ghi bàn", "Lãi suất ngân hàng giảm"])
    assert [p.labels for p in predictions] == [["the-thao"], ["kinh-te"]]
    for p in predictions:  # one label, the most probable; probabilities sum to 1
        assert p.labels == [max(p.scores, key=p.scores.get)]
        assert sum(p.scores.values()) == pytest.approx(1, abs=1e-4)


def test_predict_segmented_is_what_predict_texts_does(multi_model):
    segmented = segment_texts(UNSEEN)
    assert multi_model.predict_segmented(segmented) == multi_model.predict_texts(UNSEEN)
    assert multi_model.predict_segmented([]) == []


def test_thresholds_are_tuned_and_used(multi_model):
    thresholds = multi_model.thresholds_
    assert thresholds.shape == (3,)
    assert not np.allclose(thresholds, 0.5)
    assert multi_model.card["thresholds"] == dict(zip(multi_model.labels_, thresholds.tolist()))
    texts = segment_texts(UNSEEN + [title for title, _ in MULTI])
    for prediction in multi_model.predict_segmented(texts):
        decided = {label for label, t in zip(multi_model.labels_, thresholds) if prediction.scores[label] >= t - 1e-6}
        assert set(prediction.labels) == decided
    # moving a threshold moves the decisions
    multi_model.thresholds_ = np.zeros(3)
    try:
        assert all(len(p.labels) == 3 for p in multi_model.predict_segmented(texts))
    finally:
        multi_model.thresholds_ = thresholds


def test_threshold_tuning_picks_the_best_f1_cut():
    y = np.array([[1], [1], [0], [1], [0], [0]])
    scores = np.array([[0.9], [0.35], [0.3], [0.32], [0.1], [0.05]])
    (threshold,) = classify.tune_thresholds(y, scores)
    assert 0.1 < threshold <= 0.32  # keeps the three positives, not a fixed 0.5


def test_thresholds_are_also_tuned_on_held_out_articles_joined_with_one_without_topics():
    texts = [classify.segment_texts([text])[0] for text, _ in MULTI]
    labels = ["bau-cu", "an-sinh", "covid-19"]
    y = classify._binarize([codes for _, codes in MULTI], labels)
    keys = classify._stratify_keys(y, True, labels)
    params = {**classify.DEFAULT_PARAMS, "min_df": 1, "calibration_folds": 2, "threshold_folds": 2}
    plain, joined = classify._out_of_fold_probabilities(texts, y, params, 0, 2, keys)
    assert plain.shape == joined.shape == y.shape
    # a held-out article and its topic-less partner score lower than the article alone, on its topics
    assert joined[y == 1].mean() < plain[y == 1].mean()

    model = classify.fit_model(texts, [codes for _, codes in MULTI], multilabel=True, labels=labels, params=params)
    without = classify.fit_model(texts, [codes for _, codes in MULTI], multilabel=True, labels=labels,
                                 params={**params, "threshold_passages": False})
    assert np.allclose(without.thresholds_, classify.tune_thresholds(y, plain))
    assert np.allclose(model.thresholds_, classify.tune_thresholds(np.vstack([y, y]), np.vstack([plain, joined])))


def test_fit_model_refuses_a_label_no_text_carries():
    texts = [classify.segment_texts([text])[0] for text, _ in MULTI]
    with pytest.raises(ValueError, match="thi-dua"):
        classify.fit_model(texts, [codes for _, codes in MULTI], multilabel=True, labels=["bau-cu", "thi-dua"])


def test_partners_are_other_records_without_topics():
    rng = np.random.default_rng(0)
    records, no_topic = np.arange(10), np.array([2, 5, 7])
    for _ in range(50):
        partners = classify._partners(records, no_topic, rng)
        assert set(partners) <= set(no_topic) and not (partners == records).any()


def test_article_without_labels_is_a_negative_example(tmp_path):
    records = multi_records()
    data = read_labelled([write_jsonl(tmp_path / "m.jsonl", records)])
    assert data.multilabel and len(data.articles) == len(MULTI)
    assert sum(1 for t in data.targets if t == []) == sum(1 for _, labels in MULTI if not labels)


def test_records_without_the_field_are_not_training_data(tmp_path):
    records = multi_records() + [{"id": "x", "title": "Bài không gán nhãn", "text": "Nội dung"}]
    data = read_labelled([write_jsonl(tmp_path / "m.jsonl", records)])
    assert data.unlabelled == 1 and len(data.articles) == len(MULTI)


def test_eval_corpus_and_cross_validation(tmp_path):
    train_file = write_jsonl(tmp_path / "train.jsonl", single_records(SINGLE[::2] + SINGLE[1::4]))
    eval_file = write_jsonl(tmp_path / "eval.jsonl", single_records(SINGLE[3::4]))
    result = train([train_file], tmp_path / "m", label_field="label", eval_sources=[eval_file], cv=2)
    evaluation = result.card["evaluation"]
    assert evaluation["method"] == "corpus" and evaluation["records"] == len(SINGLE[3::4])
    assert evaluation["cross_validation"]["folds"] == 2
    assert 0 <= evaluation["cross_validation"]["accuracy"]["mean"] <= 1


@pytest.mark.parametrize("features", ["words", "syllables", "terms"], ids=str)
def test_feature_kinds(tmp_path, features):
    source = write_jsonl(tmp_path / "s.jsonl", single_records())
    model = train([source], tmp_path / "m", label_field="label", params={"features": features, "ngram_max": 1,
                                                                         "model": "logreg", "C": 10.0}).model
    assert model.card["params"]["features"] == features
    assert model.predict_texts(["Giá vàng tăng mạnh"])[0].labels == ["kinh-te"]


def test_tokenisers_use_the_shared_analysis():
    segmented = "Ủy_ban Mặt_trận_Tổ_quốc tỉnh"
    assert classify.word_tokens(segmented) == ["ủy_ban", "mặt_trận_tổ_quốc", "tỉnh"]
    assert classify.syllable_tokens(segmented) == ["ủy", "ban", "mặt", "trận", "tổ", "quốc", "tỉnh"]
    assert classify.term_tokens(segmented)[:3] == ["ủy_ban", "ủy", "ban"]
    # picklable: named module-level functions
    assert pickle.loads(pickle.dumps(classify.word_tokens)) is classify.word_tokens


# --- explanations --------------------------------------------------------------------

def test_explained_terms_occur_in_the_text(multi_model):
    raw = "Trao quà và nhà Đại đoàn kết cho hộ nghèo bị lũ lụt ở xã vùng cao"
    segmented = segment_texts([raw])[0]
    prediction = multi_model.predict_segmented([segmented])[0]
    assert prediction.labels
    explanation = multi_model.explain_segmented(segmented, prediction.labels, top=5)
    assert set(explanation) == set(prediction.labels)
    lowered = raw.lower()
    for terms in explanation.values():
        assert terms
        weights = [w for _, w in terms]
        assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
        for term, _ in terms:
            assert term in lowered, term


# --- text typed without diacritics ------------------------------------------------

def test_text_without_diacritics_is_classified_by_the_unaccented_twin(multi_model, folder):
    twin = multi_model.unaccented_
    assert twin is not None and twin.card["params"]["features"] == "unaccented"
    marked = ["Trao quà Tết cho hộ nghèo ở xã vùng cao", "Hội nghị hiệp thương giới thiệu người ứng cử đại biểu"]
    plain = ["Trao qua Tet cho ho ngheo o xa vung cao", "HOI NGHI HIEP THUONG GIOI THIEU NGUOI UNG CU DAI BIEU"]
    assert multi_model.model_for(segment_texts(plain)[0]) is twin
    assert multi_model.model_for(segment_texts(marked)[0]) is multi_model
    # the main model's features hardly recognise the unmarked text; the twin does
    main, routed = multi_model._predict(segment_texts(plain)), multi_model.predict_texts(plain)
    for label, alone, by_twin in zip(["an-sinh", "bau-cu"], main, routed):
        assert by_twin.scores[label] > alone.scores[label]
    assert [p.labels for p in routed] == [["an-sinh"], ["bau-cu"]]
    assert [p.labels for p in multi_model.predict_texts(marked)] == [["an-sinh"], ["bau-cu"]]
    # a mixed batch keeps its order
    mixed = [marked[0], plain[1], plain[0], marked[1]]
    assert [p.labels for p in multi_model.predict_texts(mixed)] == [["an-sinh"], ["bau-cu"], ["an-sinh"], ["bau-cu"]]
    # explanations come from the twin, in the text's own unmarked syllables
    segmented = segment_texts([plain[0]])[0]
    for term, _ in multi_model.explain_segmented(segmented, ["an-sinh"], top=5)["an-sinh"]:
        assert term in plain[0].lower(), term
    # saved and loaded with the model; figures on the held-out records without marks in the card
    loaded = load_model(multi_model.path)
    assert loaded.predict_texts(mixed) == multi_model.predict_texts(mixed)
    card = json.loads((folder / "multi-model" / "model.json").read_text(encoding="utf-8"))
    assert 0 <= card["evaluation"]["unaccented"]["metrics"]["micro"]["f1"] <= 1


def test_no_twin_when_asked_and_models_saved_before_it_load(tmp_path):
    source = write_jsonl(tmp_path / "s.jsonl", single_records())
    result = train([source], tmp_path / "m", label_field="label", cv=2, params={"unaccented_twin": False})
    assert result.model.unaccented_ is None and load_model(tmp_path / "m").unaccented_ is None
    assert result.card["evaluation"]["unaccented"] == {"metrics": None, "cross_validation": None}
    # one with a twin reports cross-validated figures for the unmarked text too
    result = train([source], tmp_path / "m2", label_field="label", cv=2)
    assert 0 <= result.card["evaluation"]["unaccented"]["cross_validation"]["accuracy"]["mean"] <= 1
    assert "unaccented" not in result.card["evaluation"]["cross_validation"]


# --- segmentation cache --------------------------------------------------------------

def test_segmentation_cache(tmp_path, monkeypatch):
    texts = ["Hội nghị phản biện xã hội", "Quỹ Vì người nghèo"]
    first = segment_texts(texts, cache_dir=tmp_path)
    assert first == [classify.analysis.segmented(t) for t in texts]

    def refuse(text):
        raise AssertionError("segmented again")

    monkeypatch.setattr(classify, "_segment_one", refuse)
    assert segment_texts(texts, cache_dir=tmp_path) == first


def test_a_damaged_segmentation_cache_is_a_clear_error(tmp_path):
    (tmp_path / "segmented.sqlite").write_bytes(b"not a database, " * 100)
    with pytest.raises(MttqError) as error:
        segment_texts(["Quỹ Vì người nghèo"], cache_dir=tmp_path)
    assert str(error.value) == (f"The segmentation cache {tmp_path / 'segmented.sqlite'} cannot be used (file is not "
                                "a database): delete it (it is only a cache), give another --cache-dir, or use --no-cache.")


# --- errors ------------------------------------------------------------------------

def test_error_no_records(tmp_path):
    source = tmp_path / "empty.jsonl"
    source.write_text("", encoding="utf-8")
    with pytest.raises(TrainingError) as error:
        train([str(source)], tmp_path / "m")
    assert str(error.value) == "No records in the training corpus."


def test_error_no_labelled_records(tmp_path):
    records = [{"title": title, "text": "", "labels": []} for title, _ in MULTI[:5]]
    with pytest.raises(TrainingError) as error:
        train([write_jsonl(tmp_path / "a.jsonl", records)], tmp_path / "m")
    assert str(error.value) == (
        "No labelled records: none of the 5 records has a topic in 'labels'. "
        "Label some records (e.g. \"labels\": [\"bau-cu\"]) or name another field with --label-field."
    )


def test_error_unknown_label_field(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", single_records())
    with pytest.raises(TrainingError) as error:
        train([source], tmp_path / "m", label_field="topic")
    assert str(error.value) == (
        "No record has a 'topic' field (fields found: id, title, text, label). "
        "Name the field that holds the topics with --label-field."
    )


def test_error_single_class(tmp_path):
    records = [{"title": title, "text": "", "label": "the-thao"} for title, _ in SINGLE[:6]]
    with pytest.raises(TrainingError) as error:
        train([write_jsonl(tmp_path / "a.jsonl", records)], tmp_path / "m", label_field="label")
    assert str(error.value) == (
        "Only one label in the training data ('the-thao' on all 6 records): "
        "a classifier needs at least two. Add records of other labels."
    )


def test_error_label_on_every_record(tmp_path):
    records = [{"title": title, "text": "", "labels": ["an-sinh"]} for title, _ in MULTI[:6]]
    with pytest.raises(TrainingError) as error:
        train([write_jsonl(tmp_path / "a.jsonl", records)], tmp_path / "m")
    assert str(error.value) == (
        "Label 'an-sinh' is on every one of the 6 records, so nothing tells it apart: "
        "add records without it (an article may have no label: \"labels\": [])."
    )


def test_error_label_seen_once(tmp_path):
    records = single_records() + [{"id": "odd", "title": "Phim mới ra rạp", "text": "", "label": "van-hoa"}]
    source = write_jsonl(tmp_path / "a.jsonl", records)
    with pytest.raises(TrainingError) as error:
        train([source], tmp_path / "m", label_field="label")
    assert str(error.value) == (
        f"Label seen only once: 'van-hoa' ({source}:{len(records)}). "
        "Each label needs at least 2 records (10 or more for useful figures): add records or remove the label."
    )


def test_error_nothing_to_evaluate_on(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", single_records())
    with pytest.raises(TrainingError) as error:
        train([source], tmp_path / "m", label_field="label", eval_split=0)
    assert str(error.value) == (
        "Nothing to evaluate the model on: use --eval-split (e.g. 0.2), --eval CORPUS or --cv K."
    )


# --- loading safely ----------------------------------------------------------------

@pytest.fixture
def model_copy(single_model, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(single_model.path, target)
    return target


def test_missing_model(tmp_path):
    with pytest.raises(ModelError) as error:
        load_model(tmp_path / "nowhere")
    assert str(error.value) == (
        f"No topic model at {tmp_path / 'nowhere'}. Train one: mttq-nlp train CORPUS --out {tmp_path / 'nowhere'}"
    )


def test_default_model_from_environment(model_copy, monkeypatch):
    monkeypatch.setenv("MTTQ_NLP_MODEL", str(model_copy))
    assert load_model().path == model_copy


def test_default_model_is_the_bundled_front_model(monkeypatch):
    monkeypatch.delenv("MTTQ_NLP_MODEL", raising=False)
    folder = classify.default_model_dir()
    assert folder.name == "front-topics" and folder.parent.joinpath("__init__.py").is_file()


def test_corrupted_model_file_is_refused(model_copy):
    path = model_copy / "model.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError) as error:
        load_model(model_copy)
    assert str(error.value).startswith(
        f"{path} does not match the sha256 in model.json: the file is corrupted or was changed, "
        "and it is not loaded (model files run code when loaded). Retrain it with: "
    )


class _Payload:
    """Unpickling this writes a file: proof that a tampered model ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "ran"))


def test_tampered_model_file_is_not_unpickled(model_copy, tmp_path):
    marker = tmp_path / "pwned"
    (model_copy / "model.joblib").write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(ModelError, match="does not match the sha256"):
        load_model(model_copy)
    assert not marker.exists()


def test_missing_joblib_file(model_copy):
    (model_copy / "model.joblib").unlink()
    with pytest.raises(ModelError) as error:
        load_model(model_copy)
    assert str(error.value).startswith(f"{model_copy / 'model.joblib'} is missing. Retrain it with: ")


def test_corrupted_card(model_copy):
    (model_copy / "model.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"model.json is corrupted .*Retrain it with: mttq-nlp train CORPUS --out"):
        load_model(model_copy)


def test_other_scikit_learn_version_is_refused(model_copy):
    card = json.loads((model_copy / "model.json").read_text(encoding="utf-8"))
    card["versions"]["scikit-learn"] = "0.24.2"
    card["command"] = "mttq-nlp train s.jsonl --out copy --label-field label"
    (model_copy / "model.json").write_text(json.dumps(card), encoding="utf-8")
    import sklearn

    with pytest.raises(ModelError) as error:
        load_model(model_copy)
    assert str(error.value) == (
        f"{model_copy} was made with scikit-learn 0.24.2 and this is scikit-learn {sklearn.__version__}: "
        "models do not load safely across versions. "
        "Retrain it with: mttq-nlp train s.jsonl --out copy --label-field label (or install scikit-learn==0.24.2)"
    )


def test_atomic_write_keeps_the_old_model_when_saving_fails(single_model, model_copy, monkeypatch):
    import joblib

    before = {p.name: p.read_bytes() for p in model_copy.iterdir()}

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", fail)
    with pytest.raises(KeyboardInterrupt):
        classify.save_model(single_model, model_copy, single_model.card)
    assert {p.name: p.read_bytes() for p in model_copy.iterdir()} == before
    assert [p.name for p in model_copy.parent.iterdir() if p.name.startswith(".")] == []
    assert load_model(model_copy).labels_ == single_model.labels_


def test_saving_replaces_an_old_model(single_model, model_copy):
    classify.save_model(single_model, model_copy, {**single_model.card, "note": "second"})
    assert load_model(model_copy).card["note"] == "second"
    assert [p.name for p in model_copy.parent.iterdir() if p.name.startswith(".")] == []


def test_refuses_to_overwrite_a_folder_that_is_not_a_model(single_model, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ModelError, match="holds something other than a model"):
        classify.save_model(single_model, tmp_path / "docs", single_model.card)


# --- metrics and report --------------------------------------------------------------

def test_metrics_single_label():
    predictions = [Prediction(["a"], {"a": 0.9, "b": 0.1}), Prediction(["b"], {"a": 0.4, "b": 0.6}),
                   Prediction(["a"], {"a": 0.7, "b": 0.3})]
    metrics = compute_metrics(["a", "b", "b"], predictions, ["a", "b"], False)
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["confusion_matrix"] == {"labels": ["a", "b"], "matrix": [[1, 0], [1, 1]]}
    assert [row["support"] for row in metrics["per_label"]] == [1, 2]
    assert metrics["macro"]["f1"] == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_metrics_multi_label():
    predictions = [Prediction(["a"], {"a": 0.9, "b": 0.1}), Prediction([], {"a": 0.2, "b": 0.3}),
                   Prediction(["a", "b"], {"a": 0.8, "b": 0.7})]
    metrics = compute_metrics([["a"], ["b"], ["a"]], predictions, ["a", "b"], True)
    assert metrics["per_label_confusion"] == {"a": {"tp": 2, "fp": 0, "fn": 0, "tn": 1},
                                              "b": {"tp": 0, "fp": 1, "fn": 1, "tn": 1}}
    assert metrics["micro"]["precision"] == pytest.approx(2 / 3) and metrics["exact_match"] == pytest.approx(1 / 3)


def test_report_is_self_contained_and_escaped():
    predictions = [Prediction(["<script>"], {"<script>": 0.9, "b&c": 0.1}), Prediction(["b&c"], {"<script>": 0.2, "b&c": 0.8})]
    metrics = compute_metrics(["<script>", "b&c"], predictions, ["<script>", "b&c"], False)
    page = render_report(metrics, {"created": "2026-01-01"})
    assert "<script>" not in page and "&lt;script&gt;" in page and "b&amp;c" in page
    assert "<svg" in page and "<style>" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


# --- property: saving and loading never change a prediction ------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80), min_size=1, max_size=4))
def test_save_load_identical_predictions_property(multi_model, texts):
    loaded = _loaded(multi_model)
    segmented = segment_texts(texts)
    assert loaded.predict_segmented(segmented) == multi_model.predict_segmented(segmented)


_LOADED = {}


def _loaded(model):
    if model.path not in _LOADED:
        _LOADED[model.path] = load_model(model.path)
    return _LOADED[model.path]


def test_error_label_too_rare_after_the_hold_out(tmp_path):
    records = single_records() + [{"title": t, "text": "", "label": "van-hoa"}
                                  for t in ("Phim mới ra rạp", "Triển lãm tranh sơn mài")]
    with pytest.raises(TrainingError) as error:
        train([write_jsonl(tmp_path / "a.jsonl", records)], tmp_path / "m", label_field="label", eval_split=0.5)
    assert str(error.value) == (
        "After holding out records for evaluation, 'van-hoa' has fewer than 2 training records. "
        "Add records of these labels, or evaluate on a separate corpus with --eval."
    )
