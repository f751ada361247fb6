"""Dispatch `python -m benchmarks NAME [args]` to benchmarks/NAME.py's main(argv)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).parent


def available() -> list[str]:
    """The names of the benchmarks in this folder."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(HERE)])
        if not info.name.startswith("_") and info.name != "report"
    )


def main(argv: list[str]) -> int:
    """Run the benchmark named by the first argument."""
    names = available()
    if not argv or argv[0] not in names:
        print(f"usage: python -m benchmarks NAME [--quick]; NAME is one of: {', '.join(names)}")
        return 2
    module = importlib.import_module(f"benchmarks.{argv[0]}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
