"""Geographic entity auto-coding (地理实体对象自动化编码).

Every geographic entity (building, road, bridge, water body, city part such as a hydrant or a
manhole cover) gets a unique, stable code with no hand work: its community is found spatially,
then combined with its class (:mod:`blocks.coding.classes`, 9 / 32 / 128 classes in the style
of GB/T 13923) and a serial that is never handed out twice. The Beidou form puts a Beidou grid
location code (:mod:`blocks.coding.beidou`, GB/T 39409-2020) in place of the community.

- :func:`blocks.coding.service.code_entities`: code a batch (one transaction, per-row report);
- :func:`blocks.coding.service.link_entity`: link an entity to a person, legal entity, event
  or address;
- :class:`blocks.coding.repository.EntityRepository`: the storage protocol, implemented in
  PostGIS by :class:`blocks.coding.repository.PgEntityRepository`.

See docs/entity-coding.md.
"""
