"""The floor of bench/analysis_load.py: a bare WSGI app (no Django) on the same gunicorn that
does the same database work as the project with nothing in between. A view reads the same stored
results row (and the data version) and returns the document; a save updates the same form row
and the data version in one transaction."""

from __future__ import annotations

import os
import re

import psycopg2

_conn = None
# the audited save's pass through the database's write guard (hfs_ecrf.audit.FLAG, checked equal
# by bench/analysis_load.py): the project's save sets it too
FLAG = "hfs_ecrf.audited_write"
SAVE = re.compile(r"^/save/(\d+)/(\d+)$")


def _db():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg2.connect(os.environ["DATABASE_URL"])
    return _conn


def application(environ, start_response):
    conn = _db()
    path = environ.get("PATH_INFO", "/")
    match = SAVE.match(path)
    with conn, conn.cursor() as cursor:
        if environ["REQUEST_METHOD"] == "POST" and match:
            pk, value = int(match[1]), int(match[2])
            cursor.execute("SELECT set_config(%s, 'on', true)", [FLAG])
            cursor.execute("UPDATE hfs_ecrf_dataversion SET version = version + 1 WHERE id = 1")
            cursor.execute(
                "UPDATE assessments_spasmassessment SET vas_frequency = %s, "
                "version = version + 1 WHERE id = %s",
                [value, pk],
            )
            start_response("302 Found", [("Location", path), ("Content-Length", "0")])
            return [b""]
        cursor.execute("SELECT version FROM hfs_ecrf_dataversion WHERE id = 1")
        cursor.execute(
            "SELECT document::text FROM analysis_analysisresult ORDER BY data_version DESC LIMIT 1"
        )
        row = cursor.fetchone()
    body = (row[0] if row else "{}").encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
