"""Reads a run's Parquet tables with pyarrow and checks them against the CSV of the same run.

    python3 tests/python/check_parquet.py CSV_RUN_DIR PARQUET_RUN_DIR

Both folders hold the output of `diaspora run` with the same scenario, seed and replicates, one
with `--format csv` (the default), the other with `--format parquet`. For `series` and `summary`
it checks: the same number of rows, the column names and Parquet types the README documents,
the same keys in the same order, and the same values (series values exactly; summary
statistics, which the CSV rounds to six decimals, to within 5e-7; an empty CSV cell is a null).
Exits 1 with a message on the first difference; prints one line per table when all is equal.
"""

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

KEYS = {
    "series": ["replicate", "year", "series", "place", "sex"],
    "summary": ["year", "series", "place", "sex"],
}

TYPES = {
    "series": {
        "replicate": pa.int32(),
        "year": pa.int32(),
        "series": pa.string(),
        "place": pa.string(),
        "sex": pa.string(),
        "value": pa.float64(),
    },
    "summary": {
        "year": pa.int32(),
        "series": pa.string(),
        "place": pa.string(),
        "sex": pa.string(),
        **{c: pa.float64() for c in ["mean", "sd", "p05", "p50", "p95"]},
    },
}

NULLABLE = {"summary": {"sd"}}


def fail(message):
    print(f"check_parquet: {message}", file=sys.stderr)
    sys.exit(1)


def read_csv(path, types):
    # Read names as text and numbers as the types the Parquet promises, so that a value the CSV
    # spells differently (e.g. an integer-valued double) is compared as a number.
    opts = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=opts)


def check(stem, csv_dir, parquet_dir):
    expected = TYPES[stem]
    table = pq.read_table(parquet_dir / f"{stem}.parquet")
    schema = pq.read_schema(parquet_dir / f"{stem}.parquet")
    if schema.names != list(expected):
        fail(f"{stem}.parquet: columns {schema.names}, expected {list(expected)}")
    for name, t in expected.items():
        field = schema.field(name)
        if field.type != t:
            fail(f"{stem}.parquet: column {name} is {field.type}, expected {t}")
        if field.nullable != (name in NULLABLE.get(stem, set())):
            fail(f"{stem}.parquet: column {name} nullable={field.nullable}")
    csv = read_csv(csv_dir / f"{stem}.csv", expected)
    if csv.num_rows != table.num_rows:
        fail(f"{stem}: {table.num_rows} Parquet rows against {csv.num_rows} CSV rows")
    for key in KEYS[stem]:
        if not csv.column(key).equals(table.column(key)):
            fail(f"{stem}: column {key} differs between CSV and Parquet")
    for name in expected:
        if name in KEYS[stem]:
            continue
        a = csv.column(name).to_pylist()
        b = table.column(name).to_pylist()
        tolerance = 0.0 if stem == "series" else 5e-7
        for i, (x, y) in enumerate(zip(a, b)):
            if (x is None) != (y is None):
                fail(f"{stem}: row {i} column {name}: CSV {x!r} against Parquet {y!r}")
            if x is not None and abs(x - y) > tolerance * max(1.0, 1e-9 * abs(y)) + 1e-9 * abs(y):
                fail(f"{stem}: row {i} column {name}: CSV {x!r} against Parquet {y!r}")
    meta = pq.read_metadata(parquet_dir / f"{stem}.parquet").metadata or {}
    if b"diaspora.scenario_hash" not in meta:
        fail(f"{stem}.parquet: no diaspora.scenario_hash in the footer metadata")
    print(f"{stem}: {table.num_rows} rows, {len(expected)} columns, types and values match the CSV")


def main():
    if len(sys.argv) != 3:
        fail("usage: check_parquet.py CSV_RUN_DIR PARQUET_RUN_DIR")
    csv_dir, parquet_dir = Path(sys.argv[1]), Path(sys.argv[2])
    for stem in ["series", "summary"]:
        check(stem, csv_dir, parquet_dir)


if __name__ == "__main__":
    main()
