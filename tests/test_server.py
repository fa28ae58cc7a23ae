"""The web server (mttq_nlp.server): every API endpoint and error, and the HTML pages,
with FastAPI's test client over a small index of ARTICLES."""

import threading

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install '.[test]'")

from click.testing import CliRunner  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from conftest import ARTICLES, write_jsonl  # noqa: E402
from mttq_nlp import server  # noqa: E402
from mttq_nlp.cli import cli  # noqa: E402
from mttq_nlp.index import index_corpus  # noqa: E402
from mttq_nlp.search import Searcher  # noqa: E402
from mttq_nlp.server import SearchForm, create_app, highlight  # noqa: E402

XSS_TITLE = "Tin <script>alert('xss')</script> giả mạo"
XSS_ARTICLE = {
    "id": "xss-1", "title": XSS_TITLE,
    "text": "Bài viết thử <img src=x onerror=alert(1)> có thẻ <b>HTML</b> & ký tự đặc biệt; phản biện \"giả\".",
    "date": "2022-02-02", "source": "Nguồn <i>lạ</i>", "labels": ["phan-bien"],
}
WEB_ARTICLES = ARTICLES + [XSS_ARTICLE]

# A tiny labelled corpus (fictional) to train a model for the classify endpoint and page.
TRAINING = []
for i in range(6):
    TRAINING += [
        {"id": f"pb{i}", "title": f"Hội nghị phản biện xã hội dự thảo số {i}",
         "text": f"Mặt trận tổ chức phản biện xã hội, góp ý dự thảo nghị quyết lần {i}; "
                 "các chuyên gia phản biện nhiều nội dung.", "labels": ["phan-bien"]},
        {"id": f"as{i}", "title": f"Trao quà cho hộ nghèo xã {i}",
         "text": f"Quỹ Vì người nghèo trao quà, hỗ trợ nhà Đại đoàn kết cho hộ nghèo thôn {i}; "
                 "an sinh xã hội được chăm lo.", "labels": ["an-sinh"]},
        {"id": f"no{i}", "title": f"Tin thời tiết ngày {i}",
         "text": f"Trời nắng nhẹ, nhiệt độ cao nhất {30 + i} độ; chiều tối có mưa rào.", "labels": []},
    ]
CLASSIFY_TEXT = "Ủy ban MTTQ tỉnh tổ chức hội nghị phản biện xã hội, góp ý dự thảo nghị quyết về đất đai."


@pytest.fixture(scope="session")
def web_index(tmp_path_factory):
    """An index of ARTICLES and an article full of markup."""
    folder = tmp_path_factory.mktemp("web")
    stats = index_corpus([str(write_jsonl(folder / "a.jsonl", WEB_ARTICLES))], folder / "index")
    assert stats.indexed == len(WEB_ARTICLES)
    return folder / "index"


@pytest.fixture(scope="session")
def topic_model(tmp_path_factory):
    """A tiny topic model trained on TRAINING (two topics), or a skip if the
    classifier cannot train here."""
    classify = pytest.importorskip("mttq_nlp.classify")
    folder = tmp_path_factory.mktemp("model")
    source = write_jsonl(folder / "train.jsonl", TRAINING)
    classify.train([str(source)], folder / "model", eval_split=0.0, cv=2,
                   params={"min_df": 1, "calibration_folds": 2, "threshold_folds": 2})
    return folder / "model"


@pytest.fixture
def client(web_index, tmp_path):
    with TestClient(create_app(web_index, tmp_path / "no-model")) as test_client:
        yield test_client


@pytest.fixture
def no_index_client(tmp_path):
    with TestClient(create_app(tmp_path / "nothing", tmp_path / "no-model")) as test_client:
        yield test_client


# --- GET /api/search ----------------------------------------------------------------

def test_search_accent_insensitive_same_fields_as_search_json(client, web_index):
    response = client.get("/api/search", params={"q": "phan bien"})
    assert response.status_code == 200
    data = response.json()
    assert data["hits"][0]["id"] == "pb-1"
    with Searcher(web_index) as searcher:
        assert data == searcher.search("phan bien").to_dict()
    assert set(data) == {"query", "total", "page", "limit", "sort", "hits", "facets"}
    assert set(data["hits"][0]) == {"id", "score", "title", "date", "source", "url", "topics", "snippet", "highlights"}


@pytest.mark.parametrize("params, expected", [
    ({"q": "ban", "topic": "an-sinh"}, {"ban-exact"}),
    ({"q": "ban", "topic": ["an-sinh", "to-chuc"]}, {"ban-exact", "ban-plain", "caps"}),  # caps: Ủy ban
    ({"topic": "covid-19"}, {"covid"}),
    ({"q": "MTTQ", "source": "Cổng thông tin huyện"}, {"caps", "abbr-short"}),
    ({"q": "ban", "since": "2020-08-02", "until": "2020-08-02"}, {"ban-friend"}),
], ids=["topic", "two-topics", "topic-only", "source", "date-range"])
def test_search_filters(client, params, expected):
    response = client.get("/api/search", params=params)
    assert response.status_code == 200
    assert {hit["id"] for hit in response.json()["hits"]} == expected


def test_search_pages_and_facets(client):
    first = client.get("/api/search", params={"q": "ban", "limit": 2, "facets": "true"}).json()
    second = client.get("/api/search", params={"q": "ban", "limit": 2, "page": 2}).json()
    assert first["total"] == second["total"] >= 3
    assert (first["page"], first["limit"], len(first["hits"])) == (1, 2, 2)
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}
    assert set(first["facets"]) == {"topic", "source", "year"}
    assert first["facets"]["year"]["2020"] == 3
    assert second["facets"] is None


@pytest.mark.parametrize("params, message", [
    ({"q": "x", "since": "2021-13-01"},
     "since: '2021-13-01' is not a date; use YYYY-MM-DD, e.g. 2021-05-23 (also 2021, 2021-05 or 23/05/2021)."),
    ({"q": "x", "until": "hôm qua"},
     "until: 'hôm qua' is not a date; use YYYY-MM-DD, e.g. 2021-05-23 (also 2021, 2021-05 or 23/05/2021)."),
    ({"q": "x", "since": "2022-01-01", "until": "2021-01-01"}, "since 2022-01-01 is after until 2021-01-01."),
    ({"q": "x", "limit": 101}, "limit: Input should be less than or equal to 100"),
    ({"q": "x", "limit": 0}, "limit: Input should be greater than or equal to 1"),
    ({"q": "x", "page": 0}, "page: Input should be greater than or equal to 1"),
    ({"q": "x", "page": 101}, "page: Input should be less than or equal to 100"),
    ({"q": "x", "page": "two"}, "page: Input should be a valid integer, unable to parse string as an integer"),
    ({"q": "a" * 1001}, "q: String should have at most 1000 characters"),
], ids=["bad-since", "bad-until", "since-after-until", "limit-high", "limit-zero", "page-zero", "page-deep",
        "page-text", "long-query"])
def test_search_bad_parameters_are_400(client, params, message):
    response = client.get("/api/search", params=params)
    assert response.status_code == 400
    assert response.json() == {"detail": message}


def test_search_query_of_1000_characters_is_fine(client):
    response = client.get("/api/search", params={"q": "phan bien " * 100})
    assert response.status_code == 200
    assert response.json()["hits"][0]["id"] == "pb-1"


def test_search_too_many_filters_is_400(client):
    response = client.get("/api/search", params={"topic": ["a"] * 21})
    assert response.status_code == 400
    assert response.json() == {"detail": "topic: List should have at most 20 items after validation, not 21"}


# --- GET /api/articles/{id} -----------------------------------------------------------

def test_article(client):
    response = client.get("/api/articles/pb-1")
    assert response.status_code == 200
    article = response.json()
    assert article["title"] == "Hội nghị phản biện xã hội dự thảo Luật Đất đai"
    assert article["text"].startswith("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh")
    assert (article["date"], article["source"], article["topics"]) == ("2023-03-14", "Bản tin Mặt trận", ["phan-bien"])
    assert article["topics_given"] is True
    assert set(article) == {"id", "title", "text", "date", "source", "url", "topics", "topic_scores", "topics_given"}


def test_unknown_article_is_404(client):
    response = client.get("/api/articles/no-such-id")
    assert response.status_code == 404
    assert response.json() == {"detail": "No article with id 'no-such-id'."}


# --- no index: 503 saying how to build one ---------------------------------------------

@pytest.mark.parametrize("path", ["/api/search?q=x", "/api/articles/pb-1"])
def test_no_index_is_503(no_index_client, tmp_path, path):
    response = no_index_client.get(path)
    assert response.status_code == 503
    assert response.json() == {
        "detail": f"No index at {tmp_path / 'nothing'}. Run 'mttq-nlp index' first (or pass --index-dir)."}


def test_no_index_page_says_how_to_build_one(no_index_client):
    response = no_index_client.get("/?q=x")
    assert response.status_code == 503
    assert "Run &#39;mttq-nlp index&#39; first" in response.text


def test_index_built_while_serving_is_picked_up(tmp_path, monkeypatch):
    monkeypatch.setattr(server, "REFRESH_EVERY", 0.0)
    with TestClient(create_app(tmp_path / "index")) as client:
        assert client.get("/api/search", params={"q": "phan bien"}).status_code == 503
        index_corpus([str(write_jsonl(tmp_path / "a.jsonl", ARTICLES[:1]))], tmp_path / "index")
        assert client.get("/api/search", params={"q": "phan bien"}).json()["total"] == 1
        # articles added later are seen too: the shared searcher is refreshed
        index_corpus([str(write_jsonl(tmp_path / "b.jsonl", ARTICLES[1:]))], tmp_path / "index")
        assert client.get("/api/search", params={"q": "hoa giai"}).json()["hits"][0]["id"] == "nfd-1"


# --- POST /api/classify ---------------------------------------------------------------

def test_classify_without_model_is_503(client, tmp_path):
    response = client.post("/api/classify", json={"text": CLASSIFY_TEXT})
    assert response.status_code == 503
    assert response.json() == {
        "detail": f"No topic model at {tmp_path / 'no-model'}. Train one: mttq-nlp train CORPUS --out {tmp_path / 'no-model'}"}


@pytest.mark.parametrize("body, message", [
    ({}, "text: Field required"),
    ({"text": 5}, "text: Input should be a valid string"),
    ({"text": "x" * 50_001}, "text: String should have at most 50000 characters"),
], ids=["missing", "not-text", "too-long"])
def test_classify_bad_body_is_400(client, body, message):
    response = client.post("/api/classify", json=body)
    assert response.status_code == 400
    assert response.json() == {"detail": message}


@pytest.mark.parametrize("path", ["/api/classify", "/classify"])
@pytest.mark.parametrize("chunked", [False, True], ids=["with-length", "chunked"])
def test_huge_body_is_413(client, path, chunked):
    body = b"x" * 1_000_001
    content = (body[i:i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    response = client.post(path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body over 1,000,000 bytes."}


def test_chunked_body_within_the_limit_is_read(client):
    chunks = (part for part in [b'{"te', '"xt": "phản biện"}'.encode()[1:]])
    response = client.post("/api/classify", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 503  # read and parsed: only the model is missing


def test_classify_with_model(web_index, topic_model):
    with TestClient(create_app(web_index, topic_model)) as client:
        response = client.post("/api/classify", json={"text": CLASSIFY_TEXT})
    assert response.status_code == 200
    data = response.json()
    assert data["labels"] == ["phan-bien"]
    assert list(data["scores"]) == ["phan-bien", "an-sinh"]  # every label, best first
    assert data["scores"]["phan-bien"] > 0.5
    words = [word for word, weight in data["words"]["phan-bien"]]
    assert "phản biện xã hội" in words or "phản biện" in words
    assert all(weight > 0 for _, weight in data["words"]["phan-bien"])
    assert data["unaccented"] is False


def test_classify_text_without_diacritics(web_index, topic_model):
    unmarked = "Uy ban MTTQ tinh to chuc hoi nghi phan bien xa hoi, gop y du thao nghi quyet ve dat dai."
    with TestClient(create_app(web_index, topic_model)) as client:
        data = client.post("/api/classify", json={"text": unmarked}).json()
        page = client.post("/classify", data={"text": unmarked})
    assert data["unaccented"] is True
    assert data["labels"] == ["phan-bien"]
    assert "Văn bản gõ không dấu" in page.text


def test_classify_page_with_model(web_index, topic_model):
    with TestClient(create_app(web_index, topic_model)) as client:
        response = client.post("/classify", data={"text": CLASSIFY_TEXT})
    assert response.status_code == 200
    assert "Phản biện xã hội, góp ý" in response.text
    assert '<meter min="0" max="1"' in response.text


def test_classify_page_without_model_is_503(client):
    response = client.post("/classify", data={"text": CLASSIFY_TEXT})
    assert response.status_code == 503
    assert "Chưa có mô hình chủ đề (no model)" in response.text
    assert CLASSIFY_TEXT in response.text  # the text stays in the box


def test_classify_page_empty_text_is_400(client):
    response = client.post("/classify", data={"text": "   "})
    assert response.status_code == 400
    assert "Hãy dán một đoạn văn bản để phân loại." in response.text


# --- GET /api/health, OpenAPI -----------------------------------------------------------

def test_health(client, tmp_path):
    response = client.get("/api/health")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok"
    assert data["index"] == {"ok": True, "articles": len(WEB_ARTICLES)}
    assert data["model"]["ok"] is False and "No topic model" in data["model"]["error"]


def test_health_without_index(no_index_client):
    data = no_index_client.get("/api/health").json()
    assert data["status"] == "no index"
    assert "Run 'mttq-nlp index' first" in data["index"]["error"]


def test_openapi_and_docs(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/search", "/api/articles/{article_id}", "/api/classify", "/api/health"} <= set(spec["paths"])
    assert not any(path == "/" or path.startswith("/articles") for path in spec["paths"])  # pages are not API
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "GET /api/search" in docs.text and "cdn" not in docs.text.lower()


def test_read_only_routes(client):
    """No endpoint writes: only GET, and POST for classifying a text."""
    for route in client.app.routes:
        methods = getattr(route, "methods", None) or set()
        assert methods <= {"GET", "HEAD"} or route.path in ("/api/classify", "/classify"), route.path


def test_concurrent_requests_share_the_searcher(client):
    results, errors = [], []

    def ask():
        try:
            results.append(client.get("/api/search", params={"q": "phan bien"}).json()["total"])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and results == [results[0]] * 12


# --- pages ------------------------------------------------------------------------------

def test_search_page(client):
    response = client.get("/", params={"q": "phan bien"})
    assert response.status_code == 200
    html = response.text
    assert '<html lang="vi">' in html
    assert 'value="phan bien"' in html
    assert "kết quả cho “phan bien”" in html
    assert "<mark>phản biện</mark>" in html
    assert 'href="/articles/pb-1"' in html
    assert "2023-03-14" in html and "Bản tin Mặt trận" in html
    # facets with counts; a click adds the filter, and the query stays in the URL
    assert 'href="/?q=phan+bien&amp;topic=phan-bien"' in html
    assert 'href="/?q=phan+bien&amp;since=2023-01-01&amp;until=2023-12-31"' in html
    for header in ("Content-Security-Policy", "X-Content-Type-Options"):
        assert header in response.headers


def test_search_page_facet_second_click_removes(client):
    html = client.get("/", params={"q": "ban", "topic": "an-sinh"}).text
    assert 'class="on" aria-pressed="true" title="Bấm lần nữa để bỏ lọc"\n             href="/?q=ban"' in html
    html = client.get("/", params={"q": "ban", "since": "2020-01-01", "until": "2020-12-31"}).text
    assert 'aria-pressed="true" title="Bấm lần nữa để bỏ lọc"\n             href="/?q=ban"' in html


def test_search_page_pagination(client, monkeypatch):
    monkeypatch.setattr(server, "PAGE_SIZE", 2)
    html = client.get("/", params={"q": "ban", "page": "2"}).text
    assert 'rel="prev" href="/?q=ban"' in html
    assert 'rel="next" href="/?q=ban&amp;page=3"' in html
    assert '<span class="current" aria-current="page">2</span>' in html
    assert "(từ 3 đến 4)" in html


def test_search_sorted_by_date(client):
    data = client.get("/api/search", params={"q": "ban", "sort": "newest"}).json()
    dates = [hit["date"] for hit in data["hits"]]
    assert data["sort"] == "newest" and len(dates) > 2 and dates == sorted(dates, reverse=True)
    response = client.get("/api/search", params={"q": "ban", "sort": "date"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("sort: Input should be 'relevance', 'newest' or 'oldest'")


def test_search_page_sort_links(client, monkeypatch):
    monkeypatch.setattr(server, "PAGE_SIZE", 2)
    html = client.get("/", params={"q": "ban", "page": "2"}).text
    assert '<strong aria-current="true">phù hợp nhất</strong>' in html
    assert '<a href="/?q=ban&amp;sort=newest">mới nhất</a>' in html  # back to page 1
    html = client.get("/", params={"q": "ban", "sort": "oldest"}).text
    assert '<strong aria-current="true">cũ nhất</strong>' in html
    assert '<input type="hidden" name="sort" value="oldest">' in html  # a new query keeps the order
    assert 'rel="next" href="/?q=ban&amp;sort=oldest&amp;page=2"' in html
    # filters alone: no relevance to rank by; an unknown order falls back
    html = client.get("/", params={"topic": "an-sinh", "sort": "sideways"}).text
    assert '<strong aria-current="true">mới nhất</strong>' in html and "phù hợp nhất" not in html
    html = client.get("/", params={"q": "ban zzzq", "sort": "newest"}).text
    assert "Không bài nào có đủ mọi từ." in html


def test_search_page_says_when_a_filter_matches_no_article(client):
    html = client.get("/", params={"q": "ban", "topic": "bau_cu", "source": "Báo <Khác>"}).text
    assert "Chỉ mục không có bài nào thuộc chủ đề “bau_cu”." in html
    assert "Chỉ mục không có bài nào của nguồn “Báo &lt;Khác&gt;”." in html
    assert '<a href="/?q=ban">Bỏ các bộ lọc</a>' in html


def test_search_page_bad_date_is_400_in_vietnamese(client):
    response = client.get("/", params={"q": "ban", "since": "31/02/2021"})
    assert response.status_code == 400
    assert "Ngày không hợp lệ: hãy nhập theo dạng NNNN-TT-NN" in response.text


def test_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert f"<strong>{len(WEB_ARTICLES)}</strong> bài viết" in response.text
    assert 'href="/?topic=bau-cu">Bầu cử</a>' in response.text


def test_article_page(client):
    response = client.get("/articles/covid")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Quyên góp ủng hộ Quỹ vắc xin phòng COVID-19</h1>" in html
    assert "2021-06-10" in html and "Trang tin phường" in html
    assert "Phòng, chống COVID-19" in html and "An sinh xã hội, cứu trợ" in html


def test_article_page_404(client):
    response = client.get("/articles/nope")
    assert response.status_code == 404
    assert "Không có bài viết mã &#39;nope&#39;." in response.text


def test_static_assets_are_served(client):
    for path in ("/static/style.css", "/static/app.js", "/static/favicon.svg"):
        assert client.get(path).status_code == 200, path
    html = client.get("/").text
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html


# --- escaping --------------------------------------------------------------------------

def test_article_markup_shows_as_text(client):
    html = client.get("/articles/xss-1").text
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>HTML</b>" not in html
    assert "Tin &lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt; giả mạo" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    html = client.get("/", params={"q": "gia mao"}).text
    assert "<script>alert" not in html and "<i>lạ</i>" not in html
    assert "Nguồn &lt;i&gt;lạ&lt;/i&gt;" in html


def test_query_markup_shows_as_text(client):
    query = '"><script>alert(1)</script>'
    html = client.get("/", params={"q": query}).text
    assert "<script>alert(1)" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


@pytest.mark.parametrize("snippet, spans, expected", [
    ("a <b> c", [(2, 5)], "a <mark>&lt;b&gt;</mark> c"),
    ("phản biện & góp ý", [(0, 9), (12, 17)], "<mark>phản biện</mark> &amp; <mark>góp ý</mark>"),
    ("abc", [(1, 9), (0, 2)], "<mark>ab</mark><mark>c</mark>"),  # overlapping, out of range
    ("", [], ""),
], ids=["markup", "two-spans", "odd-spans", "empty"])
def test_highlight_escapes(snippet, spans, expected):
    assert str(highlight(snippet, spans)) == expected


def test_search_form_toggles():
    form = SearchForm("bầu cử", ["an-sinh"], [], "", "", 3)
    assert form.toggle("topic", "an-sinh") == "/?q=b%E1%BA%A7u+c%E1%BB%AD"
    assert form.toggle("topic", "bau-cu") == "/?q=b%E1%BA%A7u+c%E1%BB%AD&topic=an-sinh&topic=bau-cu"
    assert form.toggle("source", "Báo A") == "/?q=b%E1%BA%A7u+c%E1%BB%AD&topic=an-sinh&source=B%C3%A1o+A"
    on = SearchForm("", [], [], "2021-01-01", "2021-12-31")
    assert on.is_on("year", "2021") and on.toggle("year", "2021") == "/"
    assert on.toggle("year", "2020") == "/?since=2020-01-01&until=2020-12-31"


# --- the command --------------------------------------------------------------------------

def test_serve_command_binds_localhost(monkeypatch, tmp_path):
    calls = {}
    monkeypatch.setattr(server, "_listen", lambda host, port, shown: calls.update(host=host, port=port) or "socket")
    monkeypatch.setattr("uvicorn.Server.run", lambda self, sockets: calls.update(sockets=sockets))
    result = CliRunner().invoke(cli, ["serve", "--index-dir", str(tmp_path / "none"), "--model", str(tmp_path / "nm")],
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert (calls["host"], calls["port"], calls["sockets"]) == ("127.0.0.1", 8000, ["socket"])
    assert "serving on http://127.0.0.1:8000/" in result.stderr
    assert f"note: No index at {tmp_path / 'none'}. Run 'mttq-nlp index' first" in result.stderr
    assert f"note: the classify page is off until there is a topic model (No topic model at {tmp_path / 'nm'}." \
        in result.stderr


def test_serve_on_a_port_in_use_is_a_clear_error_before_serving(web_index):
    import socket

    from mttq_nlp.errors import MttqError

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    said = []
    try:
        with pytest.raises(MttqError, match=r"Cannot listen on 127\.0\.0\.1:\d+: .*choose another with --port"):
            server.serve(web_index, host="127.0.0.1", port=taken.getsockname()[1], echo=said.append)
    finally:
        taken.close()
    assert not any("serving on" in line for line in said)
