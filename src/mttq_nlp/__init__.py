"""mttq-nlp: Vietnamese full-text search and topic classification for Fatherland Front news.

The public API, imported on first use (so that ``mttq-nlp search`` loads only what it needs)::

    from mttq_nlp import index_corpus, Searcher, load_model
    index_corpus(["corpus/"], "mttq-index", model=load_model())
    Searcher("mttq-index").search("phan bien", facets=True)
"""

import importlib

__version__ = "0.1.0"

_API = {
    "normalize": "text", "fold": "text", "segment": "text", "segmented": "text",
    "Article": "corpus", "Problem": "corpus", "read_corpus": "corpus",
    "index_corpus": "index", "remove_articles": "index", "retag_index": "index", "open_index": "index",
    "Searcher": "search", "search": "search", "SearchResult": "search", "Hit": "search",
    "TopicModel": "classify", "Prediction": "classify", "load_model": "classify", "train": "classify",
    "MttqError": "errors",
}
__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        return getattr(importlib.import_module(f"{__name__}.{_API[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
