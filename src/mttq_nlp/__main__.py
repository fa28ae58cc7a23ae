from mttq_nlp.cli import cli

cli()
