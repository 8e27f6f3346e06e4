"""Vector tiles, 3D Tiles and offline archives (imports ``twin``, ``models3d`` and ``blocks``)."""
