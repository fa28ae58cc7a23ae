"""The web interface: a Vietnamese search page and a JSON API over one index.

``create_app(index_dir, model_dir)`` builds the FastAPI application; ``serve`` runs
it with uvicorn (``mttq-nlp serve``). Pages are rendered on the server with Jinja2
(autoescaping on: every text from articles and queries is escaped) and work without
JavaScript; the few assets (CSS, a small script) are served by the package, so the
site works offline.

Endpoints (OpenAPI description at ``/openapi.json``, readable at ``/docs``)::

    GET  /                     search page (q, topic, source, since, until, sort, page)
    GET  /articles/{id}        an article: full text, metadata, topic scores
    GET  /classify, POST       classify a pasted text
    GET  /api/search           the fields of ``mttq-nlp search --json``
    GET  /api/articles/{id}    one article
    POST /api/classify         {"text": ...} -> topics, scores, unaccented, words that weighed
    GET  /api/health           index and model status

The server only reads: no endpoint writes the index or the model. The searcher is
opened once and shared by all requests (it answers one at a time, a few milliseconds
each); when the index changes on disk it is refreshed under a lock.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from pydantic import BaseModel, Field

from . import __version__
from .errors import IndexLockedError, IndexMissingError, ModelError, MttqError, QueryError
from .search import MAX_QUERY_CHARS, SORTS, Searcher
from .topics import TOPICS

__all__ = ["WebState", "classify_text", "create_app", "serve"]

# Bounds: a request costs at most this much.
MAX_LIMIT = 100  # hits per page
MAX_PAGE = 100  # deepest page (MAX_PAGE * limit documents are ranked)
MAX_FILTERS = 20  # topic or source values in one request
MAX_CLASSIFY_CHARS = 50_000  # a long article is ~10,000 characters
MAX_BODY_BYTES = 1_000_000  # any request body
PAGE_SIZE = 10  # hits per page on the search page
REFRESH_EVERY = 2.0  # seconds between checks that the index changed on disk


WEB_DIR = Path(str(resources.files("mttq_nlp"))) / "web"

NO_INDEX_HINT = "Run 'mttq-nlp index' first (or pass --index-dir)."


def topic_name(code: str) -> str:
    """The Vietnamese name of a topic code; a code outside the taxonomy shows as it is."""
    return TOPICS.get(code) or code


# --- shared state -------------------------------------------------------------------


class WebState:
    """The index and model the server reads, opened lazily and shared by all requests.

    The index may not exist yet when the server starts: requests then answer 503 and
    the index is opened as soon as ``mttq-nlp index`` has built it.
    """

    def __init__(self, index_dir=None, model_dir=None):
        self.index_dir = index_dir
        self.model_dir = model_dir
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._checked = 0.0
        self._model = None

    def searcher(self) -> Searcher:
        """The shared searcher; raises ``IndexMissingError`` when there is no index."""
        now = time.monotonic()
        searcher = self._searcher
        if searcher is not None and now - self._checked < REFRESH_EVERY:
            return searcher
        with self._lock:
            if self._searcher is None:
                self._searcher = Searcher(self.index_dir)
            elif time.monotonic() - self._checked >= REFRESH_EVERY:
                # (the searcher answers one call at a time, so no request is reading
                # the files this closes)
                self._searcher.refresh()
            self._checked = time.monotonic()
            return self._searcher

    def model(self):
        """The topic model; raises ``ModelError`` when there is none (checked again on each call
        until one loads, so a model trained while the server runs is picked up)."""
        if self._model is not None:
            return self._model
        with self._model_lock:
            if self._model is None:
                from .classify import load_model

                self._model = load_model(self.model_dir)
            return self._model

    def health(self) -> dict:
        index: dict = {"ok": False}
        try:
            searcher = self.searcher()
            index = {"ok": True, "articles": searcher.searcher.doc_count()}
        except MttqError as error:
            index["error"] = str(error)
        model: dict = {"ok": False}
        try:
            loaded = self.model()
            model = {"ok": True, "labels": list(loaded.labels_), "path": str(loaded.path or "")}
        except (MttqError, ImportError) as error:
            model["error"] = str(error)
        return {"status": "ok" if index["ok"] else "no index", "version": __version__,
                "index": index, "model": model}

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def classify(self, text: str, top_words: int = 8) -> dict:
        model = self.model()
        with self._model_lock:  # the segmenter is not known to be thread-safe
            return classify_text(model, text, top_words=top_words)


def classify_text(model, text: str, top_words: int = 8) -> dict:
    """Topics of one raw text with every label's score (best first), whether the
    unaccented twin decided (a text typed without diacritics) and, for the decided
    labels and the three best, the words of the text that weighed most toward them."""
    from .classify import prepare_texts

    segmented = prepare_texts([text], model.params)[0]
    prediction = model.predict_segmented([segmented])[0]
    scores = prediction.top(None)
    explained = list(dict.fromkeys(list(prediction.labels) + list(scores)[:3]))
    try:
        words = model.explain_segmented(segmented, explained, top=top_words)
    except MttqError:  # a model without linear weights: topics without the words
        words = {}
    return {
        "labels": list(prediction.labels),
        "scores": scores,
        "unaccented": prediction.unaccented,
        "words": {label: [[word, weight] for word, weight in pairs] for label, pairs in words.items()},
    }


# --- search form state (the URL is the state) ---------------------------------------


def _year_range(year: str) -> tuple[str, str]:
    return f"{year}-01-01", f"{year}-12-31"


@dataclass
class SearchForm:
    q: str = ""
    topics: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    since: str = ""
    until: str = ""
    page: int = 1
    sort: str = "relevance"

    @property
    def active(self) -> bool:
        return bool(self.q.strip() or self.topics or self.sources or self.since or self.until)

    def params(self, **changes) -> list[tuple[str, str]]:
        values = {"q": self.q, "topic": self.topics, "source": self.sources, "since": self.since,
                  "until": self.until, "sort": self.sort, "page": self.page, **changes}
        out: list[tuple[str, str]] = []
        for name in ("q", "topic", "source", "since", "until", "sort", "page"):
            value = values[name]
            if (name, value) in (("page", 1), ("sort", "relevance")):
                continue
            for item in value if isinstance(value, list) else [value]:
                if item not in ("", None):
                    out.append((name, str(item)))
        return out

    def url(self, **changes) -> str:
        query = urllib.parse.urlencode(self.params(**changes))
        return "/?" + query if query else "/"

    def toggle(self, kind: str, value: str) -> str:
        """The URL with this facet value added, or removed if it is already chosen."""
        if kind == "year":
            since, until = _year_range(value)
            if self.since == since and self.until == until:
                return self.url(since="", until="", page=1)
            return self.url(since=since, until=until, page=1)
        chosen = self.topics if kind == "topic" else self.sources
        values = [v for v in chosen if v != value] if value in chosen else chosen + [value]
        return self.url(page=1, **{kind: values})

    def is_on(self, kind: str, value: str) -> bool:
        if kind == "year":
            return (self.since, self.until) == _year_range(value)
        return value in (self.topics if kind == "topic" else self.sources)


def highlight(snippet: str, spans) -> Markup:
    """The snippet escaped, with the matched spans in <mark>."""
    out, last = [], 0
    for start, end in sorted(spans):
        start, end = max(start, last), min(end, len(snippet))
        if start >= end:
            continue
        out.append(escape(snippet[last:start]))
        out.append(Markup("<mark>") + escape(snippet[start:end]) + Markup("</mark>"))
        last = end
    out.append(escape(snippet[last:]))
    return Markup("").join(out)


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """Page links around the current one; None stands for a gap."""
    wanted = {1, pages, page - 2, page - 1, page, page + 1, page + 2}
    numbers = sorted(n for n in wanted if 1 <= n <= pages)
    out: list[int | None] = []
    for n in numbers:
        if out and n - out[-1] > 1:  # type: ignore[operator]
            out.append(None)
        out.append(n)
    return out


# --- API models ---------------------------------------------------------------------


class ClassifyRequest(BaseModel):
    text: str = Field(..., max_length=MAX_CLASSIFY_CHARS, description="Title and text of an article.")


class ErrorBody(BaseModel):
    detail: str


ERRORS = {
    400: {"model": ErrorBody, "description": "Bad parameter (a date that is not YYYY-MM-DD, ...)"},
    503: {"model": ErrorBody, "description": "No index yet (run `mttq-nlp index`) or no topic model"},
}

STATUS = {QueryError: 400, IndexMissingError: 503, IndexLockedError: 503, ModelError: 503}


def _status_of(error: Exception) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 500


# --- the application ----------------------------------------------------------------


def create_app(index_dir=None, model_dir=None) -> FastAPI:
    """The web application over the index at ``index_dir`` (default: $MTTQ_NLP_INDEX or
    ./mttq-index) and the topic model at ``model_dir`` (default: the bundled model)."""
    state = WebState(index_dir, model_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        state.close()

    app = FastAPI(
        lifespan=lifespan,
        title="mttq-nlp",
        version=__version__,
        summary="Vietnamese search and topic tagging for Fatherland Front (MTTQ) news.",
        docs_url=None,  # the default pages load their scripts from a CDN: see /docs below
        redoc_url=None,
    )
    app.state.web = state
    environment = Environment(loader=FileSystemLoader(str(WEB_DIR / "templates")), autoescape=True)
    environment.globals.update(topic_name=topic_name, version=__version__, TOPICS=TOPICS)
    environment.filters["highlight"] = lambda hit: highlight(hit.snippet, hit.highlights)
    templates = Jinja2Templates(env=environment)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    # --- errors and limits -----------------------------------------------------------

    def error_response(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api") or request.url.path == "/openapi.json":
            return JSONResponse({"detail": message}, status_code=status)
        return render(request, "error.html", status_code=status, status=status, message=message)

    @app.exception_handler(MttqError)
    async def mttq_error(request: Request, error: MttqError):
        message = str(error)
        if isinstance(error, QueryError) and request.url.path.startswith("/api"):
            message = message.replace("--", "")  # the API's parameters are since=, until=, ...
        return error_response(request, _status_of(error), message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError):
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()) if part not in ("query", "body", "path"))
            problems.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
        return error_response(request, 400, "; ".join(problems) or "Bad request.")

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    # --- API -------------------------------------------------------------------------

    @app.get("/api/search", tags=["api"], responses=ERRORS)
    def api_search(
        q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="Query; accents optional")] = "",
        topic: Annotated[list[str], Query(max_length=MAX_FILTERS, description="Topic code (repeatable)")] = [],
        source: Annotated[list[str], Query(max_length=MAX_FILTERS, description="Source name (repeatable)")] = [],
        since: Annotated[str | None, Query(description="YYYY-MM-DD, or YYYY-MM, YYYY, DD/MM/YYYY")] = None,
        until: Annotated[str | None, Query(description="as since; a year or month to its last day")] = None,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
        facets: Annotated[bool, Query(description="Count results by topic, source and year")] = False,
        sort: Annotated[Literal["relevance", "newest", "oldest"],
                        Query(description="newest/oldest: the articles with every word, by date")] = "relevance",
    ) -> dict:
        """Ranked, accent-insensitive search: the fields of `mttq-nlp search --json`
        (`query, total, page, limit, sort, hits, facets`)."""
        result = state.searcher().search(q, topics=topic, sources=source, since=since, until=until,
                                         limit=limit, page=page, facets=facets, sort=sort)
        return result.to_dict()

    @app.get("/api/articles/{article_id}", tags=["api"],
             responses={**ERRORS, 404: {"model": ErrorBody, "description": "No article with this id"}})
    def api_article(article_id: str) -> dict:
        """One article: id, title, text, date, source, url, topics, topic_scores, topics_given."""
        article = state.searcher().article(article_id)
        if article is None:
            return JSONResponse({"detail": f"No article with id {article_id!r}."}, status_code=404)
        return article

    @app.post("/api/classify", tags=["api"], responses=ERRORS)
    def api_classify(request: ClassifyRequest) -> dict:
        """Topics of a text: the decided `labels`, every label's `scores` (best first) and,
        for the main labels, the `words` of the text that weighed most toward them."""
        return state.classify(request.text)

    @app.get("/api/health", tags=["api"])
    def api_health() -> dict:
        """Whether the index and the topic model can be used."""
        return state.health()

    # --- pages -----------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request,
        q: str = "",
        topic: Annotated[list[str], Query()] = [],
        source: Annotated[list[str], Query()] = [],
        since: str = "",
        until: str = "",
        sort: str = "relevance",
        page: str = "1",
    ):
        form = SearchForm(q[:MAX_QUERY_CHARS], topic[:MAX_FILTERS], source[:MAX_FILTERS],
                          since.strip(), until.strip(), _clamp_page(page), sort if sort in SORTS else "relevance")
        searcher = state.searcher()
        result, error = None, None
        if form.active:
            try:
                result = searcher.search(form.q, topics=form.topics, sources=form.sources, since=form.since or None,
                                         until=form.until or None, limit=PAGE_SIZE, page=form.page, facets=True,
                                         sort=form.sort)
            except QueryError as problem:
                error = _vietnamese_query_error(str(problem))
        pages, unknown = 0, []
        if result is not None:
            pages = min(MAX_PAGE, max(1, -(-result.total // PAGE_SIZE)))
            if not result.total:
                unknown = searcher.unknown_filters(form.q, form.topics, form.sources)
        return render(request, "search.html", status_code=400 if error else 200, form=form, result=result,
                    error=error, pages=pages, page_numbers=_page_numbers(form.page, pages) if pages > 1 else [],
                    article_count=searcher.searcher.doc_count(), first=(form.page - 1) * PAGE_SIZE + 1,
                    unknown=unknown)

    @app.get("/articles/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, article_id: str):
        article = state.searcher().article(article_id)
        if article is None:
            return render(request, "error.html", status_code=404, status=404,
                        message=f"Không có bài viết mã {article_id!r}.")
        scores = sorted(article["topic_scores"].items(), key=lambda kv: (-kv[1], kv[0]))
        back = request.headers.get("referer", "")
        back = back if _same_site(request, back) else "/"
        paragraphs = [p for p in article["text"].split("\n") if p.strip()]
        return render(request, "article.html", article=article, scores=scores, paragraphs=paragraphs, back=back)

    @app.get("/classify", response_class=HTMLResponse, include_in_schema=False)
    def classify_page(request: Request):
        return render(request, "classify.html", text="", result=None, error=None)

    @app.post("/classify", response_class=HTMLResponse, include_in_schema=False)
    async def classify_form(request: Request):
        body = (await request.body()).decode("utf-8", "replace")
        text = urllib.parse.parse_qs(body).get("text", [""])[0]
        result, error, status = None, None, 200
        if not text.strip():
            error, status = "Hãy dán một đoạn văn bản để phân loại.", 400
        elif len(text) > MAX_CLASSIFY_CHARS:
            error, status = f"Văn bản dài quá {MAX_CLASSIFY_CHARS:,} ký tự.".replace(",", "."), 413
        else:
            try:
                from starlette.concurrency import run_in_threadpool

                result = await run_in_threadpool(state.classify, text)
            except (ModelError, ImportError) as problem:
                error, status = f"Chưa có mô hình chủ đề (no model): {problem}", 503
        return render(request, "classify.html", status_code=status, text=text, result=result, error=error)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request):
        """The OpenAPI description, readable without scripts from a CDN."""
        return render(request, "docs.html", spec=app.openapi())

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return RedirectResponse("/static/favicon.svg", status_code=301)

    return app


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 before the app reads it,
    whether it declares its length or comes in chunks."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._too_large(send)
        if length is not None:
            return await self.app(scope, receive, send)
        # no declared length (chunked): read it here, up to the limit, then hand it on
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await self._too_large(send)
            if not message.get("more_body"):
                break
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send):
        response = JSONResponse({"detail": f"Request body over {self.limit:,} bytes."}, status_code=413)
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


def _clamp_page(value: str) -> int:
    try:
        return min(max(int(value), 1), MAX_PAGE)
    except ValueError:
        return 1


def _same_site(request: Request, url: str) -> bool:
    if not url:
        return False
    parsed = urllib.parse.urlsplit(url)
    return parsed.netloc == request.url.netloc and parsed.scheme in ("http", "https")


def _vietnamese_query_error(message: str) -> str:
    if "is after" in message:
        return "Ngày bắt đầu ở sau ngày kết thúc. " + message
    return ("Ngày không hợp lệ: hãy nhập theo dạng NNNN-TT-NN, ví dụ 2021-05-23 (hoặc năm 2021, tháng 2021-05, "
            "ngày 23/05/2021). " + message)


def serve(index_dir=None, model_dir=None, host: str = "127.0.0.1", port: int = 8000, echo=print) -> None:
    """Run the web server until interrupted. Binds 127.0.0.1 unless told otherwise."""
    import uvicorn

    app = create_app(index_dir, model_dir)
    try:
        app.state.web.searcher()
    except MttqError as error:  # the server still starts: pages say how to build the index
        echo(f"note: {error}")
    try:
        app.state.web.model()  # loaded now rather than on the first classify request
    except (MttqError, ImportError) as error:
        echo(f"note: the classify page is off until there is a topic model ({error})")
    shown = f"[{host}]" if ":" in host else host
    listening = _listen(host, port, f"{shown}:{port}")
    echo(f"mttq-nlp: serving on http://{shown}:{port}/ (API docs: /docs; Ctrl+C to stop)")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", limit_concurrency=64,
                            timeout_keep_alive=5, server_header=False)
    uvicorn.Server(config).run(sockets=[listening])


def _listen(host: str, port: int, shown: str) -> socket.socket:
    """A socket bound to ``host:port``, or a clear error (before saying "serving on")."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        hint = ("another program (another 'mttq-nlp serve'?) is using the port; stop it or choose another with --port"
                if error.errno == errno.EADDRINUSE else "check --host and --port")
        raise MttqError(f"Cannot listen on {shown}: {error.strerror or error}; {hint}.") from None
    return listening
