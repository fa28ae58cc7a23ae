"""Exceptions raised by mttq-nlp. Each message says what went wrong and how to fix it."""


class MttqError(Exception):
    """Base class for every error a user can cause and fix."""


class CorpusError(MttqError):
    """A corpus source cannot be read at all (missing path, unsupported format)."""


class IndexMissingError(MttqError):
    """There is no index where one was expected."""


class IndexLockedError(MttqError):
    """Another process is writing the index."""


class ModelError(MttqError):
    """A model is missing, corrupted, tampered with or made by other library versions."""


class TrainingError(MttqError):
    """The training data cannot give a model (no labels, a single class, ...)."""


class QueryError(MttqError):
    """A search option has a value that cannot be used (a bad date, say)."""
