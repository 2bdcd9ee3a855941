"""The `dlrun-report` command: rebuild the comparison table and plot from run directories."""

import argparse
import sys
from pathlib import Path

from dlrun.errors import InputError
from dlrun.record.atomic import check_writable_directory
from dlrun.report.aggregate import build_report
from dlrun.report.render import print_report
from dlrun.report.write import write_report

# how this command spells report.rows, report.cols and report.metrics, for its error lines
OPTIONS = {"rows": "--rows", "cols": "--cols", "metrics": "--metric", "test": "--test"}


def split_keys(text: str | None) -> list[str] | None:
    """'model,seq_len' -> ['model', 'seq_len']; None stays None (the default layout)."""
    return None if text is None else [key for key in text.split(",") if key]


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """dlrun-report's command line."""
    parser = argparse.ArgumentParser(
        prog="dlrun-report",
        description="Rebuild the comparison table and plot from run or sweep directories.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="run or sweep directories")
    parser.add_argument("--rows", help="row keys, comma-separated (default: the swept keys)")
    parser.add_argument("--cols", help="column key(s), comma-separated (default: last swept key)")
    parser.add_argument(
        "--metric",
        action="append",
        help="metric name(s), comma-separated or repeated, e.g. val/acc,val/loss",
    )
    parser.add_argument("--out", type=Path, help="output directory (default: the first PATH)")
    parser.add_argument(
        "--reference",
        help="the configuration compared against, e.g. model=lstm (default: first row)",
    )
    parser.add_argument(
        "--test", default="t", help="paired test when cells share seeds: t | wilcoxon (default t)"
    )
    parser.add_argument("--html", action="store_true", help="also write report.html (offline)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """dlrun-report PATH... [--rows K --cols K --metric M --out DIR]."""
    args = parse_arguments(argv)
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        print(f"dlrun-report: error: no such directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        report = build_report(
            args.paths,
            split_keys(args.rows),
            split_keys(args.cols),
            split_keys(",".join(args.metric)) if args.metric else None,
            options=OPTIONS,
            reference=args.reference,
            test=args.test,
        )
    except InputError as error:
        print(f"dlrun-report: error: {error}", file=sys.stderr)
        return 2
    if not report.runs:
        print(
            f"dlrun-report: error: no run records (summary.json) under "
            f"{', '.join(map(str, args.paths))}",
            file=sys.stderr,
        )
        return 2
    out = args.out or (args.paths[0] if args.paths[0].is_dir() else args.paths[0].parent)
    try:  # before the table is printed: a refusal is the only output
        check_writable_directory(out, "--out" if args.out else "the output directory")
    except InputError as error:
        print(f"dlrun-report: error: {error}", file=sys.stderr)
        return 2
    print_report(report)
    try:
        written = write_report(report, out)
    except OSError as error:  # a full disk: each file is written whole or not at all
        print(f"dlrun-report: error: cannot write to {out} ({error.strerror})", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if args.html:
        from dlrun.report.html import write_html

        print(f"wrote {write_html(report, out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
