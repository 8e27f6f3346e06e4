"""Settings, one small class per concern, read from the environment by the composition roots.

Library code never reads the environment: the ``twin`` command line and ``api/asgi.py``
build these objects and pass them down.

Environment variables
---------------------
``DATABASE_URL``
    Use this PostgreSQL server instead of the project's own cluster.
``TWIN_HOME``
    The project's data home (default ``./.twin``): the local cluster, caches, job files.
``TWIN_DB_PORT``
    Port for the local cluster (default: a free port, chosen once and remembered).
``TWIN_DB_OS_USER``
    The unprivileged user that runs the local cluster when citytwin runs as root
    (default ``postgres``).
``TWIN_API_HOST`` / ``TWIN_API_PORT``
    Where ``twin serve`` listens (default ``127.0.0.1:8000``).
``TWIN_API_JOBS``
    ``process`` (set by ``twin serve``): background jobs run in a job worker process;
    ``thread`` (default): in a thread of the server process.
``TWIN_3D_TILESETS_DIR``
    Where ``twin 3d`` writes tilesets and the API serves them (default ``HOME/3dtiles``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: How ``twin serve`` tells its job worker (``python -m api.worker``) the pid of its parent.
JOB_WORKER_PARENT_ENV = "TWIN_JOB_WORKER_PARENT"


class PostgresSettings(BaseSettings):
    """Where the database is: an outside server (``DATABASE_URL``) or the local cluster."""

    model_config = SettingsConfigDict(
        env_prefix="TWIN_DB_", extra="ignore", env_nested_delimiter="__"
    )

    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    port: int | None = Field(default=None, ge=1024, le=65535)
    os_user: str = "postgres"
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=8, ge=1)
    connect_timeout_s: int = Field(default=5, ge=1)

    @property
    def is_external(self) -> bool:
        """Whether an outside server was named with ``DATABASE_URL``."""
        return self.database_url is not None and bool(self.database_url.get_secret_value())


class ModelSettings(BaseSettings):
    """The 3D Tiles tilesets: where ``twin 3d`` writes them and how the API serves them."""

    model_config = SettingsConfigDict(env_prefix="TWIN_3D_", extra="ignore")

    #: Folder of the tilesets (default: ``3dtiles/`` in the data home).
    tilesets_dir: Path | None = None
    #: How long clients may keep a tile without asking again (tileset.json: always ask).
    max_age_s: int = Field(default=60, ge=0)
    #: The built viewer (default: ``web/dist`` of the checkout the ``api`` package runs from).
    viewer_dir: Path | None = None


class TwinSettings(BaseSettings):
    """Settings shared by every command: the data home, the database and the 3D tilesets."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore", env_nested_delimiter="__")

    home: Path = Field(default=Path(".twin"))
    db: PostgresSettings = Field(default_factory=PostgresSettings)
    models3d: ModelSettings = Field(default_factory=ModelSettings)

    @property
    def home_abs(self) -> Path:
        """The data home as an absolute path."""
        return self.home.expanduser().resolve()

    @property
    def tilesets_abs(self) -> Path:
        """The folder of the 3D Tiles tilesets, absolute."""
        where = self.models3d.tilesets_dir or self.home / "3dtiles"
        return where.expanduser().resolve()


class ApiSettings(BaseSettings):
    """How the HTTP server listens and what it serves."""

    model_config = SettingsConfigDict(env_prefix="TWIN_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    title: str = "citytwin"
    cors_origins: list[str] = Field(default_factory=list)
    #: Require an API key on every route but the public ones (off only for a local demo).
    auth: bool = True
    #: Where background jobs run: ``thread`` (in the server process) or ``process`` (a job
    #: worker that ``twin serve`` starts, so that jobs do not slow the server's answers).
    jobs: Literal["thread", "process"] = "thread"
    #: Answer single geocoding requests of known keys before routing, with the matched codes'
    #: texts and locations kept in memory (off: through the whole stack, for comparison).
    geocode_fast_path: bool = True
    #: Matched codes whose standard text and location the server keeps in memory (about
    #: 200 bytes each); emptied whenever the library changes.
    describe_cache_codes: int = Field(default=200_000, ge=0)
    #: On a miss, also cache every other address of the matched code's building (in the same
    #: query). Off by default: when most queries fall in different buildings (a district's
    #: messy addresses), reading the siblings costs more than the hits they bring.
    describe_siblings: bool = False


class TileSettings(BaseSettings):
    """The vector-tile service: privacy threshold, cache size, HTTP caching."""

    model_config = SettingsConfigDict(env_prefix="TWIN_TILES_", extra="ignore")

    #: Counts below this are withheld from tiles for roles that may not see individuals.
    privacy_threshold: int = Field(default=5, ge=0)
    cache_bytes: int = Field(default=256 * 1024 * 1024, ge=0)
    max_age_s: int = Field(default=60, ge=0)
    #: Listen for data changes and invalidate cached tiles (off only for benchmarks).
    invalidate_on_change: bool = True
    #: Connections of the tile pool, opened at start (tiles come in bursts of a map's view).
    pool_size: int = Field(default=8, ge=1)
    #: No tile query may run longer (a bound on every request's work), milliseconds.
    statement_timeout_ms: int = Field(default=10_000, ge=100)
