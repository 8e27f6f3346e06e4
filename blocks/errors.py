"""Errors of the block store: entity coding, placement, grids and aggregates.

Every error derives from :class:`BlockStoreError`, itself a
:class:`~twin.errors.TwinError`, so the command line prints one sentence and the API maps
each type to a status in ``api/errors.py``. Problems of single input rows are not errors:
they come back per row (:class:`blocks.coding.model.RowProblem`) and the rest of the batch
goes on.
"""

from __future__ import annotations

from twin.errors import TwinError


class BlockStoreError(TwinError):
    """Root of the block store's errors."""


class EntityClassError(BlockStoreError, ValueError):
    """The entity classification file or table is malformed, or a class is unknown."""


class EntityNotFoundError(BlockStoreError, LookupError):
    """No geographic entity has this code."""


class LinkError(BlockStoreError, ValueError):
    """An entity link is malformed or names a record that does not exist."""


class CodingInputError(BlockStoreError, ValueError):
    """A coding batch cannot run at all (unknown form, unreadable file, bad options)."""


class CodingConflictError(BlockStoreError):
    """A concurrent batch changed the same entities; the batch was retried and still clashed."""


class SerialExhaustedError(BlockStoreError):
    """A (location, class) has used every serial its code width allows."""


class BlockInputError(BlockStoreError, ValueError):
    """A block code or a query parameter is malformed (the message names it)."""


class BlockNotFoundError(BlockStoreError, LookupError):
    """No administrative unit or building has this code."""


class PlacementInputError(BlockStoreError, ValueError):
    """A placement's input cannot be used as a whole (kind, columns, CRS, batch size)."""


class PlacementNotFoundError(BlockStoreError, LookupError):
    """No placement (or block) has this id or code."""


class ReviewError(BlockStoreError, ValueError):
    """A review cannot be applied (already reviewed, or the correction names no block)."""
