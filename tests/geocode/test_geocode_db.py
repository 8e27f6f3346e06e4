"""The geocoder on a generated street of Bao'an: accuracy on the generator's truth, reverse
geocoding, table files in and out (CSV in GBK, Excel, Parquet, GeoPackage), the command line
and the API, and corrections that the next query matches exactly."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from geocode.batch import BatchInputError, geocode_table, read_table, write_table
from geocode.index import AddressIndex, load_index
from geocode.jobs import JobNotReadyError, JobStore
from geocode.match import match
from geocode.service import reverse
from tests.utils.auth import key_headers
from tests.utils.cli import twin
from tests.utils.server import until
from twin.db.cluster import LocalCluster
from twin.db.connect import connect
from twin.settings import ApiSettings, PostgresSettings, TileSettings, TwinSettings
from twin.synth.run import generate

from ..conftest import TEST_DB, drop_database, fresh_database

pytestmark = pytest.mark.db
DISTRICT, STREET = "440306", "440306017"


@pytest.fixture(scope="module")
def street(pg_cluster: LocalCluster) -> Iterator[tuple[str, str]]:
    """A database holding one generated street (seed 7); its conninfo and URL."""
    name = f"{TEST_DB}_geocode"
    conninfo = fresh_database(pg_cluster, name)
    with contextlib.closing(connect(conninfo)) as conn:
        generate(conn, DISTRICT, "small", 7, street=STREET)
    yield conninfo, pg_cluster.url(name)
    drop_database(pg_cluster, name)


@pytest.fixture(scope="module")
def index(street: tuple[str, str]) -> AddressIndex:
    with psycopg.connect(street[0]) as conn:
        return load_index(conn)


def test_accuracy_on_the_generators_truth(street: tuple[str, str], index: AddressIndex) -> None:
    with psycopg.connect(street[0]) as conn:
        truth = conn.execute("SELECT messy_address, noise, address_code FROM twin.synth_truth")
        rows = truth.fetchall()
    assert len(rows) > 1000
    right, accepted, accepted_right = 0, 0, 0
    per_kind: Counter[str] = Counter()
    kind_total: Counter[str] = Counter()
    for text, noise, code in rows:
        result = match(index, text)
        ok = result.code == code
        right += ok
        if result.band == "accept":
            accepted += 1
            accepted_right += ok
        for kind in noise.split("+"):
            kind_total[kind] += 1
            per_kind[kind] += ok
    assert right / len(rows) >= 0.99
    assert accepted_right / accepted >= 0.995 and accepted / len(rows) >= 0.9
    assert {k: per_kind[k] / n >= 0.97 for k, n in kind_total.items()} == dict.fromkeys(
        kind_total, True
    )


def test_reverse_finds_the_building_and_its_block_path(street: tuple[str, str]) -> None:
    with psycopg.connect(street[0]) as conn:
        code, x, y = conn.execute(
            "SELECT code, ST_X(ST_PointOnSurface(footprint)), ST_Y(ST_PointOnSurface(footprint)) "
            "FROM twin.building ORDER BY code LIMIT 1"
        ).fetchone()
        inside = reverse(conn, x, y)
        door_code, dx, dy = conn.execute(
            "SELECT a.code, ST_X(a.geom), ST_Y(a.geom) FROM twin.address a WHERE level = 'door' "
            "AND NOT EXISTS (SELECT 1 FROM twin.building b WHERE ST_DWithin(b.footprint, a.geom, "
            "0.0003)) LIMIT 1"
        ).fetchone()
        near = reverse(conn, dx + 0.0001, dy, radius_m=50)
        sea = reverse(conn, 113.5, 22.3)
    assert inside["code"] == code and inside["level"] == "building" and inside["distance_m"] == 0
    path = inside["block_path"]
    assert path["community"]["code"] == code[:12] and path["grid"]["code"] == code[:14]
    assert path["street"]["code"] == code[:9] and path["district"]["code"] == code[:6]
    assert near["code"] == door_code and near["level"] == "door" and 0 < near["distance_m"] < 50
    assert sea["code"] is None and sea["block_path"]["district"] is None


def _truth_sample(conninfo: str, n: int) -> list[tuple[str, str]]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "SELECT messy_address, address_code FROM twin.synth_truth "
            "ORDER BY record_kind, source_id LIMIT %s",
            (n,),
        ).fetchall()


def test_a_gbk_csv_file_comes_out_whole(street: tuple[str, str], tmp_path: Path) -> None:
    sample = _truth_sample(street[0], 50)
    src = tmp_path / "records.csv"
    lines = ["编号,地址,备注"] + [f"{i},{t},x" for i, (t, _) in enumerate(sample)]
    lines += ["98,,empty", "99,宝安区,too,many,fields", '100,"unterminated']
    src.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    out = tmp_path / "out.csv"
    env = {**os.environ, "DATABASE_URL": street[1]}
    done = twin(env, "geocode", str(src), "--column", "地址", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "53 rows" in done.stdout and "rows/s" in done.stdout
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(sample) + 3
    assert [r["编号"] for r in rows[: len(sample)]] == [str(i) for i in range(len(sample))]
    right = sum(r["code"] == code for r, (_, code) in zip(rows, sample, strict=False))
    assert right >= len(sample) - 1
    assert all(r["standard_address"] and r["lon"] for r in rows[: len(sample)] if r["code"])
    assert rows[-3]["band"] == "reject" and "empty" in rows[-3]["reason"]
    assert rows[-2]["band"] == "reject" and "malformed CSV line" in rows[-2]["reason"]
    assert rows[-1]["band"] == "reject"


def test_excel_parquet_and_geopackage(street: tuple[str, str], tmp_path: Path) -> None:
    import openpyxl
    import pyogrio

    sample = _truth_sample(street[0], 20)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "address"])
    for i, (text, _) in enumerate(sample):
        sheet.append([i, text])
    book.save(tmp_path / "in.xlsx")
    table = read_table(tmp_path / "in.xlsx")
    assert len(table.rows) == len(sample)
    with psycopg.connect(street[0]) as conn:
        idx = load_index(conn)
        header, rows, summary = geocode_table(conn, idx, table, "address", workers=1)
        with pytest.raises(BatchInputError, match="column 'addr' is not in the file"):
            geocode_table(conn, idx, table, "addr")
    assert summary.rows == len(sample) and summary.bands["accept"] >= len(sample) - 1
    for suffix in (".xlsx", ".parquet", ".gpkg"):
        write_table(tmp_path / f"out{suffix}", header, rows)
        back = read_table(tmp_path / f"out{suffix}")
        assert len(back.rows) == len(sample)
        codes = [r[back.columns.index("code")] for r in back.rows]
        assert sum(c == code for c, (_, code) in zip(codes, sample, strict=True)) >= len(sample) - 1
    frame = pyogrio.read_dataframe(tmp_path / "out.gpkg")
    assert frame.crs.to_epsg() == 4326 and frame.geometry.notna().sum() >= len(sample) - 1
    with pytest.raises(BatchInputError, match="no such file"):
        read_table(tmp_path / "missing.csv")


@pytest.fixture
def client(street: tuple[str, str]) -> Iterator[TestClient]:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(street[1])))
    app = create_app(settings, tiles=TileSettings(invalidate_on_change=False))
    with TestClient(app, headers=key_headers(street[0], name="reviewer-2")) as c:
        yield c


def test_the_geocoder_api(street: tuple[str, str], client: TestClient) -> None:
    (text, code), *rest = _truth_sample(street[0], 30)
    one = client.get("/api/v1/geocode", params={"q": text + " 电话13800138000"})
    assert one.status_code == 200
    body = one.json()
    assert body["code"] == code and body["standard_address"] and body["lon"] and body["lat"]
    assert "13800138000" not in json.dumps(body, ensure_ascii=False)  # masked
    assert body["explain"] and body["level"] in ("building", "room")
    batch = client.post("/api/v1/geocode:batch", json={"addresses": [t for t, _ in rest] + [""]})
    assert batch.status_code == 200
    results = batch.json()["results"]
    assert len(results) == len(rest) + 1 and results[-1]["band"] == "reject"
    assert sum(r["code"] == c for r, (_, c) in zip(results, rest, strict=False)) >= len(rest) - 1
    too_many = client.post("/api/v1/geocode:batch", json={"addresses": ["x"] * 1001})
    assert too_many.status_code == 422
    bad_point = client.get("/api/v1/reverse", params={"lon": 200, "lat": 22.5})
    assert bad_point.status_code == 422


def test_a_correction_is_matched_exactly_next_time(
    street: tuple[str, str], client: TestClient
) -> None:
    with psycopg.connect(street[0]) as conn:
        (building,) = conn.execute(
            "SELECT code FROM twin.address WHERE level = 'building' ORDER BY code LIMIT 1"
        ).fetchone()
    text = "宝安那边老张家楼上"
    before = client.get("/api/v1/geocode", params={"q": text}).json()
    assert before["code"] != building
    saved = client.post("/api/v1/geocode/corrections", json={"text": text, "code": building})
    assert saved.status_code == 201, saved.text
    after = client.get("/api/v1/geocode", params={"q": text}).json()
    assert after["code"] == building and after["band"] == "accept"
    with psycopg.connect(street[0]) as conn:
        row: Any = conn.execute(
            "SELECT kind, created_by FROM twin.address_alias WHERE text = %s", (text,)
        ).fetchone()
        assert row[0] == "correction" and row[1].startswith("reviewer-2 (admin, ")
        fresh = load_index(conn)  # a new process learns it from the library too
    assert match(fresh, text).code == building
    unknown = client.post("/api/v1/geocode/corrections", json={"text": text, "code": "4403069"})
    assert unknown.status_code == 404


def _job_client(street: tuple[str, str], home: Path, role: str = "grid_worker") -> TestClient:
    settings = TwinSettings(home=home, db=PostgresSettings(database_url=SecretStr(street[1])))
    app = create_app(settings, tiles=TileSettings(invalidate_on_change=False))
    scope = STREET + "001" if role == "grid_worker" else None
    return TestClient(app, headers=key_headers(street[0], role, scope))


def _wait(client: TestClient, job_id: str) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for _ in range(1200):
        res = client.get(f"/api/v1/jobs/{job_id}")
        if res.status_code == 503:  # the database is restarting: the API says so, then recovers
            time.sleep(0.1)
            continue
        state = res.json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {state}")


def test_a_geocoding_job_runs_and_survives_a_restart(
    street: tuple[str, str], tmp_path: Path
) -> None:
    sample = _truth_sample(street[0], 40)
    data = ("地址\n" + "\n".join(t for t, _ in sample) + "\n").encode("gbk")
    with _job_client(street, tmp_path) as client:
        res = client.post("/api/v1/jobs/geocode", files={"file": ("records.csv", data)},
                          data={"column": "地址", "output": "xlsx"})  # fmt: skip
        assert res.status_code == 202, res.text
        job = res.json()
        assert job["rows"] == len(sample) and res.headers["location"] == job["url"]
        state = _wait(client, job["id"])
        assert state["status"] == "done" and state["progress"] == 1.0, state
        assert sum(state["bands"].values()) == len(sample)
        download = client.get(state["result_url"])
        assert download.status_code == 200
        (tmp_path / "result.xlsx").write_bytes(download.content)
        table = read_table(tmp_path / "result.xlsx")
        codes = [r[table.columns.index("code")] for r in table.rows]
        assert sum(c == code for c, (_, code) in zip(codes, sample, strict=True)) >= len(sample) - 1
        wrong = client.post("/api/v1/jobs/geocode", files={"file": ("r.csv", data)},
                            data={"column": "address"})  # fmt: skip
        assert wrong.status_code == 422 and "'address' is not in r.csv" in wrong.json()["detail"]
        assert client.get("/api/v1/jobs/0123456789abcdef").status_code == 404
    with _job_client(street, tmp_path) as other:  # another grid worker's key
        assert other.get(f"/api/v1/jobs/{job['id']}").status_code == 404
    # A server that stopped while a job ran: the next one runs it again to the end.
    store = JobStore(tmp_path / "jobs")
    pending = store.create("late.csv", data, "地址", "csv", "clerk-1")
    pending.status, pending.done_rows = "running", 10
    store.save(pending)
    with pytest.raises(JobNotReadyError, match="is running"):
        store.result_path(pending.id)
    with _job_client(street, tmp_path, "admin") as client:
        state = _wait(client, pending.id)
        assert state["status"] == "done" and state["attempts"] == 1 and state["done_rows"] == 40
        assert client.get(f"/api/v1/jobs/{pending.id}/result").status_code == 200


def test_a_grid_workers_key_changes_only_its_own_community(street: tuple[str, str]) -> None:
    mine, other = f"{STREET}001", f"{STREET}002"
    with psycopg.connect(street[0]) as conn:
        codes = dict(conn.execute(
            "SELECT DISTINCT ON (community_code) community_code, code FROM twin.address "
            "WHERE level = 'building' AND community_code = ANY(%s) ORDER BY community_code, code",
            ([mine, other],),
        ).fetchall())  # fmt: skip
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(street[1])))
    app = create_app(settings, tiles=TileSettings(invalidate_on_change=False))
    with TestClient(app, headers=key_headers(street[0], "grid_worker", mine, "w-1")) as client:
        for community, expected in ((mine, 200), (other, 403)):
            code = codes[community]
            etag = client.get(f"/api/v1/addresses/{code}").headers["etag"]
            res = client.patch(f"/api/v1/addresses/{code}", json={"add_aliases": ["某楼"]},
                               headers={"If-Match": etag})  # fmt: skip
            assert res.status_code == expected, res.text
            fix = client.post("/api/v1/geocode/corrections", json={"text": "那栋", "code": code})
            assert fix.status_code == (201 if expected == 200 else 403), fix.text
        body, if_match = {"retire_successors": []}, {"If-Match": '"v1"'}
        retire = client.patch(f"/api/v1/addresses/{codes[mine]}", json=body, headers=if_match)
        assert retire.status_code == 403 and "may not verify or retire" in retire.json()["detail"]
    with psycopg.connect(street[0]) as conn:
        aliases = conn.execute("SELECT address_code FROM twin.address_alias WHERE text = '某楼'")
        assert [r[0] for r in aliases.fetchall()] == [codes[mine]]


def test_a_job_workers_index_learns_the_corrections_saved_after_it_loaded(
    street: tuple[str, str],
) -> None:
    from api.worker import WorkerIndex
    from geocode.library.writes import add_alias

    worker_index = WorkerIndex(street[0])
    text = "宝安那边老王家小卖部"
    with contextlib.closing(connect(street[0])) as conn:
        (building,) = conn.execute(
            "SELECT code FROM twin.address WHERE level = 'building' ORDER BY code DESC LIMIT 1"
        ).fetchone()
        index = worker_index(conn)
        assert match(index, text).code != building
        add_alias(conn, building, text, actor="tests", kind="correction", source="tests")
        conn.commit()
        assert worker_index(conn) is index  # not loaded again: only the new aliases are read
    assert match(index, text).code == building
    assert worker_index.as_of is not None


def _geocode_apps(street: tuple[str, str], *, siblings: bool = False) -> tuple[Any, Any]:
    settings = TwinSettings(db=PostgresSettings(database_url=SecretStr(street[1])))
    tiles = TileSettings(invalidate_on_change=False)
    fast_settings = ApiSettings(geocode_fast_path=True, describe_siblings=siblings)
    fast = create_app(settings, fast_settings, tiles)
    slow = create_app(settings, ApiSettings(geocode_fast_path=False), tiles)
    return fast, slow


def test_the_geocoding_fast_path_answers_as_the_route_does(street: tuple[str, str]) -> None:
    from api.fastpath import GeocodeFastPath

    headers = key_headers(street[0], "system", None, "crm")
    texts = [t for t, _ in _truth_sample(street[0], 25)]
    texts += [texts[0] + " 电话13800138000", "", "🏠🏠", "x" * 10_000, texts[1], texts[1]]
    fast_app, slow_app = _geocode_apps(street)
    with (
        TestClient(fast_app, headers=headers) as fast,
        TestClient(slow_app, headers=headers) as slow,
    ):
        for text in texts:
            a = fast.get("/api/v1/geocode", params={"q": text})
            b = slow.get("/api/v1/geocode", params={"q": text})
            assert a.status_code == b.status_code == 200
            assert a.json() == b.json()
            assert a.headers["content-type"] == b.headers["content-type"] == "application/json"
        assert "13800138000" not in fast.get("/api/v1/geocode", params={"q": texts[-6]}).text
        for bad in ({"q": "x" * 10_001}, {"q": "a\x00b"}, {}):
            a, b = fast.get("/api/v1/geocode", params=bad), slow.get("/api/v1/geocode", params=bad)
            assert a.status_code == b.status_code and a.status_code in (400, 422), bad
        no_key = fast.get("/api/v1/geocode", params={"q": texts[0]}, headers={"Authorization": ""})
        assert no_key.status_code == 401
        weak = key_headers(street[0], "planner", None, "maps")
        assert fast.get("/api/v1/geocode", params={"q": texts[0]}, headers=weak).status_code == 403
        # Known key, loaded geocoder: answered before the application (which is not called).
        passed_on: list[str] = []
        sent: list[dict[str, Any]] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            passed_on.append(scope["query_string"].decode())

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        path = GeocodeFastPath(app)
        auth = [(b"authorization", headers["Authorization"].encode())]
        for query in (urlencode({"q": texts[1]}), "q=" + "x" * 10_001, "q=a&q=b", "q=a%00"):
            scope = {"type": "http", "method": "GET", "path": "/api/v1/geocode",
                     "query_string": query.encode(), "headers": auth, "app": fast_app}  # fmt: skip
            fast.portal.call(path, scope, receive, send)  # type: ignore[union-attr]
        assert sent[0]["status"] == 200
        assert (
            json.loads(sent[1]["body"])
            == slow.get("/api/v1/geocode", params={"q": texts[1]}).json()
        )
        assert len(sent) == 2 and len(passed_on) == 3  # too long, twice, NUL: the app answers


def test_a_changed_address_is_answered_with_its_new_text(street: tuple[str, str]) -> None:
    from geocode.library.repository import get_address
    from geocode.library.writes import change_address

    (text, code), *_ = _truth_sample(street[0], 1)
    fast_app, _ = _geocode_apps(street, siblings=True)
    with TestClient(fast_app, headers=key_headers(street[0], "system")) as client:
        before = client.get("/api/v1/geocode", params={"q": text}).json()
        assert before["code"] == code and before["standard_address"]
        assert client.get("/api/v1/geocode", params={"q": text}).json() == before  # cached
        with psycopg.connect(street[0]) as conn:
            siblings = [r[0] for r in conn.execute(
                "SELECT code FROM twin.address WHERE building_code = "
                "(SELECT building_code FROM twin.address WHERE code = %s)", (code,)
            ).fetchall()]  # fmt: skip
        assert len(siblings) > 1  # the building's other addresses came with the first miss
        assert fast_app.state.described.lookup(siblings) is not None
        with contextlib.closing(connect(street[0])) as conn:
            version = get_address(conn, code).version
            renamed_text = before["standard_address"] + "附楼"
            change_address(conn, code, version, actor="tests", text=renamed_text)
            conn.commit()

        def renamed() -> bool:
            got = client.get("/api/v1/geocode", params={"q": text}).json()["standard_address"]
            return bool(got == renamed_text)

        until(renamed, "the new standard text", timeout=10)
        with contextlib.closing(connect(street[0])) as conn:
            version = get_address(conn, code).version
            change_address(conn, code, version, actor="tests", text=before["standard_address"])
            conn.commit()
