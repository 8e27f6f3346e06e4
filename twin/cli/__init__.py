"""The ``twin`` command line: a composition root, thin, importing capabilities lazily."""
