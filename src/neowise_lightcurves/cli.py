"""The ``neowise-lightcurves`` command: ``explore`` serves the explorer of a run's outputs
(:mod:`neowise_lightcurves.explorer`), ``export`` writes the static HTML of its top targets
(:mod:`neowise_lightcurves.export`)."""

from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    top = argparse.ArgumentParser(
        prog="neowise-lightcurves",
        description="Look at a run's light curves (see docs/explorer.md).",
    )
    commands = top.add_subparsers(dest="command", required=True)
    explore = commands.add_parser(
        "explore", help="serve a local web page over a run's outputs (Ctrl-C stops it)"
    )
    explore.add_argument("outdir", help="the run's outdir (holding summary.parquet)")
    explore.add_argument("--port", type=int, default=5006, help="port (default 5006)")
    explore.add_argument(
        "--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    explore.add_argument(
        "--flags",
        default=None,
        help="the flags file (default: {outdir}-flags.csv beside the outdir)",
    )
    explore.add_argument(
        "--no-browser", action="store_true", help="do not open the page in a browser"
    )
    export = commands.add_parser(
        "export", help="write a self-contained HTML file of the top targets' light curves"
    )
    export.add_argument("outdir", help="the run's outdir (holding summary.parquet)")
    export.add_argument(
        "-o", "--output", default=None, help="the HTML file (default: {outdir}-explorer.html)"
    )
    export.add_argument(
        "--top", type=int, default=20, help="how many targets (default 20: most detections)"
    )
    export.add_argument(
        "--sort-by",
        default="n_detections",
        help="the summary column the top targets are the largest of (default n_detections)",
    )
    export.add_argument(
        "--targets", nargs="*", default=None, help="these targets instead of the top ones"
    )
    export.add_argument(
        "--flags",
        default=None,
        help="the flags file shown in the table (default: {outdir}-flags.csv beside the outdir)",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns its exit status."""
    args = parser().parse_args(argv)
    try:
        import bokeh  # noqa: F401
    except ImportError:
        print(
            f"neowise-lightcurves {args.command} needs Bokeh: pip install "
            "'neowise-lightcurves[workflow]' (or pip install bokeh)",
            file=sys.stderr,
        )
        return 1
    try:
        if args.command == "explore":
            from .explorer import serve

            serve(
                args.outdir,
                port=args.port,
                address=args.address,
                flags_path=args.flags,
                show=not args.no_browser,
            )
        else:
            from .export import export

            out = export(
                args.outdir,
                args.output,
                top=args.top,
                sort_by=args.sort_by,
                targets=args.targets,
                flags_path=args.flags,
            )
            print(f"wrote {out}")
    except (OSError, KeyError, ValueError) as err:  # no run there, a port in use, a bad id
        print(f"neowise-lightcurves {args.command}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
