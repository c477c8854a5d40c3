"""Sizes of the browser scripts as served: source, minified, gzipped, against their budgets.

Run: python bench/script_sizes.py
Prints a Markdown table. Sizes are exact (no timing noise); the build time is the one-off cost
at server start-up.
"""

from __future__ import annotations

import gzip
import time

from pulsegate.resources import shipped_file
from pulsegate.web.scripts import SCRIPT_PARTS, SIZE_BUDGETS, build_scripts

# Over the wire (gzipped), as the issue quotes them, for scale.
PEERS = {"Plausible script.js": 1.9 * 1024, "Umami script.js": 2.4 * 1024}


def main() -> None:
    started = time.perf_counter()
    scripts = build_scripts()
    build_ms = (time.perf_counter() - started) * 1000
    folder = shipped_file("web_assets")
    print("| script | source bytes | served bytes | gzipped (wire) | budget | of budget | source gzipped |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, script in scripts.items():
        source = "".join((folder / part).read_text() for part in SCRIPT_PARTS[name]).encode()
        wire = len(script.gzipped)
        print(
            f"| {name} | {len(source):,} | {len(script.body):,} | {wire:,} | {SIZE_BUDGETS[name]:,} "
            f"| {wire / SIZE_BUDGETS[name]:.0%} | {len(gzip.compress(source, 9)):,} |"
        )
    for peer, size in PEERS.items():
        print(f"| {peer} (peer) | | | ~{size:,.0f} | | | |")
    print(f"\nBuilt all three in {build_ms:.0f} ms (minify + gzip, once at start-up).")


if __name__ == "__main__":
    main()
