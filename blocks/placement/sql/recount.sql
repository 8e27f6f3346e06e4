-- Every block's counts recounted from the primary placements, against what the triggers
-- keep: the rows that differ (code, what, kept, recounted).
WITH paths AS (
    SELECT p.record_kind, p.facets, c.code
    FROM twin.placement AS p
    CROSS JOIN LATERAL unnest(ARRAY[p.district_code, p.street_code, p.community_code,
                                    p.grid_code, p.building_code, p.room_code]) AS c(code)
    WHERE p.role = 'primary' AND c.code IS NOT NULL
),
totals AS (
    SELECT code, count(*) FILTER (WHERE record_kind = 'person') AS people,
           count(*) FILTER (WHERE record_kind = 'legal_entity') AS companies,
           count(*) FILTER (WHERE record_kind = 'event') AS events
    FROM paths GROUP BY code
),
facets AS (
    SELECT code, record_kind, f.facet, count(*) AS n
    FROM paths CROSS JOIN LATERAL unnest(facets) AS f(facet)
    GROUP BY code, record_kind, f.facet
)
SELECT coalesce(t.code, k.code), 'totals', ARRAY[k.people, k.companies, k.events],
       ARRAY[t.people, t.companies, t.events]::integer[]
FROM totals AS t FULL JOIN twin.block_counts AS k ON k.code = t.code
WHERE (coalesce(t.people, 0), coalesce(t.companies, 0), coalesce(t.events, 0))
      IS DISTINCT FROM (coalesce(k.people, 0), coalesce(k.companies, 0), coalesce(k.events, 0))
UNION ALL
SELECT coalesce(f.code, k.code), coalesce(f.record_kind, k.record_kind) || ' '
       || coalesce(f.facet, k.facet), ARRAY[k.n], ARRAY[f.n]::integer[]
FROM facets AS f
FULL JOIN twin.block_facet_counts AS k
  ON k.code = f.code AND k.record_kind = f.record_kind AND k.facet = f.facet
WHERE coalesce(f.n, 0) <> coalesce(k.n, 0)
