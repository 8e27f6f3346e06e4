"""The demo-district generator: believable, deterministic, clearly labelled as generated.

Nothing here is real except the administrative names, codes and district outlines it builds
on. Every row it writes has ``is_generated = true`` and source ``citytwin-synth``.
"""

SOURCE = "citytwin-synth"
