"""Placement of records into blocks (落图入块): people, legal entities and events.

Each record is placed by the best means it offers — a code it carries, its address through
the geocoder, its coordinates — into district → street → community → grid → building →
floor → room, as deep as known, keeping the method, confidence and band, when and by whom.

- :func:`blocks.placement.service.place_table` / :func:`~blocks.placement.service.place_rows`:
  place a file or a batch;
- :mod:`blocks.placement.review`: the review queue, confirmations and corrections;
- :mod:`blocks.placement.aggregates`: counts by block and kind;
- :mod:`blocks.placement.refresh`: re-placing what a changed or retired address affects.

See docs/blocks.md.
"""
