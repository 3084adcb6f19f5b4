"""`python -m bench [NAME [ARGS…]]`: run one benchmark, or (no NAME) every one, briefly.

Each benchmark is a module bench/NAME.py with `main(argv: list[str]) -> int`. A module may set
`QUICK: list[str]`, the arguments used when every benchmark runs (`make bench`), so that run
stays short; `python -m bench NAME` alone uses the module's own defaults.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def names() -> list[str]:
    here = str(Path(__file__).parent)
    return sorted(m.name for m in pkgutil.iter_modules([here]) if not m.name.startswith("_"))


def run(name: str, argv: list[str] | None) -> int:
    module = importlib.import_module(f"bench.{name}")
    if argv is None:
        argv = list(getattr(module, "QUICK", []))
    return int(module.main(argv) or 0)


def main(argv: list[str]) -> int:
    available = names()
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("benchmarks:", ", ".join(available))
        return 0
    if argv:
        name, rest = argv[0], argv[1:]
        if name not in available:
            print(f"no benchmark {name!r}; have: {', '.join(available)}", file=sys.stderr)
            return 2
        return run(name, rest)
    status = 0
    for name in available:
        print(f"== {name}", flush=True)
        status = run(name, None) or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
