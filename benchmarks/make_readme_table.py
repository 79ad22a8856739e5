"""Turn a ``python -m fusedlogit.bench --output FILE.json`` result into the README's markdown.

    python benchmarks/make_readme_table.py benchmarks/results/quick-2026-01-01.json > table.md

The tables are the CLI's own (``fusedlogit.bench.report``), so the README and
the console never disagree; the machine and the date of the run head them.
"""

import argparse
import json
import sys
from pathlib import Path

from fusedlogit.bench import report


def readme_markdown(results, source=None, compact=True):
    mode = "quick" if results["config"].get("quick") else "full"
    lines = [f"Results of a {mode} run on {results['date'][:10]}" + (f" (`{source}`)" if source else "") + ".", ""]
    return "\n".join(lines) + "\n" + report(results, markdown=True, compact=compact) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("result", type=Path, help="JSON written by python -m fusedlogit.bench --output")
    p.add_argument("--all-columns", action="store_true", help="every kernel column, not only the README's")
    args = p.parse_args(argv)
    results = json.loads(args.result.read_text())
    sys.stdout.write(readme_markdown(results, source=args.result.name, compact=not args.all_columns))


if __name__ == "__main__":
    main()
