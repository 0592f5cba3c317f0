"""Reads a sweep's Parquet tables with pyarrow and checks them against the CSV of the same sweep.

    python3 tests/python/check_sweep_parquet.py RESULTS_CSV SWEEP_DIR

RESULTS_CSV is the `results.csv` of `diaspora sweep merge DIR --format csv`; SWEEP_DIR is the same
sweep folder merged again with `--format parquet` (its tables in SWEEP_DIR/results/). The sweep
must have `keep` entries and `outputs = "series"`, so that every table has rows. For each table it
checks the column names and Parquet types the README documents, the number of rows, and the values
against the CSV: `runs` (plan columns and the seed as text, `distance`) against the `distance`
rows, `fit` against the `log1p_rmse` rows, `kept` against the `kept` rows and `series` against the
`simulated` rows — exactly, since both are written at full precision (an empty CSV cell is a
null). Exits 1 with a message on the first difference; prints one line per table when all match.
"""

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

KEY = [("series", pa.string()), ("place", pa.string()), ("sex", pa.string())]

TYPES = {
    "fit": [
        ("row", pa.int64()),
        *KEY,
        ("measure", pa.string()),
        ("years", pa.int32()),
        ("first_year", pa.int32()),
        ("last_year", pa.int32()),
        ("masked_years", pa.int32()),
        ("log1p_rmse", pa.float64()),
        ("mean_abs_log_ratio", pa.float64()),
        ("mase", pa.float64()),
        ("bias", pa.float64()),
        ("coverage_90", pa.float64()),
    ],
    "kept": [
        ("row", pa.int64()),
        ("output", pa.string()),
        ("year", pa.int32()),
        ("value", pa.float64()),
    ],
    "series": [("row", pa.int64()), *KEY, ("year", pa.int32()), ("value", pa.float64())],
}

NULLABLE = {
    "runs": {"distance"},
    "fit": {"log1p_rmse", "mean_abs_log_ratio", "mase", "coverage_90"},
    "kept": {"year", "value"},
    "series": set(),
}


def fail(message):
    print(f"check_sweep_parquet: {message}", file=sys.stderr)
    sys.exit(1)


def number(cell):
    return None if cell == "" else float(cell)


def integer(cell):
    return None if cell == "" else int(cell)


def read_csv(path):
    """The CSV with every column as text (no reader guesses types), as a list of dicts."""
    with open(path, encoding="utf-8") as f:
        names = f.readline().rstrip("\n").split(",")
    text = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False
    )
    return pacsv.read_csv(path, convert_options=text).to_pylist()


def check_schema(name, table, expected):
    schema = table.schema
    if schema.names != [n for n, _ in expected]:
        fail(f"{name}.parquet: columns {schema.names}, expected {[n for n, _ in expected]}")
    for n, t in expected:
        field = schema.field(n)
        if field.type != t:
            fail(f"{name}.parquet: column {n} is {field.type}, expected {t}")
        if field.nullable != (n in NULLABLE[name]):
            fail(f"{name}.parquet: column {n} nullable={field.nullable}")


def compare(name, parquet_rows, csv_rows):
    if len(parquet_rows) != len(csv_rows):
        fail(f"{name}: {len(parquet_rows)} Parquet rows against {len(csv_rows)} in the CSV")
    for i, (p, c) in enumerate(zip(parquet_rows, csv_rows)):
        if p != c:
            fail(f"{name}: row {i}: Parquet {p} against CSV {c}")


def main():
    if len(sys.argv) != 3:
        fail("usage: check_sweep_parquet.py RESULTS_CSV SWEEP_DIR")
    csv_rows = read_csv(Path(sys.argv[1]))
    tables = Path(sys.argv[2]) / "results"
    fixed = ["row", "point", "replicate", "seed"]
    first_measure = list(csv_rows[0]).index("measure")
    parameters = list(csv_rows[0])[len(fixed) : first_measure]
    by = lambda m: [r for r in csv_rows if r["measure"] == m]  # noqa: E731

    runs = pq.read_table(tables / "runs.parquet")
    types = [("row", pa.int64()), ("point", pa.int64()), ("replicate", pa.int32())]
    types.append(("seed", pa.string()))
    for p in parameters:
        switch = all(r[p] in ("true", "false") for r in csv_rows)
        types.append((p, pa.bool_() if switch else pa.float64()))
    types += [("distance", pa.float64()), ("seconds", pa.float64())]
    check_schema("runs", runs, types)
    expected = []
    for r in by("distance"):
        values = [r[p] for p in parameters]
        typed = [v == "true" if v in ("true", "false") else float(v) for v in values]
        point = [int(r["row"]), int(r["point"]), int(r["replicate"]), r["seed"]]
        expected.append(tuple(point + typed + [number(r["value"])]))
    got = [tuple(row[n] for n, _ in types[:-1]) for row in runs.to_pylist()]
    compare("runs", got, expected)
    if not any(int(r["seed"]) > 2**53 for r in by("distance")):
        fail("runs: no seed above 2^53: the text seeds are not exercised")
    if not all(s > 0 for s in runs.column("seconds").to_pylist()):
        fail("runs: a run time that is not positive")
    meta = pq.read_metadata(tables / "runs.parquet").metadata or {}
    if b"diaspora.plan_hash" not in meta:
        fail("runs.parquet: no diaspora.plan_hash in the footer metadata")
    print(f"runs: {runs.num_rows} rows, {len(types)} columns, types and values match the CSV")

    key = lambda r: (int(r["row"]), r["series"], r["place"], r["sex"])  # noqa: E731
    checks = {
        "fit": (
            "log1p_rmse",
            lambda r: (*key(r), number(r["value"])),
            lambda p: (p["row"], p["series"], p["place"], p["sex"], p["log1p_rmse"]),
        ),
        "kept": (
            "kept",
            lambda r: (int(r["row"]), r["series"], integer(r["year"]), number(r["value"])),
            lambda p: (p["row"], p["output"], p["year"], p["value"]),
        ),
        "series": (
            "simulated",
            lambda r: (*key(r), int(r["year"]), number(r["value"])),
            lambda p: (p["row"], p["series"], p["place"], p["sex"], p["year"], p["value"]),
        ),
    }
    for name, (measure, from_csv, from_parquet) in checks.items():
        table = pq.read_table(tables / f"{name}.parquet")
        check_schema(name, table, TYPES[name])
        compare(name, [from_parquet(p) for p in table.to_pylist()], [from_csv(r) for r in by(measure)])
        if table.num_rows == 0:
            fail(f"{name}: no rows: the sweep does not exercise this table")
        print(f"{name}: {table.num_rows} rows, types and values match the CSV")


if __name__ == "__main__":
    main()
