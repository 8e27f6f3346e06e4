"""citytwin's shared kernel: domain types, codes, errors, settings, database lifecycle.

``twin`` imports none of the project's other packages; they all import it.
"""

__version__ = "0.1.0"
