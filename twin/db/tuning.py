"""Server settings of the local cluster, tuned for citytwin's workload on a small machine.

The workload: bulk loads of millions of rows with COPY, spatial joins over millions of points,
vector tiles (many short queries) and geocoding (many tiny index look-ups). The figures suit a
machine of 2 cores and a few GB for the database; every line says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def render_conf(port: int, socket_dir: Path) -> str:
    """Return the ``citytwin.conf`` that ``postgresql.conf`` includes.

    Parameters
    ----------
    port
        TCP port on 127.0.0.1 (also names the Unix socket file).
    socket_dir
        Folder of the Unix socket.

    Examples
    --------
    >>> from pathlib import Path
    >>> "jit = off" in render_conf(5432, Path("/tmp"))
    True
    """
    return f"""# Written by `twin db up` at every start; edit postgresql.conf to override.
# Where to listen: loopback only (the cluster is local to the project) and a private socket.
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
unix_socket_permissions = 0700

# Memory. Buffers hold the hot tile and geocoding indexes; 1 GB is enough for the city's
# building and address indexes without starving the OS page cache.
shared_buffers = 1GB
# The planner assumes the OS caches what shared_buffers does not (most of a 24 GB machine).
effective_cache_size = 8GB
# Spatial joins and sorts for aggregates spill to disk below ~64 MB per node.
work_mem = 64MB
# Index builds after bulk loads (GiST over millions of footprints) run much faster with room.
maintenance_work_mem = 1GB

# Parallelism: two cores, so at most two workers per query; big point-in-polygon joins use them.
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 2
max_parallel_maintenance_workers = 2

# JIT compiles expressions for long analytic queries but adds 10-100 ms to short ones: tiles
# and geocoding are short queries, and JIT made them slower. Off.
jit = off

# Storage is an SSD: random reads cost about as much as sequential ones.
random_page_cost = 1.1
effective_io_concurrency = 200

# Bulk loads: fewer, larger checkpoints; COPY into a table made in the same transaction skips
# WAL with wal_level = minimal (no replication on a local cluster).
wal_level = minimal
max_wal_senders = 0
max_wal_size = 4GB
checkpoint_timeout = 15min
wal_compression = on

# Logging: slow statements only, so the log stays readable during loads.
log_min_duration_statement = 2000
log_line_prefix = '%m [%p] %d '
# The server speaks UTC; times are converted at the edges.
timezone = 'UTC'
"""
