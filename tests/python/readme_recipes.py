"""Runs the Python recipes of README.md's "Working with the outputs" section on real outputs.

    python3 tests/python/readme_recipes.py DIASPORA_BINARY

Every ```python block of the section must be preceded by a line `<!-- ci: STATE -->` saying
which outputs it reads: `run-csv` or `run-parquet` (a run in output/baseline/, written with
--format csv or parquet) or `sweep-csv` or `sweep-parquet` (a merged sweep in
output/sweeps/demo/). The outputs are made once, in a temporary folder, with small inputs of the
same shape (tests/fixtures/sweeps/baseline-small.toml, tests/fixtures/sweeps/parquet.toml);
before each block, output/baseline and output/sweeps/demo are pointed at the state it needs, and
the block runs there in a fresh namespace. Exits 1 on the first block that fails (or that has no
state line); prints one line per block.
"""

import os
import re
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Working with the outputs"
STATES = ["run-csv", "run-parquet", "sweep-csv", "sweep-parquet"]


def fail(message):
    print(f"readme_recipes: {message}", file=sys.stderr)
    sys.exit(1)


def blocks(readme):
    """The section's Python blocks, each with its state, in order."""
    text = readme.read_text(encoding="utf-8")
    start = text.find("\n" + SECTION + "\n")
    if start < 0:
        fail(f"no {SECTION!r} section in {readme}")
    end = text.find("\n## ", start + 1)
    lines = text[start : end if end > 0 else len(text)].splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            m = re.fullmatch(r"<!-- ci: (\S+) -->", lines[i - 1].strip())
            if not m or m.group(1) not in STATES:
                fail(f"the python block after {lines[i - 1]!r} has no `<!-- ci: STATE -->` line")
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            found.append((m.group(1), "\n".join(lines[i + 1 : j])))
            i = j
        i += 1
    if not found:
        fail(f"no python block in the {SECTION!r} section")
    return found


def make_outputs(binary, work):
    """The four states, under work/.states/."""
    run = lambda *args: subprocess.run([binary, *map(str, args)], cwd=ROOT, check=True, capture_output=True)  # noqa: E731
    states = work / ".states"
    scenario = "tests/fixtures/sweeps/baseline-small.toml"
    run("run", scenario, "--replicates", 3, "--out", states / "run-csv")
    run("run", scenario, "--replicates", 3, "--format", "parquet", "--out", states / "run-parquet")
    sweep = states / "sweep-csv"
    run("sweep", "plan", "tests/fixtures/sweeps/parquet.toml", "--out", sweep)
    run("sweep", "run", sweep, "--all")
    run("sweep", "merge", sweep, "--format", "csv")
    subprocess.run(["cp", "-r", sweep, states / "sweep-parquet"], check=True)
    run("sweep", "merge", states / "sweep-parquet", "--format", "parquet")
    return states


def point(link, target):
    if link.is_symlink():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)


def main():
    if len(sys.argv) != 2:
        fail("usage: readme_recipes.py DIASPORA_BINARY")
    binary = Path(sys.argv[1]).resolve()
    recipes = blocks(ROOT / "README.md")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        states = make_outputs(binary, work)
        os.chdir(work)
        for n, (state, code) in enumerate(recipes, 1):
            kind = state.split("-")[0]
            link = work / ("output/baseline" if kind == "run" else "output/sweeps/demo")
            point(link, states / state)
            try:
                exec(compile(code, f"README.md recipe {n} ({state})", "exec"), {})
            except Exception:
                traceback.print_exc()
                fail(f"recipe {n} ({state}) failed")
            print(f"recipe {n} ({state}): ran")


if __name__ == "__main__":
    main()
