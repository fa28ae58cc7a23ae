"""The web pages in a real headless Chromium (Debian's ``chromium``, driven by Playwright),
against ``mttq-nlp serve``'s app on 127.0.0.1 with a small test index.

Skipped only when /usr/bin/chromium is absent (``.ci/run`` installs it). Screenshots of the
search and classify pages go to $MTTQ_NLP_SCREENSHOTS when it is set (the README's come from
``MTTQ_NLP_SCREENSHOTS=docs python3 -m pytest tests/test_browser.py``), else to a temporary
folder, so that the tests leave the work tree as it was."""

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) to run the "
                "browser tests", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install '.[test]'")
uvicorn = pytest.importorskip("uvicorn", reason="the web extra is not installed: pip install '.[test]'")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from conftest import write_jsonl  # noqa: E402
from mttq_nlp.classify import load_model  # noqa: E402
from mttq_nlp.index import index_corpus  # noqa: E402
from mttq_nlp.server import create_app  # noqa: E402
from test_server import CLASSIFY_TEXT, WEB_ARTICLES, XSS_TITLE, topic_model  # noqa: E402,F401 (fixture)

@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("MTTQ_NLP_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def scored_index(tmp_path_factory, topic_model):  # noqa: F811
    """The test articles indexed with the tiny model, so that articles have topic scores."""
    folder = tmp_path_factory.mktemp("browser")
    source = write_jsonl(folder / "a.jsonl", WEB_ARTICLES)
    index_corpus([str(source)], folder / "index", model=load_model(topic_model))
    return folder / "index"


@pytest.fixture(scope="module")
def base_url(scored_index, topic_model):  # noqa: F811
    """A uvicorn server in a thread, on a free port of 127.0.0.1."""
    config = uvicorn.Config(create_app(scored_index, topic_model), host="127.0.0.1", port=_free_port(),
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{config.port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(base_url=base_url, locale="vi-VN", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    assert not errors, errors  # no script errors, no blocked resources (CSP), no 404 assets


def test_type_query_without_diacritics(page, shots):
    page.goto("/")
    page.get_by_label("Từ khóa").fill("phan bien")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/\?q=phan\+bien$"))
    first = page.locator(".hit").first
    expect(first.locator("h2")).to_have_text("Hội nghị phản biện xã hội dự thảo Luật Đất đai")
    expect(first.locator("mark").first).to_have_text("phản biện")
    expect(page.locator("#count")).to_contain_text("kết quả cho “phan bien”")
    shots.mkdir(exist_ok=True)
    page.goto("/?q=ban")
    page.screenshot(path=str(shots / "search-page.png"), full_page=True)


def test_topic_facet_filters_and_second_click_removes(page):
    page.goto("/?q=ban")
    total = page.locator(".hit").count()
    assert total > 1
    facet = page.locator('.facets a[data-facet="topic"][data-value="an-sinh"]')
    facet.click()
    expect(page).to_have_url(re.compile(r"topic=an-sinh"))
    hits = page.locator(".hit")
    expect(hits).to_have_count(1)
    for i in range(hits.count()):
        expect(hits.nth(i).locator(".chips")).to_contain_text("An sinh xã hội")
    chosen = page.locator('.facets a[data-facet="topic"][data-value="an-sinh"]')
    expect(chosen).to_have_attribute("aria-pressed", "true")
    chosen.click()
    expect(page).to_have_url(re.compile(r"/\?q=ban$"))
    expect(page.locator(".hit")).to_have_count(total)


def test_open_an_article_with_the_keyboard(page):
    page.goto("/?q=covid")
    page.keyboard.press("/")  # jumps to the search box
    expect(page.locator("#q")).to_be_focused()
    link = page.locator(".hit h2 a").first
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/articles/covid$"))
    expect(page.locator("h1")).to_have_text("Quyên góp ủng hộ Quỹ vắc xin phòng COVID-19")
    expect(page.locator(".metadata")).to_contain_text("Trang tin phường")
    expect(page.locator(".body")).to_contain_text("trao quà cho hộ nghèo")
    expect(page.locator(".bars li")).not_to_have_count(0)


def test_classify_a_pasted_text(page, shots):
    page.goto("/classify")
    page.get_by_label("Dán tiêu đề và nội dung một bài viết:").fill(CLASSIFY_TEXT)
    page.keyboard.press("Control+Enter")
    expect(page.locator(".classified > ul.chips")).to_contain_text("Phản biện xã hội, góp ý")
    expect(page.locator(".classified .bars li").first).to_contain_text("Phản biện xã hội")
    expect(page.locator(".words")).to_contain_text("phản biện")
    page.screenshot(path=str(shots / "classify-page.png"), full_page=True)


def test_markup_in_articles_and_queries_shows_as_text(page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/?q=" + "gia mao <script>alert(1)</script>")
    expect(page.locator(".hit h2").first).to_have_text(XSS_TITLE)
    expect(page.locator("#q")).to_have_value("gia mao <script>alert(1)</script>")
    expect(page.locator("#count")).to_contain_text("<script>alert(1)</script>")
    page.locator(".hit h2 a").first.click()
    expect(page.locator("h1")).to_have_text(XSS_TITLE)
    expect(page.locator(".body")).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator("main script, main img, main b").count() == 0
    assert not dialogs


def test_phone_width(browser, base_url):
    context = browser.new_context(base_url=base_url, viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto("/?q=phan+bien")
    expect(page.locator(".hit").first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways at phone width ({width}px)"
    context.close()
