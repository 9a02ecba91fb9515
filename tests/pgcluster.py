"""Run a command against a throwaway PostgreSQL cluster.

    python -m tests.pgcluster -- pytest -m "not browser"

If DATABASE_URL already names a PostgreSQL server, the command runs against it unchanged.
Otherwise a cluster is created with the machine's initdb/pg_ctl in a temporary directory
(as the unprivileged ``postgres`` user when running as root, since PostgreSQL refuses root),
with the two roles of a production database: ``hfs_owner`` (owns the tables, runs migrations;
may create databases, for the test database) and ``hfs_app`` (what the application connects
as). The command runs with DATABASE_URL naming the app role, DATABASE_OWNER_URL the owner and
DATABASE_APP_ROLE=hfs_app; the tests create and migrate their database as the owner and then
run as the app role (tests/conftest.py). The cluster is removed afterwards.
Without PostgreSQL binaries the run is skipped with a message, except under CI=true, where a
missing PostgreSQL is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_BIN_CANDIDATES = [
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/17/bin",
    "/usr/local/pgsql/bin",
]


def find_pg_bin() -> Path | None:
    for name in ("initdb", "pg_ctl"):
        if shutil.which(name) is None:
            break
    else:
        return Path(shutil.which("initdb")).resolve().parent
    for candidate in PG_BIN_CANDIDATES:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_unprivileged(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    pg_bin = find_pg_bin()
    if pg_bin is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    workdir = Path(tempfile.mkdtemp(prefix="hfs-pg-"))
    datadir = workdir / "data"
    if os.geteuid() == 0:
        shutil.chown(workdir, user="postgres", group="postgres")
    port = _free_port()
    subprocess.run(
        _as_unprivileged(
            [
                str(pg_bin / "initdb"),
                "-D",
                str(datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
                "-N",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    subprocess.run(
        _as_unprivileged(
            [
                str(pg_bin / "pg_ctl"),
                "-D",
                str(datadir),
                "-l",
                str(workdir / "server.log"),
                "-o",
                options,
                "-w",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        superuser = f"postgres://postgres@127.0.0.1:{port}/postgres"
        _create_roles(superuser)
        yield superuser
    finally:
        subprocess.run(
            _as_unprivileged(
                [str(pg_bin / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(workdir, ignore_errors=True)


OWNER_ROLE = "hfs_owner"
APP_ROLE = "hfs_app"


def _create_roles(superuser_url: str) -> None:
    import psycopg2

    with contextlib.closing(psycopg2.connect(superuser_url)) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB")
            cursor.execute(f"CREATE ROLE {APP_ROLE} LOGIN")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python -m tests.pgcluster -- COMMAND ...", file=sys.stderr)
        return 2
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        print("Running on the PostgreSQL server named by DATABASE_URL")
        return subprocess.call(argv)
    if find_pg_bin() is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.environ.get("CI", "").lower() == "true":
            print(f"FAIL: {message}; CI requires the PostgreSQL pass.", file=sys.stderr)
            return 1
        print(f"SKIPPED the PostgreSQL pass: {message}.", file=sys.stderr)
        return 0
    with throwaway_cluster() as superuser_url:
        address = superuser_url.split("@", 1)[1]
        print(f"Running on a throwaway PostgreSQL cluster at {address} as {APP_ROLE}")
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{APP_ROLE}@{address}",
            "DATABASE_OWNER_URL": f"postgres://{OWNER_ROLE}@{address}",
            "DATABASE_APP_ROLE": APP_ROLE,
        }
        return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
