import unicodedata

import pytest

from mttq_nlp import text as vi
from mttq_nlp.errors import QueryError
from mttq_nlp.search import Searcher, make_snippet


@pytest.fixture(scope="module")
def searcher(index_dir):
    with Searcher(index_dir) as s:
        yield s


def ids(searcher, query, **options):
    return [hit.id for hit in searcher.search(query, limit=20, **options).hits]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("phản biện", "pb-1"),
        ("phan bien", "pb-1"),  # no diacritics
        ("PHẢN BIỆN", "pb-1"),  # capitals
        (unicodedata.normalize("NFD", "phản biện"), "pb-1"),  # decomposed query
        ("hòa giải", "nfd-1"),  # decomposed document
        ("hoà giải", "nfd-1"),  # old tone placement in the query
        ("thủy lợi", "old-tone"),  # old placement in the document, new in the query
        ("THUỶ LỢI", "old-tone"),
        ("Dang", "dang"),  # đ folds to d
        ("đảng bộ", "dang"),
        ("đại hội đại biểu", "caps"),  # ALL CAPS title
        ("ĐẠI HỘI MẶT TRẬN", "caps"),
        ("y tế", "y-te"),  # one-letter words are words
        ("Đại hội X", "y-te"),
        ("an ninh", "dang"),
    ],
)
def test_vietnamese_pitfalls(searcher, query, expected):
    assert ids(searcher, query)[0] == expected


def test_abbreviations_match_long_forms_both_ways(searcher):
    assert "abbr-long" in ids(searcher, "UBND")  # only "Ủy ban nhân dân" in it
    assert "abbr-short" in ids(searcher, "ủy ban nhân dân")  # only "UBND" in it
    assert "abbr-long" in ids(searcher, "HĐND tỉnh")
    assert "caps" in ids(searcher, "MTTQ")  # "MẶT TRẬN TỔ QUỐC" in its title


FRONT_WRITINGS = [
    {"id": "short", "title": "Hội nghị Ủy ban MTTQ xã", "text": "Ủy ban MTTQ xã họp tổng kết năm."},
    {"id": "joined", "title": "UBMTTQ huyện trao quà", "text": "UBMTTQ huyện trao 300 suất quà."},
    {"id": "national", "title": "MTTQVN phát động ủng hộ", "text": "MTTQVN phát động ủng hộ đồng bào."},
    {"id": "long", "title": "Mặt trận Tổ quốc phường ra mắt", "text": "Ủy ban Mặt trận Tổ quốc phường họp."},
    {"id": "investment", "title": "Thu hút đầu tư vào khu công nghiệp", "text": "Vốn đầu tư tăng."},
    {"id": "central", "title": "Hội nghị Trung ương", "text": "Ban Chấp hành Trung ương họp."},
]


def _searcher_of(tmp_path_factory, records):
    """A searcher over an index of ``records`` alone."""
    from conftest import write_jsonl
    from mttq_nlp.index import index_corpus

    folder = tmp_path_factory.mktemp("index")
    index_corpus([write_jsonl(folder / "a.jsonl", records)], folder / "ix")
    return Searcher(folder / "ix")


@pytest.fixture(scope="module")
def writings(tmp_path_factory):
    with _searcher_of(tmp_path_factory, FRONT_WRITINGS) as s:
        yield s


@pytest.mark.parametrize("query", ["mặt trận", "mat tran", "MẶT TRẬN", "Mặt trận Tổ quốc", "MTTQ"])
def test_every_writing_of_the_front_is_found(writings, query):
    assert set(ids(writings, query)) == {"short", "joined", "national", "long"}


def test_joined_and_spaced_abbreviations_find_each_other(writings):
    assert set(ids(writings, "UBMTTQ")) == {"short", "joined", "long"}
    assert set(ids(writings, "Ủy ban Mặt trận")) >= {"short", "joined", "long"}
    assert ids(writings, "Ủy ban Mặt trận")[-1] not in {"short", "joined", "long"}  # "national": no "ủy ban"


def test_abbreviation_found_for_a_long_form_is_highlighted(writings):
    hit = next(h for h in writings.search("mặt trận").hits if h.id == "joined")
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["UBMTTQ"]


NAMES_RANKED = [
    {"id": "spaced", "title": "Chủ tịch Ủy ban MTTQ huyện trao quà",
     "text": "Chủ tịch Ủy ban MTTQ huyện trao 200 suất quà cho hộ nghèo."},
    {"id": "name-elsewhere", "title": "Kỷ niệm Ngày truyền thống Mặt trận Tổ quốc Việt Nam",
     "text": "Ủy ban Mặt trận Tổ quốc Việt Nam các cấp kỷ niệm ngày truyền thống; huyện tổ chức mít tinh."},
    {"id": "ubnd-title", "title": "UBND xã tiếp công dân",
     "text": "UBND xã tiếp công dân định kỳ, nghe kiến nghị về đường giao thông."},
    {"id": "fragments", "title": "Ban Thanh tra nhân dân xã phát hiện sai sót",
     "text": "Ban Thanh tra nhân dân xã kiến nghị Ủy ban nhân dân xã thu hồi khoản chi sai."},
    {"id": "scattered", "title": "Ủy ban MTTQ phường lấy ý kiến Nhân dân",
     "text": "Ủy ban MTTQ phường lấy ý kiến Nhân dân về đặt tên đường; Nhân dân đồng tình."},
    {"id": "hdnd-title", "title": "HĐND tỉnh họp chuyên đề",
     "text": "HĐND tỉnh họp chuyên đề về đầu tư công."},
    {"id": "htx-long", "title": "Hợp tác xã rau sạch chia lãi cho thành viên",
     "text": "Ông là chủ nhiệm hợp tác xã rau sạch của xã, năm nay chia lãi cao."},
    {"id": "htx-short", "title": "HTX rau sạch mở rộng sản xuất",
     "text": "HTX rau sạch của xã mở rộng diện tích, thu hút thêm thành viên."},
    {"id": "htx-scattered", "title": "Xã hợp tác với doanh nghiệp tiêu thụ rau",
     "text": "Xã hợp tác với doanh nghiệp; hai bên hợp tác lâu dài, xã cam kết vùng trồng."},
]


@pytest.fixture(scope="module")
def names_ranked(tmp_path_factory):
    with _searcher_of(tmp_path_factory, NAMES_RANKED) as s:
        yield s


def test_another_writing_ranks_by_its_neighbours_too(names_ranked):
    # "Ủy ban MTTQ huyện" side by side beats the long form in a title with "huyện" elsewhere
    assert ids(names_ranked, "UBMTTQ huyện")[0] == "spaced"


def test_a_long_form_counts_as_a_name_not_as_scattered_syllables(names_ranked):
    # "Ban Thanh tra nhân dân xã" holds "ban", "nhân", "dân", "xã" of "UBND xã", not the name
    assert ids(names_ranked, "UBND xã")[0] == "ubnd-title"


@pytest.mark.parametrize("query, named", [
    ("ủy ban nhân dân", {"ubnd-title", "fragments"}),
    ("uy ban nhan dan", {"ubnd-title", "fragments"}),
    ("ỦY BAN NHÂN DÂN", {"ubnd-title", "fragments"}),
    ("hội đồng nhân dân", {"hdnd-title"}),
])
def test_a_long_form_query_ranks_its_name_above_its_scattered_syllables(names_ranked, query, named):
    # "Ủy ban MTTQ ... Nhân dân" has every syllable of "ủy ban nhân dân", in its title
    # too, but not the name; "UBND" and "Ủy ban nhân dân" are the name
    ranked = ids(names_ranked, query)
    assert set(ranked[:len(named)]) == named
    assert "scattered" in ranked


@pytest.mark.parametrize("query", ['"ủy ban nhân dân xã"', '"UBND xã"', '"uy ban nhan dan xa"'])
def test_a_quoted_name_is_found_in_its_other_writings(names_ranked, query):
    hits = names_ranked.search(query).hits
    assert {h.id for h in hits} == {"ubnd-title", "fragments"}
    for hit in hits:  # and highlighted in the writing found
        assert [vi.fold(hit.snippet[a:b]).lower() for a, b in hit.highlights] in (["ubnd xa"], ["uy ban nhan dan xa"])


@pytest.mark.parametrize("query", ["hợp tác xã", "hop tac xa", "HỢP TÁC XÃ"])
def test_a_name_the_documents_hold_as_one_word_counts_as_a_name(names_ranked, query):
    # "hợp tác xã" is not in the Front dictionary, but the segmenter keeps it whole
    ranked = ids(names_ranked, query)
    assert set(ranked[:2]) == {"htx-long", "htx-short"} and ranked[2] == "htx-scattered"


def test_an_abbreviation_finds_its_long_form_side_by_side_not_scattered(names_ranked):
    assert set(ids(names_ranked, "HTX")) == {"htx-long", "htx-short"}  # not "hợp tác ... xã"


LONG_FORMS_SPLIT = [
    # the segmenter splits "Ban Chỉ đạo" ("Ban", "Chỉ_đạo"); its syllables still stand side by side
    {"id": "bcd-long", "title": "Ban Chỉ đạo phòng chống thiên tai huyện họp",
     "text": "Ban Chỉ đạo phòng chống thiên tai huyện họp triển khai phương án."},
    {"id": "bcd-short", "title": "BCĐ huyện kiểm tra đê điều", "text": "BCĐ huyện kiểm tra đê điều trước mùa mưa."},
    {"id": "bcd-scattered", "title": "Ban tổ chức chỉ rõ yêu cầu",
     "text": "Ban tổ chức chỉ rõ yêu cầu; lãnh đạo huyện đồng ý."},
]


def test_an_abbreviation_finds_a_long_form_the_segmenter_splits(tmp_path_factory):
    with _searcher_of(tmp_path_factory, LONG_FORMS_SPLIT) as s:
        assert set(ids(s, "BCĐ")) == {"bcd-long", "bcd-short"}
        assert set(ids(s, "bcd")) == {"bcd-long", "bcd-short"}


SPLIT_NAMES = [
    # the segmenter splits "Liên đoàn Lao động" ("Liên_đoàn Lao_động" or other ways)
    {"id": "ldld-long", "title": "Công đoàn cơ sở ra mắt", "text": "Liên đoàn Lao động huyện thăm công nhân."},
    {"id": "ldld-short", "title": "LĐLĐ tỉnh trao quà", "text": "LĐLĐ tỉnh trao quà Tết cho công nhân."},
    {"id": "ldld-scattered", "title": "Đoàn công tác động viên người lao động",
     "text": "Đoàn công tác liên tục động viên người lao động; liên hoan cuối năm."},
]


@pytest.mark.parametrize("query", ["liên đoàn lao động", "LIÊN ĐOÀN LAO ĐỘNG", "lien doan lao dong"])
def test_a_name_the_segmenter_splits_ranks_above_its_scattered_syllables(tmp_path_factory, query):
    with _searcher_of(tmp_path_factory, SPLIT_NAMES) as s:
        ranked = ids(s, query)
    assert set(ranked[:2]) == {"ldld-long", "ldld-short"} and ranked[2] == "ldld-scattered"


NAME_EDGES = [
    {"id": "ubnd-xa-body", "title": "Làm đường giao thông nông thôn",
     "text": "Thôn Đông họp dân bàn làm đường; UBND xã hỗ trợ xi măng, người dân góp công."},
    {"id": "ubnd-tinh-title", "title": "UBND tỉnh họp phiên thường kỳ tháng Ba",
     "text": "UBND tỉnh họp bàn kế hoạch đầu tư; nhiều xã vùng cao được ưu tiên vốn."},
    {"id": "xa-title", "title": "Xã vùng cao đón Tết", "text": "UBND huyện thăm hỏi, tặng quà các hộ nghèo của xã."},
    {"id": "mttq-phuong-body", "title": "Ra mắt tổ dân phố mới",
     "text": "Ủy ban MTTQ phường dự lễ ra mắt tổ dân phố sau sắp xếp."},
    {"id": "mttq-tinh-title", "title": "Ủy ban MTTQ tỉnh tổng kết năm",
     "text": "Ủy ban MTTQ tỉnh tổng kết công tác năm; nhiều phường, xã làm tốt."},
]


@pytest.mark.parametrize("query, first", [
    ("UBND xã", "ubnd-xa-body"), ("ủy ban nhân dân xã", "ubnd-xa-body"), ("uy ban nhan dan xa", "ubnd-xa-body"),
    ("Ủy ban MTTQ phường", "mttq-phuong-body"), ("Ủy ban Mặt trận Tổ quốc phường", "mttq-phuong-body"),
])
def test_a_name_beside_a_word_ranks_first_where_they_stand_together(tmp_path_factory, query, first):
    # the name in the title and the word elsewhere is not "UBND xã"
    with _searcher_of(tmp_path_factory, NAME_EDGES) as s:
        assert ids(s, query)[0] == first


PHRASE_PLACES = [
    {"id": "scattered-title", "title": "Xã hội hóa nguồn lực, phản biện chính sách",
     "text": "Hội nghị bàn về xã hội hóa. Mặt trận tổ chức phản biện xã hội dự thảo đề án xã hội hóa "
             "nguồn lực, phản biện chính sách của tỉnh."},
    {"id": "phrase-title", "title": "Phản biện xã hội dự thảo đề án",
     "text": "Mặt trận tỉnh tổ chức hội nghị phản biện xã hội dự thảo đề án về nguồn lực."},
]


def test_a_quoted_phrase_ranks_first_where_the_title_holds_it(tmp_path_factory):
    with _searcher_of(tmp_path_factory, PHRASE_PLACES) as s:
        assert ids(s, '"phản biện xã hội"') == ["phrase-title", "scattered-title"]


def test_words_are_not_read_as_abbreviations(writings):
    assert ids(writings, "đầu tư") == ["investment"]
    assert ids(writings, "trung ương") == ["central"]


def test_exact_diacritics_rank_first(searcher):
    ranked = ids(searcher, "bàn")
    assert ranked[0] == "ban-exact"
    assert {"ban-friend", "ban-plain"} <= set(ranked[1:])
    assert ids(searcher, "bạn")[0] == "ban-friend"


def test_all_words_rank_above_some_but_some_are_found(searcher):
    ranked = ids(searcher, "quỹ vắc xin hòa giải")
    assert ranked[0] in {"covid", "nfd-1"}
    # no article has all four words; both partial matches are found
    assert {"covid", "nfd-1"} <= set(ranked)
    ranked = ids(searcher, "kênh thủy lợi bàn ghế")
    assert set(ranked[:2]) == {"old-tone", "ban-exact"}
    assert ids(searcher, "thủy lợi sức khỏe")[0] == "old-tone"


def test_phrases_across_segmentation(searcher):
    assert ids(searcher, '"phản biện xã hội"') == ["pb-1"]
    assert ids(searcher, '"phan bien xa hoi"') == ["pb-1"]
    assert ids(searcher, '"xã hội dự thảo"') == ["pb-1"]  # crosses word boundaries
    assert ids(searcher, '"biện phản"') == []


def test_boolean_operators_and_fields(searcher):
    assert set(ids(searcher, "quyên góp AND hộ nghèo")) == {"covid"}
    assert set(ids(searcher, "bàn ghế OR bạn đọc")) >= {"ban-exact", "ban-friend"}
    assert "covid" not in ids(searcher, "Mặt trận NOT covid")
    assert ids(searcher, "title:phản biện") == ["pb-1"]
    assert set(ids(searcher, "góp source:\"Trang tin phường\"")) == {"covid"}
    assert set(ids(searcher, "topic:an-sinh")) == {"old-tone", "ban-exact", "covid"}


WHOLE_WORDS = [
    {"id": "both", "title": "Hội nghị phản biện dự thảo ở xã", "text": "Xã tổ chức phản biện dự thảo."},
    {"id": "syllable", "title": "Xã phản hồi ý kiến cử tri", "text": "Xã phản hồi kiến nghị của cử tri."},
    {"id": "other", "title": "Biện pháp phòng dịch", "text": "Các biện pháp phòng dịch."},
    {"id": "body-only", "title": "Tin tức", "text": "Biện pháp giữ vệ sinh."},
]


def test_not_and_title_take_a_whole_word(tmp_path_factory):
    # "NOT phản biện" excludes the word, not the syllable "phản", and "biện" is not a
    # word to find; "title:phản biện" looks for both syllables in the title
    with _searcher_of(tmp_path_factory, WHOLE_WORDS) as s:
        assert ids(s, "xã NOT phản biện") == ["syllable"]
        assert ids(s, "xa NOT phan bien") == ["syllable"]
        assert "body-only" not in ids(s, "title:phản biện")
        assert ids(s, "title:phản biện")[0] == "both"


def test_filters(searcher):
    assert set(ids(searcher, "bàn", since="2020-08-02", until="2020-08-03")) == {"ban-friend", "ban-plain"}
    # a year or a month, and the day first as Vietnamese write it
    assert set(ids(searcher, "bàn", since="02/08/2020", until="3/8/2020")) == {"ban-friend", "ban-plain"}
    in_2020 = {"ban-exact", "ban-friend", "ban-plain"}
    assert set(ids(searcher, "bàn", since="2020", until="2020")) == in_2020
    assert set(ids(searcher, "bàn", since="2020-08", until="08/2020")) == in_2020
    with pytest.raises(QueryError, match="--since 2020-08-02 is after --until 2020-07"):
        searcher.search("bàn", since="2020-08-02", until="2020-07")
    assert set(ids(searcher, "bàn", topics=["to-chuc"])) == {"ban-plain", "caps"}  # caps: "Ủy ban"
    assert ids(searcher, "góp", sources=["trang tin phuong"]) == ["covid"]  # accent- and case-insensitive
    with pytest.raises(QueryError, match=r"--since: '2020-13-01' is not a date; use YYYY-MM-DD"):
        searcher.search("bàn", since="2020-13-01")


def test_facets_count_the_whole_result_set(searcher):
    result = searcher.search("góp", limit=1, facets=True)
    assert result.total == len(ids(searcher, "góp"))
    assert len(result.hits) == 1
    assert sum(result.facets["year"].values()) == result.total
    # góp: "covid" (quyên góp), "ban-exact" (góp tiền), "old-tone" (góp công)
    assert result.facets["topic"]["an-sinh"] == 3


def test_pagination(searcher):
    everything = ids(searcher, "xã")
    assert len(everything) > 3
    page2 = [hit.id for hit in searcher.search("xã", limit=2, page=2).hits]
    assert page2 == everything[2:4]


def test_hit_fields_and_highlighted_snippet(searcher):
    hit = searcher.search("phan bien").hits[0]
    assert (hit.id, hit.date, hit.source, hit.topics) == ("pb-1", "2023-03-14", "Bản tin Mặt trận", ["phan-bien"])
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["phản biện"]


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "AND", "OR OR", "NOT", "(((", ")", "title:", "topic:", "🙂🇻🇳", "x" * 10_000,
     "phản " * 2000, "\x00\x01", "ؤمن", "a:b:c", '""'],
    ids=lambda q: repr(q[:12]),
)
def test_any_query_is_accepted(searcher, query):
    result = searcher.search(query)
    assert result.total >= 0


def test_snippet_window_and_spans():
    body = "Mở đầu. " * 60 + "Hội nghị phản biện xã hội diễn ra sôi nổi." + " Kết thúc." * 60
    snippet, spans = make_snippet(body, [["phan", "bien"]])
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert [snippet[a:b] for a, b in spans] == ["phản biện"]


def test_an_article_without_a_body_does_not_upset_ranking(tmp_path):
    from conftest import ARTICLES, write_jsonl
    from mttq_nlp.index import index_corpus

    records = ARTICLES[:3] + [{"id": "title-only", "title": "Phản biện xã hội", "text": ""}]
    index_corpus([write_jsonl(tmp_path / "a.jsonl", records)], tmp_path / "ix")
    with Searcher(tmp_path / "ix") as searcher:
        result = searcher.search("phản biện xã hội")
    assert {hit.id for hit in result.hits[:2]} == {"pb-1", "title-only"}
    assert all(hit.score == hit.score for hit in result.hits)  # no NaN


DATED = [
    {"id": "2021", "title": "Cử tri đi bầu cử đại biểu Quốc hội", "text": "Ngày bầu cử diễn ra an toàn.",
     "date": "2021-05-23", "labels": ["bau-cu"]},
    {"id": "2016", "title": "Hiệp thương lần thứ ba", "text": "Lập danh sách người ứng cử, chuẩn bị bầu cử.",
     "date": "2016-03-15", "labels": ["bau-cu"]},
    {"id": "undated", "title": "Tuyên truyền về bầu cử", "text": "Thôn tổ chức tuyên truyền bầu cử."},
    # "bầu" and "cử" apart, and the newest: every syllable, not the word
    {"id": "scattered", "title": "Đại hội Hội Nông dân xã", "text": "Đại hội bầu Ban Chấp hành và cử đoàn dự đại hội.",
     "date": "2026-01-10"},
    {"id": "ubnd", "title": "UBND xã họp về bầu cử", "text": "UBND xã giao nhiệm vụ chuẩn bị bầu cử.",
     "date": "2020-12-01"},
    {"id": "hiep-thuong", "title": "Hội nghị hiệp thương", "text": "Hiệp thương giới thiệu người ứng cử.",
     "date": "2025-11-02", "labels": ["bau-cu"]},
]


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    with _searcher_of(tmp_path_factory, DATED) as s:
        yield s


def test_sort_by_date_lists_the_articles_with_every_word(dated):
    assert "scattered" in ids(dated, "bầu cử")  # ranked: a missing word is allowed
    assert ids(dated, "bầu cử", sort="newest") == ["2021", "ubnd", "2016", "undated"]
    assert ids(dated, "bau cu", sort="oldest") == ["2016", "ubnd", "2021", "undated"]  # undated last both ways
    result = dated.search("bầu cử", sort="newest", facets=True)
    assert (result.total, result.sort, sum(result.facets["year"].values())) == (4, "newest", 3)


def test_sort_by_date_keeps_names_and_operators(dated):
    assert ids(dated, "ủy ban nhân dân", sort="newest") == ["ubnd"]  # a name in another writing
    assert ids(dated, "hiệp thương OR ủy ban nhân dân", sort="newest") == ["hiep-thuong", "ubnd", "2016"]
    assert ids(dated, "bầu cử NOT hiệp thương", sort="oldest") == ["ubnd", "2021", "undated"]
    assert ids(dated, "zzz bầu cử", sort="newest") == []


def test_filters_alone_list_newest_first(dated):
    result = dated.search("", topics=["bau-cu"])
    assert result.sort == "newest"
    assert [hit.id for hit in result.hits] == ["hiep-thuong", "2021", "2016"]
    assert [hit.id for hit in dated.search("topic:bau-cu", sort="oldest").hits] == ["2016", "2021", "hiep-thuong"]


def test_unknown_sort_is_an_error(dated):
    with pytest.raises(QueryError, match="--sort 'date' is not one of relevance, newest, oldest"):
        dated.search("bầu cử", sort="date")


def test_unknown_filters(searcher):
    assert searcher.unknown_filters("bàn topic:AN-SINH", sources=["bao tinh"]) == []  # case and marks do not matter
    assert searcher.unknown_filters("topic:an_sinh", topics=["covid-19", "x"], sources=["Báo Khác"]) == [
        ("topic", "x"), ("topic", "an_sinh"), ("source", "Báo Khác")]
