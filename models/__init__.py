"""The bundled topic models, installed with mttq-nlp as mttq_nlp.bundled_models."""
