import json
import unicodedata

import pytest

from mttq_nlp.index import index_corpus

# A tiny corpus written for the tests: each article exercises one pitfall.
ARTICLES = [
    {"id": "pb-1", "title": "Hội nghị phản biện xã hội dự thảo Luật Đất đai",
     "text": "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh tổ chức hội nghị phản biện xã hội đối với dự thảo Luật Đất đai sửa đổi.\n"
             "Các chuyên gia góp ý nhiều nội dung về bồi thường, tái định cư.",
     "date": "2023-03-14", "source": "Bản tin Mặt trận", "labels": ["phan-bien"]},
    # stored decomposed (NFD), as some sources send it
    {"id": "nfd-1", "title": unicodedata.normalize("NFD", "Hòa giải ở cơ sở"),
     "text": unicodedata.normalize("NFD", "Tổ hòa giải thôn Đông giải quyết thành công nhiều vụ việc, giữ vững tình làng nghĩa xóm."),
     "date": "2019-07-02", "source": "Báo Tỉnh", "labels": []},
    {"id": "old-tone", "title": "Thuỷ lợi nội đồng",
     "text": "Bà con góp công làm kênh thuỷ lợi, sức khoẻ người cao tuổi được chăm lo.",
     "date": "2018-05-20", "source": "Báo Tỉnh", "labels": ["an-sinh"]},
    {"id": "caps", "title": "ĐẠI HỘI ĐẠI BIỂU MẶT TRẬN TỔ QUỐC HUYỆN THÀNH CÔNG TỐT ĐẸP",
     "text": "Đại hội đã hiệp thương cử Ủy ban MTTQ huyện nhiệm kỳ mới gồm 45 vị.",
     "date": "2024-06-11", "source": "Cổng thông tin huyện", "labels": ["to-chuc"]},
    {"id": "abbr-short", "title": "UBND xã tiếp công dân định kỳ",
     "text": "Chủ tịch UBND xã và đại diện MTTQ xã tiếp công dân, nghe kiến nghị về đường giao thông.",
     "date": "2021-09-09", "source": "Cổng thông tin huyện", "labels": ["giam-sat"]},
    {"id": "abbr-long", "title": "Hội đồng nhân dân tỉnh họp phiên thường lệ",
     "text": "Hội đồng nhân dân tỉnh thông qua nghị quyết về giáo dục; Ủy ban nhân dân tỉnh báo cáo.",
     "date": "2021-12-01", "source": "Báo Tỉnh", "labels": []},
    {"id": "dang", "title": "Học tập nghị quyết của Đảng",
     "text": "Đảng bộ xã tổ chức học tập, quán triệt nghị quyết; công tác an ninh trật tự được bảo đảm.",
     "date": "2022-01-15", "source": "Báo Tỉnh", "labels": []},
    {"id": "ban-exact", "title": "Kê bàn ghế cho điểm trường",
     "text": "Người dân góp tiền mua bàn ghế mới cho điểm trường bản.",
     "date": "2020-08-01", "source": "Báo Tỉnh", "labels": ["an-sinh"]},
    {"id": "ban-friend", "title": "Thư gửi bạn đọc",
     "text": "Tòa soạn cảm ơn bạn đọc đã gửi thư góp ý.",
     "date": "2020-08-02", "source": "Báo Tỉnh", "labels": []},
    {"id": "ban-plain", "title": "Ban công tác Mặt trận khu dân cư",
     "text": "Ban công tác Mặt trận họp định kỳ hằng tháng.",
     "date": "2020-08-03", "source": "Báo Tỉnh", "labels": ["to-chuc"]},
    {"id": "y-te", "title": "Trạm Y tế xã được nâng cấp",
     "text": "Trạm Y tế xã có thêm phòng khám; Đại hội X của Đảng đã nêu rõ chăm lo sức khỏe.",
     "date": "2017-04-04", "source": "Báo Tỉnh", "labels": []},
    {"id": "covid", "title": "Quyên góp ủng hộ Quỹ vắc xin phòng COVID-19",
     "text": "Mặt trận phường vận động quyên góp ủng hộ Quỹ vắc xin phòng COVID-19, trao quà cho hộ nghèo bị ảnh hưởng dịch bệnh.",
     "date": "2021-06-10", "source": "Trang tin phường", "labels": ["covid-19", "an-sinh"]},
]


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("corpus") / "articles.jsonl", ARTICLES)


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, corpus_file):
    """An index of ARTICLES, shared by read-only tests."""
    path = tmp_path_factory.mktemp("index")
    stats = index_corpus([str(corpus_file)], path)
    assert stats.indexed == len(ARTICLES)
    return path


@pytest.fixture(autouse=True)
def no_index_variable(monkeypatch):
    monkeypatch.delenv("MTTQ_NLP_INDEX", raising=False)
    monkeypatch.delenv("MTTQ_NLP_MODEL", raising=False)
