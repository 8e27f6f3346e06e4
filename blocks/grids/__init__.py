"""Delineation of comprehensive grids (综合网格) inside communities.

:func:`blocks.grids.delineate.partition` groups a community's buildings (whole) into as few
compact, contiguous groups as the limits allow (at most 500 housing units or 1,000 residents
per grid, configurable); :mod:`blocks.grids.service` draws their outlines, keeps the codes of
grids that did not change and stores the plan. See docs/blocks.md.
"""
