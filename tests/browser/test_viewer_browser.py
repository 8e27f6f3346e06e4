"""The twin's viewer at ``/`` in headless Chromium, step by step, on a placed street.

The generator's ``small`` street of Bao'an (every record placed by the generator's truth) and
its city tileset are served by the API in a thread; ``viewer_browser.cjs`` drives Debian's
Chromium with playwright-core through the page as a person would: it opens ``/`` with a key,
types into the search box, chooses the candidate, clicks the tallest building from above,
opens one of its floors and a room, goes up the breadcrumb to the community, and switches to
English. Every request is logged: none may go to a host other than the server. Screenshots of
each view are kept in ``.twin-test/artefacts/viewer/`` (and the load times are printed).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from models3d.ifc.importer import import_ifc
from models3d.ifc.link import link_building
from models3d.source import buildings_from_db
from models3d.tiles3d.citymodel import build_city_tileset
from models3d.tiles3d.pointcloud import convert_point_cloud
from tests.browser.conftest import CHROMIUM, HOST, ROOT, VIEWER, drive, require_tools, serve
from tests.models3d.ifc_builder import build_ifc
from tests.models3d.las_builder import CRS as LAS_CRS
from tests.models3d.las_builder import build_las
from tests.utils.auth import key_headers
from twin.db.connect import connect
from twin.settings import ModelSettings, PostgresSettings, TwinSettings

pytestmark = [pytest.mark.browser, pytest.mark.db, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("viewer_browser.cjs")
ARTEFACTS = ROOT / ".twin-test" / "artefacts" / "viewer"
#: The tallest building (its roof, from straight above, cannot be hidden by another), its
#: address and people, and the floor of its rooms with the most people.
_TARGET = """
SELECT b.code, ST_X(p), ST_Y(p), b.height_m, a.text, c.people,
       (SELECT r.floor_no FROM twin.room r JOIN twin.block_counts rc ON rc.code = r.code
        WHERE r.building_code = b.code GROUP BY 1 ORDER BY sum(rc.people) DESC, 1 LIMIT 1)
FROM twin.building AS b
CROSS JOIN LATERAL ST_PointOnSurface(b.footprint) AS p
JOIN twin.address AS a ON a.code = b.code
JOIN twin.block_counts AS c ON c.code = b.code
ORDER BY b.height_m DESC, b.code
LIMIT 1
"""
#: The building a placement under review is corrected to, picked on the map: the tallest of
#: another grid (its roof, from straight above, cannot be hidden by another).
_OTHER = """
SELECT b.code, ST_X(p), ST_Y(p), b.height_m
FROM twin.building AS b CROSS JOIN LATERAL ST_PointOnSurface(b.footprint) AS p
WHERE left(b.code, 14) <> left(%s, 14)
ORDER BY b.height_m DESC, b.code
LIMIT 1
"""
#: Another building to search for by a nickname of its address (e.g. 宝民工业区1号楼).
_SEARCHED = """
SELECT a.code, al.text, ST_X(a.geom), ST_Y(a.geom)
FROM twin.address AS a JOIN twin.address_alias AS al ON al.address_code = a.code
WHERE a.level = 'building' AND al.kind = 'nickname' AND a.code <> %s
ORDER BY a.code, al.text
LIMIT 1
"""


@pytest.fixture(scope="module")
def facts(placed_street_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The street's city tileset, and what the page must show, read from the database."""
    tilesets = tmp_path_factory.mktemp("viewer") / "3dtiles"
    with contextlib.closing(connect(placed_street_url)) as conn:
        row = conn.execute(_TARGET).fetchone()
        assert row is not None
        code, lon, lat, height, address, people, floor = row
        searched = conn.execute(_SEARCHED, (code,)).fetchone()
        other = conn.execute(_OTHER, (code,)).fetchone()
        assert searched is not None and other is not None
        rooms = {r[0] for r in conn.execute(
            "SELECT code FROM twin.room WHERE building_code = %s AND floor_no = %s",
            (code, floor))}  # fmt: skip
        names = {r[0] for r in conn.execute(
            "SELECT p.name FROM twin.person p JOIN twin.placement pl ON pl.record_kind = 'person' "
            "AND pl.record_id = p.id WHERE pl.building_code = %s", (code,))}  # fmt: skip
        community = conn.execute(
            "SELECT people FROM twin.block_counts WHERE code = %s", (code[:12],)
        ).fetchone()
        grids = {r[0] for r in conn.execute(
            "SELECT code FROM twin.admin_unit WHERE parent_code = %s AND geom IS NOT NULL",
            (code[:12],))}  # fmt: skip
        report = build_city_tileset(buildings_from_db(conn), tilesets / "city")
        conn.rollback()
    assert report.buildings > 100 and floor is not None and community is not None
    return {
        "url": placed_street_url, "tilesets": tilesets, "address": address, "people": people,
        "rooms": rooms, "names": names, "community_people": community[0], "grids": grids,
        "target": {"code": code, "lon": lon, "lat": lat, "height": height, "floor": floor},
        "search": dict(zip(("code", "text", "lon", "lat"), searched, strict=True)),
        "other": dict(zip(("code", "lon", "lat", "height"), other, strict=True)),
    }  # fmt: skip


@pytest.fixture(scope="module")
def base(facts: dict[str, Any]) -> Iterator[str]:
    """The API serving the street, its tileset and the built viewer (old screenshots cleared)."""
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    settings = TwinSettings(
        db=PostgresSettings(database_url=SecretStr(facts["url"]), connect_timeout_s=2),
        models3d=ModelSettings(tilesets_dir=facts["tilesets"], viewer_dir=VIEWER),
    )
    with serve(settings) as url:
        yield url


def _run(
    base: str, facts: dict[str, Any], tmp_path: Path, role: str, typed: bool = False, **opts: Any
) -> Any:
    node = require_tools("app/app.js")
    key = key_headers(facts["url"], role, name=f"viewer {role}")["Authorization"][7:]
    if typed:  # the key typed into the page's prompt instead of given in the address
        opts["typeKey"] = key
    shots = tmp_path / "shots"
    shots.mkdir()
    result = drive(
        node,
        SCRIPT,
        {
            "url": f"{base}/" if typed else f"{base}/?api_key={key}",
            "chromium": str(CHROMIUM),
            "userDataDir": str(tmp_path / "profile"),
            "home": str(tmp_path),
            "shots": str(shots),
            "allowedHost": HOST,
            "canary": "http://canary.invalid/ping",
            "search": facts["search"],
            "target": facts["target"],
            "other": facts["other"],
            **opts,
        },
    )
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for shot in result["shots"]:
        assert (
            Path(shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            and Path(shot).stat().st_size > 10_000
        )
        shutil.copy(shot, ARTEFACTS)
    assert "failure" not in result, (result["failure"], result["errors"])
    assert result["errors"] == [] and result["appErrors"] == [], result
    # Only the canary, fetched on purpose, tried another host: the log works and nothing else left.
    assert result["offHost"] == ["http://canary.invalid/ping"], result["offHost"]
    return result


def test_viewer_search_inspector_floors_breadcrumb_and_language(
    base: str, facts: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = ["load", "search", "click", "floor", "breadcrumb", "language"]
    r = _run(base, facts, tmp_path, "admin", steps=steps, records=True)
    with capsys.disabled():
        print(  # noqa: T201  (the brief asks for the figure in the test's output)
            f"\nviewer load on localhost: app ready in {r['readyMs']} ms, buildings drawn in "
            f"{r['loadedMs']} ms (headless Chromium, WebGL on the CPU); screenshots: {ARTEFACTS}"
            f"\nmarks (ms since navigation): {r['timings']}"
            f"\nlongest main-thread task (without a GPU: a frame waiting for the GPU process): "
            f"{max(r['longTasks'], key=lambda t: t[1])} [start, ms]"
        )
    # Loaded through / (the key left the address bar), Chinese by default.
    assert r["location"] == "/viewer/app/index.html" and r["webgl2"] is True
    assert r["lang"] == "zh-CN" and r["tabs"] == ["区块", "图层", "待审核", "专题图", "公共服务"]
    assert r["legend"][0] == "0" and len(r["legend"]) == 6 and r["scale"].endswith("m")
    assert r["districts"] == ["440306"]
    # Search: debounced (one request or two for the whole text), candidates with their level
    # and confidence; the chosen one is inspected and in the middle of the view.
    search = facts["search"]
    assert 1 <= r["searches"] <= 3, r["searches"]
    assert r["candidates"][0]["code"] == search["code"]
    assert "楼栋" in r["candidates"][0]["meta"] and "置信度" in r["candidates"][0]["meta"]
    assert r["searchInspected"] == search["code"]
    assert abs(r["searchView"]["x"] - 0.5) < 0.05 and abs(r["searchView"]["y"] - 0.5) < 0.05
    # A click on the building opens the inspector with its code, address and numbers.
    target = facts["target"]
    assert r["inspected"] == target["code"] and r["inspectedAddress"] == facts["address"]
    assert r["inspectedCounts"]["people"] == f"{facts['people']:,}"
    people = [x["text"] for x in r["records"] if x["kind"] == "person"]
    assert len(people) == min(facts["people"], 200 - len(r["records"]) + len(people))
    assert all("*" in p for p in people)
    # Close up, roads (and door plates where there are any) from the vector tiles.
    assert r["streets"]["tiles"] > 0 and r["streets"]["roads"] > 0, r["streets"]
    assert not any(name in text for name in facts["names"] for text in people)
    # The breadcrumb: 深圳市 › district › street › community › grid › building.
    assert [c["level"] for c in r["crumbs"]] == [
        "city", "district", "street", "community", "grid", "building",
    ]  # fmt: skip
    assert [c["code"] for c in r["crumbs"][1:]] == [target["code"][:n] for n in (6, 9, 12, 14, 19)]
    assert r["crumbs"][1]["name"] == "宝安区" and r["crumbs"][2]["name"] == "新安街道"
    # One floor opened: the building hidden, its rooms listed with their people.
    assert r["hidden"] == target["code"]
    assert {x["code"] for x in r["rooms"]} == facts["rooms"]
    assert r["roomInfo"].endswith(min(facts["rooms"]))
    # Up the breadcrumb to the community: its numbers and grids.
    assert r["communityNumbers"]["people"] == f"{facts['community_people']:,}"
    assert set(r["grids"]) == facts["grids"]
    # English.
    tabs = ["Blocks", "Layers", "Review", "Thematic", "Services"]
    assert r["langAfter"] == "en" and r["tabsAfter"] == tabs
    assert r["placeholderAfter"].startswith("Search") and r["crumbsAfter"][0] == "Shenzhen"
    assert "Building code" in r["inspectorAfter"] and r["legendAfter"] == "People"


def test_a_planner_types_a_key_and_sees_counts_but_no_records(
    base: str, facts: dict[str, Any], tmp_path: Path
) -> None:
    with contextlib.closing(connect(facts["url"])) as conn:
        events = dict(
            conn.execute(
                "SELECT u.code, coalesce(c.events, 0) FROM twin.admin_unit u "
                "LEFT JOIN twin.block_counts c ON c.code = u.code "
                "WHERE u.level = 'grid' AND u.geom IS NOT NULL"
            ).fetchall()
        )
    few = sorted(code for code, n in events.items() if 0 < n < 5)
    assert few, "no grid has 1 to 4 events"
    community = few[0][:12]
    r = _run(base, facts, tmp_path, "planner", typed=True,
             steps=["load", "click", "review", "thematic"], records=False, suffix="-planner",
             thematicCommunity=community, thematicGridStat="events")  # fmt: skip
    assert r["keyPrompt"] == "请输入 API 密钥"
    assert r["inspected"] == facts["target"]["code"]
    assert r["inspectedCounts"]["people"] == f"{facts['people']:,}"  # over 5: shown
    assert r["noRecords"] == "当前角色无权查看个人记录"
    # The review queue holds people's records: a planner gets the note, no queue.
    assert r["reviewNoteShown"] is True and "无权查看" in r["reviewNote"]
    assert r["reviewItems"] == 0
    # The thematic map of the community's grids by events: counts of 1 to 4 are withheld for a
    # planner, listed as withheld (never 0) and filled grey; the others shown as they are.
    rows = {row["code"]: row for row in r["thematicGridStat"]["rows"]}
    assert set(rows) == {code for code in events if code.startswith(community)}
    for code, row in rows.items():
        n = events[code]
        if 0 < n < 5:
            assert (row["value"], row["text"]) == ("withheld", "不公开（<5）"), (code, n, row)
        else:
            assert row["value"] == str(n), (code, n, row)
    assert any(row["value"] == "withheld" for row in rows.values())


#: What a review may change of a placement (restored after the test).
_PATH = ("district_code, street_code, community_code, grid_code, building_code, floor_no, "
         "room_code, address_code, method, confidence")  # fmt: skip


@pytest.fixture
def pending(facts: dict[str, Any]) -> Iterator[list[int]]:
    """Three placements of people in the target building put back in the review queue; their
    paths, review and any alias a correction taught restored afterwards."""
    with contextlib.closing(connect(facts["url"])) as conn:
        ids = [r[0] for r in conn.execute(
            "UPDATE twin.placement SET band = 'review', review_status = 'pending' WHERE id IN "
            "(SELECT id FROM twin.placement WHERE record_kind = 'person' AND building_code = %s "
            "AND review_status IS NULL ORDER BY id LIMIT 3) RETURNING id",
            (facts["target"]["code"],))]  # fmt: skip
        saved = conn.execute(
            f"CREATE TEMP TABLE saved_paths AS SELECT id, {_PATH} FROM twin.placement "
            "WHERE id = ANY(%s)", (ids,))  # fmt: skip
        last_alias = conn.execute("SELECT coalesce(max(id), 0) FROM twin.address_alias").fetchone()
        conn.commit()
        assert len(ids) == 3 and saved.rowcount == 3 and last_alias is not None
        yield sorted(ids)
        conn.execute(
            f"UPDATE twin.placement p SET ({_PATH}) = (SELECT {_PATH} FROM saved_paths s "
            "WHERE s.id = p.id), band = 'accept', review_status = NULL, reviewed_at = NULL, "
            "reviewed_by = NULL WHERE p.id = ANY(%s)", (ids,))  # fmt: skip
        conn.execute("DELETE FROM twin.address_alias WHERE kind = 'correction' AND id > %s",
                     last_alias)  # fmt: skip
        conn.commit()


def _counts(url: str, level: str) -> dict[str, tuple[int, int, int]]:
    with contextlib.closing(connect(url)) as conn:
        rows = conn.execute(
            "SELECT u.code, c.people, c.companies FROM twin.admin_unit u "
            "JOIN twin.block_counts c ON c.code = u.code "
            "WHERE u.level = %s AND u.geom IS NOT NULL AND c.people > 0",
            (level,),
        ).fetchall()
        facets = dict(conn.execute(
            "SELECT code, n FROM twin.block_facet_counts WHERE record_kind = 'person' "
            "AND facet = 'residence:rental'").fetchall())  # fmt: skip
    return {code: (people, companies, facets.get(code, 0)) for code, people, companies in rows}


def test_review_queue_thematic_map_and_services(
    base: str, facts: dict[str, Any], tmp_path: Path, pending: list[int]
) -> None:
    steps = ["load", "review", "reviewPick", "thematic", "services"]
    r = _run(base, facts, tmp_path, "admin", steps=steps, records=True, suffix="",
             reviewPageSize=2)  # fmt: skip
    # Review, two placements a page: the three pending placements (oldest first) on two pages,
    # the next page and back; the first shown on the map (its building selected) and
    # confirmed: out of the queue (the page fetched again), and confirmed in the database.
    assert r["reviewIds"] == pending[:2] and "3" in r["reviewSummary"]
    assert r["reviewPage"] == "第 1–2 条，共 3 条" and r["reviewPrevDisabled"] is True
    assert r["reviewNext"] == {"ids": pending[2:], "page": "第 3–3 条，共 3 条"}
    assert r["reviewNextDisabled"] is True
    assert r["reviewBack"] == {"ids": pending[:2], "page": "第 1–2 条，共 3 条"}
    assert r["reviewLocated"] == {"reviewing": pending[0], "selected": facts["target"]["code"]}
    assert r["reviewed"] == [{"id": pending[0], "status": "confirmed"}]
    assert r["reviewAfter"] == pending[1:] and str(pending[0]) in r["reviewMessage"]
    assert r["reviewPagerShown"] is False  # two left: one page
    # The next one corrected on the map: pick mode, a real click on another grid's tallest
    # building fills its code, 更正 sends it; it leaves the queue.
    other = facts["other"]["code"]
    assert r["pickStarted"] == {"picking": pending[1], "pressed": "true"}
    assert r["picked"] == {"id": pending[1], "kind": "building", "code": other}
    assert r["pickedInput"] == other and other in r["pickedHint"]
    assert r["reviewedAfterPick"][-1] == {"id": pending[1], "status": "corrected"}
    assert r["reviewAfterPick"] == pending[2:] and r["pickingAfter"] is None
    with contextlib.closing(connect(facts["url"])) as conn:
        rows = {row[0]: row[1:] for row in conn.execute(
            "SELECT id, review_status, building_code, grid_code, method FROM twin.placement "
            "WHERE id = ANY(%s)", (pending,))}  # fmt: skip
    target = facts["target"]["code"]
    assert rows == {
        pending[0]: ("confirmed", target, target[:14], rows[pending[0]][3]),
        pending[1]: ("corrected", other, other[:14], "manual"),
        pending[2]: ("pending", target, target[:14], rows[pending[2]][3]),
    }
    # Thematic map: every community with people listed with its people, filled on the map.
    communities = _counts(facts["url"], "community")
    th = r["thematic"]
    assert th["fillsBy"] == "thematic" and th["fills"] >= len(communities) > 0
    shown = {row["code"]: row["value"] for row in th["rows"]}
    assert {c: int(shown[c]) for c in communities} == {c: v[0] for c, v in communities.items()}
    assert th["legend"][0] == "0" and th["legend"][-2:] == ["不公开（<5）", "无数据"]
    renting = {row["code"]: row["value"] for row in r["thematicRenting"]["rows"]}
    for code, (people, _, rental) in communities.items():
        assert abs(float(renting[code]) - rental / people) < 1e-9
    grids = r["thematicGrids"]
    assert grids["level"].endswith("的网格") and grids["fills"] > 0
    assert {row["code"][:12] for row in grids["rows"]} == {th["rows"][0]["code"]}
    # Services: one row per community of the answer, the communities filled.
    sv = r["services"]
    assert sv["fillsBy"] == "services" and sv["fills"] > 0 and len(sv["rows"]) > 0
    assert sv["head"][0] == "社区" and sv["summary"].startswith("学校")
    assert all(row["code"] in communities or row["cells"][1] == "0" for row in sv["rows"])
    assert r["servicesEnglish"][0] == "Community" and r["tabsEnglish"][2:] == [
        "Review", "Thematic", "Services",
    ]  # fmt: skip


@pytest.fixture
def imported(facts: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A small IFC model linked to the target building and a LAS point cloud, imported beside
    it (80 m east and west) into the served tilesets folder; removed afterwards."""
    target = facts["target"]
    root: Path = facts["tilesets"]
    ifc = build_ifc(tmp_path / "house.ifc", site_latlon=(target["lat"], target["lon"] + 0.0008))
    with contextlib.closing(connect(facts["url"])) as conn:
        report = import_ifc(ifc, root / "bim" / "house", link=lambda storeys, spaces: link_building(
            conn, ifc.name, target["code"], storeys, spaces))  # fmt: skip
        conn.commit()
        las = build_las(tmp_path / "scan.las", target["lon"] - 0.0008, target["lat"])
        cloud = convert_point_cloud(las, root / "pointcloud" / "scan", LAS_CRS)
        try:
            yield {"elements": report.elements, "points": cloud.points}
        finally:
            conn.execute("DELETE FROM twin.bim_link WHERE model = %s", (ifc.name,))
            conn.commit()
            for folder in ("bim", "pointcloud"):
                shutil.rmtree(root / folder, ignore_errors=True)


def test_bim_models_and_point_clouds(
    base: str, facts: dict[str, Any], tmp_path: Path, imported: dict[str, Any]
) -> None:
    r = _run(base, facts, tmp_path, "admin", steps=["load", "models"], records=True,
             suffix="-models")  # fmt: skip
    # Both listed in the layers tab (by kind, then name), the BIM model with its building.
    assert [(m["path"], m["kind"]) for m in r["models"]] == [
        ("bim/house", "bim"), ("pointcloud/scan", "pointcloud"),
    ]  # fmt: skip
    assert facts["target"]["code"] in r["models"][0]["text"] and "点云" in r["models"][1]["text"]
    # Each flown to and drawn: tiles loaded (no console error, no outside request: _run).
    assert r["modelTiles"]["bim/house"] >= 2 and r["modelTiles"]["pointcloud/scan"] >= 1
    # A click in the middle of the BIM model's view names one of its IFC elements or spaces.
    picked = r["modelPicked"]
    assert picked.get("ifc_type", "IfcSpace").startswith("Ifc") and len(picked["global_id"]) == 22
    assert r["modelPickedText"].startswith(picked.get("ifc_type", "IfcSpace"))
    # Point size and colouring by class; the BIM model hidden and shown again.
    assert r["pointStyle"] == {"size": 6, "colours": {"2": "#a1887f", "6": "#e53935"}}
    assert r["bimHidden"] is True and r["bimShownAgain"] is True
    # While the BIM model linked to the target building is shown, the city's extruded building
    # of that code is hidden (the tileset style's show condition); shown again without it.
    code = facts["target"]["code"]
    assert r["replaced"] == [code] and r["replacedWithoutModel"] == []
    assert r["buildingWithModel"] is False and r["buildingWithModelAgain"] is False
    assert r["buildingWithoutModel"] is True
    assert r["modelsEnglish"] == "BIM models and point clouds"
