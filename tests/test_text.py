import unicodedata

import pytest

from mttq_nlp import text as vi


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("hoà", "hòa"),
        ("Hoà", "Hòa"),
        ("HOÀ", "HÒA"),
        ("thuỷ", "thủy"),
        ("THUỶ", "THỦY"),
        ("khoẻ", "khỏe"),
        ("hoà bình, thuỷ lợi", "hòa bình, thủy lợi"),
        ("quý", "quý"),  # u belongs to qu: the mark is already right
        ("hoàn", "hoàn"),  # closed syllable: only one placement
        ("khuỷu", "khuỷu"),
        ("hòa", "hòa"),  # new style stays
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_normalize_one_tone_placement(raw, expected):
    assert vi.normalize(raw) == expected


def test_normalize_nfd_and_invisible_characters():
    decomposed = unicodedata.normalize("NFD", "Mặt trận Tổ quốc")
    assert decomposed != "Mặt trận Tổ quốc"
    assert vi.normalize(decomposed) == "Mặt trận Tổ quốc"
    assert vi.normalize("phản\u200bbiện\u00a0xã\x07hội") == "phảnbiện xã hội"


def test_fold_keeps_offsets_and_folds_d():
    original = "Đảng ủy phản biện ĐÀ NẴNG"
    folded = vi.fold(original)
    assert folded == "Dang uy phan bien DA NANG"
    assert len(folded) == len(original)


def test_segment_keeps_case_and_dictionary_terms():
    words = vi.segment("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh tổ chức hội nghị")
    assert ["Mặt", "trận", "Tổ", "quốc", "Việt", "Nam"] in words or \
        ["Ủy", "ban", "Mặt", "trận", "Tổ", "quốc"] in words
    assert ["hội", "nghị"] in words


def test_segment_all_caps_like_lower_case():
    lower = vi.segmented("phản biện xã hội dự thảo luật đất đai")
    caps = vi.segmented("PHẢN BIỆN XÃ HỘI DỰ THẢO LUẬT ĐẤT ĐAI")
    assert caps.lower() == lower


def test_segment_old_and_new_tone_placement_alike():
    assert vi.segmented("Thuỷ lợi hoà bình") == vi.segmented("Thủy lợi hòa bình")


def test_terms_put_syllables_at_positions_and_words_at_their_first():
    assert vi.terms("phản_biện xã_hội MTTQ") == [
        (0, "phản_biện"), (0, "phản"), (1, "biện"),
        (2, "xã_hội"), (2, "xã"), (3, "hội"),
        (4, "mttq"),
    ]
    assert vi.terms("Đảng_bộ", folded=True) == [(0, "dang_bo"), (0, "dang"), (1, "bo")]


@pytest.mark.parametrize("word", ["an", "to", "Y", "X"])
def test_no_stopwords_and_no_minimum_length(word):
    assert (0, word.lower()) in vi.terms(vi.segmented(word))


def test_abbreviations_expand_both_ways():
    found = vi.expand_abbreviations(["mttq", "tỉnh"])
    assert (0, 1, ["mặt", "trận", "tổ", "quốc"]) in found
    found = vi.expand_abbreviations(["ủy", "ban", "nhân", "dân", "xã"])
    assert (0, 4, ["ubnd"]) in found
    # without diacritics, too
    assert (0, 4, ["ubnd"]) in vi.expand_abbreviations(["uy", "ban", "nhan", "dan"])
    assert (0, 1, ["hội", "đồng", "nhân", "dân"]) in vi.expand_abbreviations(["hdnd"])


@pytest.mark.parametrize("short, long", sorted(vi.abbreviations().items()))
def test_every_abbreviation_and_its_long_form_find_each_other(short, long):
    long = long.split()
    assert (0, 1, long) in vi.expand_abbreviations([short])
    assert (0, len(long), [short]) in vi.expand_abbreviations(long)
    assert (0, len(long), [short]) in vi.expand_abbreviations([vi.fold(w) for w in long])  # unmarked
    assert (0, 1, long) in vi.expand_abbreviations([vi.fold(short)])


def test_front_terms_kept_whole():
    assert vi.kept_whole(("ủy", "ban", "nhân", "dân"))
    assert "ủy_ban_nhân_dân" in vi.segmented("Chủ tịch Ủy ban nhân dân xã").lower()
    assert not vi.kept_whole(("nhân", "dân"))
    assert not vi.kept_whole(("mttq",))


def test_abbreviations_inside_longer_ones():
    # MTTQ is part of UBMTTQ and MTTQVN: a query for it finds them too
    found = vi.expand_abbreviations(["mttq"])
    assert (0, 1, ["ubmttq"]) in found and (0, 1, ["mttqvn"]) in found
    assert (0, 4, ["ubmttq"]) in vi.expand_abbreviations(["mặt", "trận", "tổ", "quốc"])
    # and UBMTTQ is often written "Ủy ban MTTQ", or the query mixes the two
    assert (0, 1, ["ủy", "ban", "mttq"]) in vi.expand_abbreviations(["ubmttq"])
    assert (0, 3, ["ubmttq"]) in vi.expand_abbreviations(["uy", "ban", "mttq"])
    assert (0, 6, ["mttq", "việt", "nam"]) in vi.expand_abbreviations(
        ["mặt", "trận", "tổ", "quốc", "việt", "nam"])


def test_the_start_or_end_of_a_long_form_stands_for_it_with_parts():
    for words in (["mặt", "trận"], ["mat", "tran"], ["MẶT", "TRẬN"]):
        words = [w.lower() for w in words]
        assert vi.expand_abbreviations(words) == []  # not a whole long form
        found = {tuple(alt) for _, _, alt in vi.expand_abbreviations(words, parts=True)}
        assert found == {("mttq",), ("ubmttq",), ("mttqvn",), ("ubmttqvn",)}
    assert (1, 3, ["ubnd"]) in vi.expand_abbreviations(["xã", "nhân", "dân"], parts=True)
    # a piece from the middle of a long form is not one
    assert vi.expand_abbreviations(["trận", "tổ"], parts=True) == []


def test_abbreviations_that_are_words_are_left_out():
    # "TƯ" (trung ương) is not in the table: "tư" is a word, as in "đầu tư"
    assert vi.expand_abbreviations(["đầu", "tư"], parts=True) == []
    assert all(alt != ["tư"] for _, _, alt in vi.expand_abbreviations(["trung", "ương"]))


@pytest.mark.parametrize(
    "raw, marked",
    [
        ("Ủy ban Mặt trận Tổ quốc tỉnh trao quà Tết", True),
        (unicodedata.normalize("NFD", "Ủy ban Mặt trận Tổ quốc tỉnh trao quà Tết"), True),
        ("ỦY BAN MTTQ TỈNH TRAO 500 SUẤT QUÀ", True),  # ALL CAPS, an abbreviation, a number
        ("Uy ban Mat tran To quoc tinh trao qua Tet", False),
        ("UY BAN MTTQ TINH TRAO 500 SUAT QUA", False),
        ("Uy ban MTTQ tỉnh trao qua Tet cho ho ngheo o xa vung cao", False),  # one stray mark
        ("", True),
        ("2024 - 12/5", True),  # no syllables: nothing to go on
    ],
)
def test_has_diacritics(raw, marked):
    assert vi.has_diacritics(raw) is marked



def test_a_long_line_is_segmented_a_few_sentences_at_a_time():
    sentence = "Ủy ban MTTQ xã phối hợp với UBND xã tổ chức hội nghị lấy ý kiến Nhân dân. "
    line = sentence * 400  # 30,000 characters on one line
    pieces = list(vi._pieces(line))
    assert "".join(pieces) == line
    assert len(pieces) > 5 and all(len(p) <= vi.LONG_LINE for p in pieces)
    assert all(p.endswith(". ") for p in pieces[:-1])  # cut after a sentence
    assert list(vi._pieces("x" * (vi.LONG_LINE + 10))) == ["x" * vi.LONG_LINE, "x" * 10]  # no space: a hard cut
    assert list(vi._pieces(sentence)) == [sentence]
    # every syllable is kept, in order
    assert [s for word in vi.segment(line) for s in word] == vi.syllables(line)
