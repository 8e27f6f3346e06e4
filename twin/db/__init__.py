"""Database lifecycle: the local cluster, connections, version checks and migrations."""
