#!/usr/bin/env python3
"""Benchmark: import 200,000 generated dossier rows.

Baseline, measured in the same run on the same database: parse the same file with `csv` and
insert the raw rows with one `executemany` into a bare table. Target: at most 3x the baseline.
The import is the real one (`read_case_file` + `import_case_file`, as `cati cases import`
does, in one transaction), on a fresh
migrated database; a second import of the same file (every row unchanged) is shown too.

The exit status is 0 whatever the figures: this is a measurement.

Usage: scripts/bench_intake.py [--rows N] [--repeats K]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import backends, best_of, report, scratch_database

from cati.db import make_engine, make_session_factory
from cati.migrate import upgrade
from cati.services.intake import import_case_file, read_case_file
from cati.synthetic import generate_cases, write_cases_csv

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
TARGET = 3.0


def baseline(url: str, path: Path) -> float:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bare_rows")
        conn.exec_driver_sql(
            "CREATE TABLE bare_rows (" + ", ".join(f"c{i} TEXT" for i in range(13)) + ")"
        )
    marker = "%s" if engine.dialect.name == "postgresql" else "?"
    sql = f"INSERT INTO bare_rows VALUES ({', '.join([marker] * 13)})"

    def run() -> None:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            rows = [tuple(row) for row in reader]
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if engine.dialect.name == "sqlite":
                cursor.execute("BEGIN")  # the engine runs pysqlite in autocommit mode
            cursor.executemany(sql, rows)
            raw.commit()
        finally:
            raw.close()

    def setup() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM bare_rows")

    try:
        return best_of(REPEATS, run, setup)
    finally:
        engine.dispose()


def real_import(url: str, path: Path) -> tuple[float, float, dict]:
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    summary: dict = {}

    def run() -> None:
        with factory() as session:
            result = import_case_file(session, read_case_file(path), tz=TZ, now=NOW)
            session.commit()
        summary.update(result.as_dict())

    def setup() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM cases")

    try:
        first = best_of(REPEATS, run, setup)
        counts = {k: v for k, v in summary.items() if k != "rejected"}
        again = best_of(1, run)
        return first, again, counts
    finally:
        engine.dispose()


def main() -> int:
    global REPEATS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    REPEATS = args.repeats
    with tempfile.TemporaryDirectory(prefix="cati-bench-") as folder:
        path = Path(folder) / "cases.csv"
        write_cases_csv(path, generate_cases("2026-W47", args.rows, seed=1))
        print(
            f"import of {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB CSV), "
            f"best of {REPEATS}"
        )
        for backend in backends():
            with scratch_database(backend) as url:
                base = baseline(url, path)
            with scratch_database(backend) as url:
                first, again, counts = real_import(url, path)
            report(
                backend,
                "import (new rows)",
                first,
                base,
                TARGET,
                f"{args.rows / first:,.0f} rows/s {counts}",
            )
            report(backend, "re-import (all unchanged)", again, base, TARGET)
    return 0  # a measurement, as the other benchmarks: the verdicts are printed


REPEATS = 3
if __name__ == "__main__":
    sys.exit(main())
