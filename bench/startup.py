"""Start-up of the `pulsegate` CLI against what its libraries cost alone (issue 21).

Run from the repository root:

    python bench/startup.py                      # 15 rounds
    python bench/startup.py --checkout /tmp/startup-before   # the code of another checkout

Each command runs as the console script enters it (`cli.main.run`, the checkout's code first on
the path), each against its baseline in the same round, the two in turn and the order swapped
every round (this VM is shared and its speed drifts: pairs, not blocks); the table gives the
medians and the ratio of the medians against the target (1.5x).

- `pulsegate --help` against `python -c "import typer, rich"`.
- `pulsegate keys list` offline (no server on the file) against `python -c "import duckdb, typer,
  rich; duckdb.connect(FILE, read_only=True)"`: the libraries it needs and the file opened. The file
  is made first by `pulsegate keys create` (two keys), in a temporary folder.

Every process gets the same environment: no PULSEGATE_* variables, the temporary folder as its
working directory (no ./pulsegate.toml), COLUMNS=100, and bytecode cached in a folder of its own
(PYTHONPYCACHEPREFIX; PYTHONDONTWRITEBYTECODE is dropped) and warmed by two unmeasured rounds, so
both sides run compiled code as an installed package does, not the checkout's sources recompiled
on every start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5
# The console script's body: pyproject's [project.scripts] enters at cli.main:run.
ENTRY = "import sys; from cli.main import run; sys.argv[0] = 'pulsegate'; sys.exit(run())"


def environment(checkout: Path, folder: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PULSEGATE_") and name not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    env.update(PYTHONPATH=str(checkout), PYTHONPYCACHEPREFIX=str(folder / "pycache"), COLUMNS="100")
    return env


def run(command: list[str], env: dict[str, str], folder: Path) -> float:
    """Wall-clock milliseconds of one run (it must succeed and print something)."""
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, timeout=60)
    took = (time.perf_counter() - started) * 1000
    if result.returncode != 0 or not result.stdout:
        raise SystemExit(f"{command[:3]}… failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description="Start-up time of the pulsegate CLI")
    parser.add_argument("--runs", type=int, default=15, help="measured rounds (each command and baseline)")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the code to measure (default: this one)")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="pulsegate-startup-") as temporary:
        folder = Path(temporary)
        env = environment(args.checkout.resolve(), folder)
        database = folder / "startup.duckdb"
        pulsegate = [python, "-c", ENTRY]
        for name in ("dashboard", "exports"):
            run([*pulsegate, "keys", "create", name, "--quiet", "--database", str(database)], env, folder)
        pairs = {
            "`pulsegate --help`": (
                [*pulsegate, "--help"],
                ("`import typer, rich`", [python, "-c", "import typer, rich; print('ok')"]),
            ),
            "`pulsegate keys list` (offline)": (
                [*pulsegate, "keys", "list", "--database", str(database)],
                (
                    "`import duckdb, typer, rich` + `duckdb.connect(FILE, read_only=True)`",
                    [python, "-c", "import duckdb, typer, rich; duckdb.connect(__import__('sys').argv[1], "
                     "read_only=True); print('ok')", str(database)],
                ),
            ),
        }  # fmt: skip
        took: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in pairs}
        for round_ in range(2 + args.runs):  # two rounds warm the bytecode cache and the file
            for name, (command, (_, baseline)) in pairs.items():
                sides = [command, baseline] if round_ % 2 else [baseline, command]
                times = [run(side, env, folder) for side in sides]
                if round_ >= 2:
                    took[name][0].append(times[sides.index(command)])
                    took[name][1].append(times[sides.index(baseline)])
    print(
        f"Start-up of `{args.checkout.resolve()}` ({args.runs} rounds, each command and its baseline in turn)\n"
    )
    print("| command | median ms | baseline | baseline median ms | ratio | target | met |")
    print("|---|---:|---|---:|---:|---:|---|")
    for name, (command_ms, baseline_ms) in took.items():
        ratio = statistics.median(command_ms) / statistics.median(baseline_ms)
        print(
            f"| {name} | {statistics.median(command_ms):.0f} | {pairs[name][1][0]} | "
            f"{statistics.median(baseline_ms):.0f} | {ratio:.2f}x | {TARGET}x | {'yes' if ratio <= TARGET else 'no'} |"
        )


if __name__ == "__main__":
    main()
