"""The bundled Front topic model (models/front-topics): it loads, it tags the seed
article and obvious texts as the guideline says, and training is reproducible."""

import json
from pathlib import Path

import pytest

from mttq_nlp import text as vi
from mttq_nlp.classify import load_model, train
from mttq_nlp.corpus import Article, read_corpus
from mttq_nlp.topics import TOPIC_CODES

ROOT = Path(__file__).resolve().parent.parent
SEED_ARTICLE = ROOT.parent / "shared" / "seed" / "cum-thi-dua-dong-nam-bo-2021.txt"
CORPUS = ROOT / "corpus"

# Obvious texts written for these tests, one main subject each.
OBVIOUS = [
    ("bau-cu", "Hội nghị hiệp thương lần thứ ba lập danh sách người ứng cử đại biểu Quốc hội",
     "Ủy ban MTTQ tỉnh tổ chức hội nghị hiệp thương lần thứ ba, lập danh sách chính thức những người đủ "
     "tiêu chuẩn ứng cử đại biểu Quốc hội và đại biểu HĐND tỉnh.\nCác tổ bầu cử đã niêm yết danh sách cử tri "
     "đúng thời gian quy định. Cử tri được tạo điều kiện tìm hiểu về người ứng cử trước ngày bầu cử."),
    ("covid-19", "Mặt trận phường vận động ủng hộ Quỹ vắc xin phòng COVID-19",
     "Trong đợt dịch COVID-19 bùng phát, Ủy ban MTTQ phường phối hợp tổ COVID cộng đồng theo dõi các F0 "
     "điều trị tại nhà, hỗ trợ người dân trong khu phong tỏa.\nPhường đã tiêm vắc xin cho người dân trên 18 "
     "tuổi; việc giãn cách xã hội được thực hiện nghiêm."),
    ("phan-bien", "Hội nghị phản biện xã hội dự thảo nghị quyết về bảng giá đất",
     "Ban Thường trực Ủy ban MTTQ tỉnh tổ chức hội nghị phản biện xã hội đối với dự thảo nghị quyết của HĐND "
     "tỉnh quy định bảng giá đất.\nCác chuyên gia, luật sư góp ý nhiều nội dung của dự thảo, đề nghị cơ quan "
     "soạn thảo làm rõ căn cứ xác định giá đất ở nông thôn."),
    ("an-sinh", "Trao nhà Đại đoàn kết cho hộ nghèo",
     "Từ Quỹ Vì người nghèo, Ủy ban MTTQ huyện trao 20 căn nhà Đại đoàn kết cho hộ nghèo, hộ cận nghèo.\n"
     "Mỗi căn nhà được hỗ trợ 60 triệu đồng; các hộ được bàn giao nhà trước Tết. Huyện cũng trao quà cho "
     "các gia đình có hoàn cảnh khó khăn."),
]


def labels_of(model, title, text):
    return model.predict_texts([f"{title}\n{text}"])[0].labels


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_bundled_model_is_the_front_model(model):
    assert model.path.name == "front-topics"
    assert model.multilabel and sorted(model.labels_) == sorted(TOPIC_CODES)
    card = model.card
    corpus = Path(__file__).resolve().parent.parent / "corpus"
    records = sum(1 for f in corpus.glob("*.jsonl") for line in f.read_text(encoding="utf-8").splitlines() if line.strip())
    assert card["seed"] == 0 and card["training_data"]["count"] == records  # trained on all of corpus/
    assert card["command"].startswith("mttq-nlp train corpus/ --out models/front-topics")


@pytest.mark.skipif(not SEED_ARTICLE.exists(), reason=f"the seed article is not here ({SEED_ARTICLE}): "
                    "it lives in the shared folder beside the repository")
def test_seed_article_is_tagged_thi_dua(model):
    (article,) = [a for a in read_corpus([SEED_ARTICLE]) if isinstance(a, Article)]
    assert "thi-dua" in labels_of(model, article.title, article.text)


@pytest.mark.parametrize("code, title, text", OBVIOUS, ids=[o[0] for o in OBVIOUS])
def test_obvious_texts(model, code, title, text):
    assert labels_of(model, title, text)[:1] == [code]


@pytest.mark.parametrize("code, title, text", OBVIOUS, ids=[o[0] for o in OBVIOUS])
def test_obvious_texts_typed_without_diacritics(model, code, title, text):
    title, text = vi.fold(vi.normalize(title)).upper(), vi.fold(vi.normalize(text))  # and an ALL CAPS headline
    assert not vi.has_diacritics(f"{title}\n{text}")
    assert labels_of(model, title, text)[:1] == [code]


def test_unrelated_news_gets_no_topic(model):
    text = ("Một xe tải chở cát va chạm với xe máy trên quốc lộ 1A, làm một người bị thương nặng.\n"
            "Công an huyện đang điều tra làm rõ nguyên nhân vụ tai nạn.")
    assert labels_of(model, "Tai nạn giao thông trên quốc lộ 1A", text) == []


def test_training_twice_with_the_same_seed_gives_the_same_model(tmp_path):
    # a small slice and syllable features (no segmenter) keep this fast
    records = [json.loads(line) for path in sorted(CORPUS.glob("*.jsonl"))
               for line in path.read_text(encoding="utf-8").splitlines()[:24]]
    source = tmp_path / "slice.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    params = {"features": "syllables", "calibration_folds": 2, "threshold_folds": 2}
    cards = [train([source], tmp_path / f"model-{i}", eval_split=0.25, seed=7, params=params, cache_dir=None).card
             for i in (1, 2)]
    assert cards[0]["evaluation"]["metrics"] == cards[1]["evaluation"]["metrics"]
    assert cards[0]["thresholds"] == cards[1]["thresholds"]
    assert cards[0]["evaluation"]["unaccented"] == cards[1]["evaluation"]["unaccented"]
    assert cards[0]["training_data"] == cards[1]["training_data"]
    texts = [f"{r['title']}\n{r['text']}" for r in records[:10]]
    first, second = (load_model(tmp_path / f"model-{i}").predict_texts(texts) for i in (1, 2))
    assert [p.scores for p in first] == [p.scores for p in second]
