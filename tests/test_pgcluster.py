"""The throw-away PostgreSQL cluster the record tests run against."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import pgcluster


def test_without_server_binaries_the_reason_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pgcluster, "find_bindir", lambda: None)
    reason = pgcluster.missing_reason()
    assert reason is not None and "apt-get install postgresql" in reason


def test_server_binaries_are_found_in_a_directory_that_has_them_all(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in pgcluster.SERVER_BINARIES:
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    (tmp_path / "pg_config").write_text(f"#!/bin/sh\necho {tmp_path}\n")
    (tmp_path / "pg_config").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pgcluster.find_bindir() == str(tmp_path)
    os.remove(tmp_path / "postgres")  # initdb alone is not a server
    assert pgcluster.find_bindir() != str(tmp_path)


def test_a_stopped_cluster_starts_again_on_the_same_port_with_its_data(
    pg_cluster: pgcluster.PgCluster, postgres_url: str
) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE kept (n int)")
        connection.execute("INSERT INTO kept VALUES (42)")
    port = pg_cluster.port
    pg_cluster.stop(mode="immediate")
    assert not pg_cluster.is_running()
    pg_cluster.start()
    assert pg_cluster.port == port and pg_cluster.is_running()
    with psycopg.connect(postgres_url) as connection:
        assert connection.execute("SELECT n FROM kept").fetchone() == (42,)
