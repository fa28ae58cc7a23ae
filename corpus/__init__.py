"""The sample corpus, installed with mttq-nlp as mttq_nlp.sample_corpus (see corpus/README.md)."""
