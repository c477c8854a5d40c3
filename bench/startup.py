"""Start-up of the `pulsegate` CLI against what its libraries cost alone (issue 21).

Run from the repository root:

    python bench/startup.py                                   # this checkout, 15 rounds
    git worktree add /tmp/startup-before c5bdc45              # the last commit before the work
    python bench/startup.py --checkout /tmp/startup-before --checkout .

Each command runs as the console script enters it (`cli.main.run`, its checkout's code first on
the path) against its baseline in the same round: every checkout's command and the baseline in
turn, the order rotated every round (this VM is shared and its speed drifts: rounds, not blocks).
The table gives the medians, their ratio (judged against the target, 1.5x), the median of each
round's ratio (command over that round's baseline), which the VM's drift moves least, and the ratio
of the median CPU times (user and system, all threads), which other work on the VM moves less than
wall-clock time.

- `pulsegate --help` against `python -c "import typer, rich"`.
- `pulsegate keys list` offline (no server on the file) against `python -c "import duckdb, typer,
  rich; duckdb.connect(FILE, read_only=True)"`: the libraries it needs and the file opened. Each
  checkout's file is made first by its own `pulsegate keys create` (two keys), in a temporary
  folder.

Every process gets the same environment: no PULSEGATE_* variables, the temporary folder as its
working directory (no ./pulsegate.toml), COLUMNS=100, and bytecode cached in a folder of its own
(PYTHONPYCACHEPREFIX; PYTHONDONTWRITEBYTECODE is dropped) and warmed by two unmeasured rounds, so
both sides run compiled code as an installed package does, not the checkout's sources compiled
again at every start.
"""

from __future__ import annotations

import argparse
import os
import resource
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
HELP_BASELINE = "`import typer, rich`"
OFFLINE_BASELINE = "`import duckdb, typer, rich` + `duckdb.connect(FILE, read_only=True)`"
OPENED = "import duckdb, typer, rich, sys; duckdb.connect(sys.argv[1], read_only=True); print('ok')"


def environment(checkout: Path, folder: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PULSEGATE_") and name not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }
    env.update(PYTHONPATH=str(checkout), PYTHONPYCACHEPREFIX=str(folder / "pycache"), COLUMNS="100")
    return env


def run(command: list[str], env: dict[str, str], folder: Path) -> tuple[float, float]:
    """Wall-clock and CPU (user + system, every thread) milliseconds of one run, which must succeed
    and print something."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, timeout=60)
    took = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0 or not result.stdout:
        raise SystemExit(f"{command[:3]}… failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return took, cpu


def label(checkout: Path) -> str:
    """The checkout's folder and commit (`+changes` when its files differ from it)."""
    git = ["git", "-C", str(checkout)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if commit.returncode != 0:
        return f"`{checkout.name}`"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    return f"`{checkout.name}` {commit.stdout.strip()}" + (" +changes" if dirty.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description="Start-up time of the pulsegate CLI")
    parser.add_argument("--runs", type=int, default=15, help="measured rounds")
    parser.add_argument(
        "--checkout",
        type=Path,
        action="append",
        help="code to measure (repeat to compare; default: this one)",
    )
    args = parser.parse_args()
    checkouts = [path.resolve() for path in args.checkout or [ROOT]]
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="pulsegate-startup-") as temporary:
        folder = Path(temporary)
        envs = [environment(checkout, folder) for checkout in checkouts]
        databases = [folder / f"startup-{n}.duckdb" for n in range(len(checkouts))]
        for env, database in zip(envs, databases, strict=True):  # each checkout's file, made by it
            for name in ("dashboard", "exports"):
                run(
                    [python, "-c", ENTRY, "keys", "create", name, "--quiet", "--database", str(database)],
                    env,
                    folder,
                )
        # kind -> (the baseline's name, its command, each checkout's command)
        kinds = {
            "`pulsegate --help`": (
                HELP_BASELINE,
                [python, "-c", "import typer, rich; print('ok')"],
                [[python, "-c", ENTRY, "--help"] for _ in checkouts],
            ),
            "`pulsegate keys list` (offline)": (
                OFFLINE_BASELINE,
                [python, "-c", OPENED, str(databases[0])],
                [
                    [python, "-c", ENTRY, "keys", "list", "--database", str(database)]
                    for database in databases
                ],
            ),
        }
        # Per kind: the baseline's times, then each checkout's.
        took: dict[str, list[list[tuple[float, float]]]] = {
            kind: [[] for _ in range(len(checkouts) + 1)] for kind in kinds
        }
        for round_ in range(2 + args.runs):  # two rounds warm the bytecode cache and the files
            for kind, (_, baseline, commands) in kinds.items():
                sides = [(0, baseline, envs[0])] + [(n + 1, cmd, envs[n]) for n, cmd in enumerate(commands)]
                shift = round_ % len(sides)
                for index, command, env in sides[shift:] + sides[:shift]:
                    times = run(command, env, folder)
                    if round_ >= 2:
                        took[kind][index].append(times)
    print(f"Start-up of the CLI: {args.runs} rounds, each command and its baseline in turn, medians\n")
    print(
        "| command | code | median ms | baseline | baseline median ms | ratio | round ratios' median "
        "| CPU ratio | target | met |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---|")
    for kind, (baseline_name, _, _) in kinds.items():
        baseline_ms = [wall for wall, _ in took[kind][0]]
        baseline_cpu = statistics.median(cpu for _, cpu in took[kind][0])
        for n, checkout in enumerate(checkouts):
            ms = [wall for wall, _ in took[kind][n + 1]]
            ratio = statistics.median(ms) / statistics.median(baseline_ms)
            # Each round's command over that round's baseline: what a drift of the VM's speed moves least.
            paired = statistics.median(a / b for a, b in zip(ms, baseline_ms, strict=True))
            cpu = statistics.median(cpu for _, cpu in took[kind][n + 1]) / baseline_cpu
            print(
                f"| {kind} | {label(checkout)} | {statistics.median(ms):.0f} | {baseline_name} "
                f"| {statistics.median(baseline_ms):.0f} | {ratio:.2f}x | {paired:.2f}x | {cpu:.2f}x | {TARGET}x "
                f"| {'yes' if ratio <= TARGET else 'no'} |"
            )


if __name__ == "__main__":
    main()
