"""mttq-nlp: Vietnamese full-text search and topic classification for Fatherland Front news."""

__version__ = "0.1.0"
