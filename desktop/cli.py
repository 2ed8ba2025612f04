"""The command line (a contract: see ../shared/design.md).

``python main.py [EXTRACT]`` opens the cockpit; subcommands run headless and
never import Qt. Exit codes: 0 success, 2 the extract is unusable (reason on
stderr, one line) or the arguments are wrong, 3 a feature not available yet.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

SUBCOMMANDS = ("validate", "report", "export", "demo", "nearest", "wall", "install-desktop",
               "manual", "import", "playback", "build")
EXIT_OK, EXIT_UNUSABLE = 0, 2


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _progress_printer(enabled: bool) -> Callable[[str, float], None] | None:
    """Progress on stderr, only for a person at a terminal (stdout stays clean)."""
    if not enabled or not sys.stderr.isatty():
        return None
    last = [""]

    def show(stage: str, fraction: float) -> None:
        line = f"\r{stage:<40} {fraction * 100:5.1f}%"
        if line != last[0]:
            sys.stderr.write(line)
            sys.stderr.flush()
            last[0] = line
        if fraction >= 1.0:
            sys.stderr.write("\n")

    return show


def _fail(message: str, code: int = EXIT_UNUSABLE) -> int:
    print(" ".join(message.split()), file=sys.stderr)
    return code


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="start", type=_date, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=_date, help="last day, inclusive (YYYY-MM-DD)")
    p.add_argument("--area", action="append", default=[], metavar="AREA_ID",
                   help="area id at any level, children included (repeatable)")
    p.add_argument("--as-of", dest="as_of", type=_date, help="default: meta.extracted_at")


def add_view_option(p: argparse.ArgumentParser) -> None:
    """``--view NAME``: start from a saved view (视图 → 书签). ``_state`` reads it, so any
    subcommand that opens its extract with ``_open_filtered`` (export, and playback once
    it adds this option) honours it; explicit --from/--to/--area/--as-of still win."""
    p.add_argument("--view", metavar="NAME",
                   help="a saved view: its filter (and for --png its map extent and layers)")


def add_unmask_options(p: argparse.ArgumentParser) -> None:
    """``--unmask --operator NAME --reason TEXT``: all three together or none (``unmasking``
    checks); the export then carries personal data, says so on every page, and its audit
    line names the operator and the reason."""
    p.add_argument("--unmask", action="store_true",
                   help="include personal data unmasked (needs --operator and --reason)")
    p.add_argument("--operator", metavar="NAME", help="who unmasks (written to the audit log)")
    p.add_argument("--reason", metavar="TEXT", help="why (written to the audit log)")


def unmasking(args: argparse.Namespace) -> dict[str, str] | None:
    """{"operator", "reason"} for an unmasked export, None for a masked one; ValueError
    unless --unmask, --operator and --reason are given together (and not blank)."""
    given = (bool(args.unmask), args.operator is not None, args.reason is not None)
    if not any(given):
        return None
    operator = " ".join((args.operator or "").split())
    reason = " ".join((args.reason or "").split())
    if not all(given) or not operator or len(reason) < 2:
        raise ValueError("--unmask, --operator NAME and --reason TEXT go together: all three, "
                         "or none (nothing is unmasked without a name and a reason)")
    return {"operator": operator, "reason": reason}


def saved_view(args: argparse.Namespace) -> Any:
    """The saved view named by ``--view`` (None without it); ValueError when unknown."""
    name = getattr(args, "view", None)
    if not name:
        return None
    from data.saved_views import ViewStore

    store = ViewStore()
    view = store.get(name)
    if view is None:
        names = ", ".join(store.names()) or "none"
        raise ValueError(f"no saved view named {name!r} (saved views: {names})")
    return view


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cockpit", description="County command-centre cockpit")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check an extract and print its load report")
    p.add_argument("extract")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("report", help="key figures")
    p.add_argument("extract")
    _add_filters(p)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("export", help="headless exports")
    p.add_argument("extract")
    g = p.add_mutually_exclusive_group(required=True)
    for opt in ("--pdf", "--png", "--html", "--xlsx"):
        g.add_argument(opt, metavar="FILE")
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--paper", choices=("a4", "a3"), default=None,
                   help="PDF: a4 (portrait, the default) or a3 (landscape)")
    p.add_argument("--atlas", choices=("town",), default=None,
                   help="PDF: add one page per town (map, figures, overdue list)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    _add_filters(p)
    add_view_option(p)
    add_unmask_options(p)
    p = sub.add_parser("demo", help="write the demo county extract")
    p.add_argument("--out", required=True)
    p.add_argument("--incidents", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=20261120)
    p.add_argument("--dirty", action="store_true", help="add broken rows (for tests and demos)")
    p.add_argument("--coord-system", default="wgs84", choices=("wgs84", "gcj02", "bd09"))
    p.add_argument("--counties", type=int, default=None, metavar="N",
                   help="a synthetic province of N demo counties instead: --out is a folder "
                        "(schema version 2 Parquet form with aggregates, written in streaming "
                        "partitions; --incidents is the total, WGS84, clean)")
    p = sub.add_parser("nearest", help="nearest available resources to a point or incident")
    p.add_argument("extract")
    p.add_argument("--lon", type=float)
    p.add_argument("--lat", type=float)
    p.add_argument("--incident", metavar="INCIDENT_ID", help="instead of --lon/--lat")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--kind", action="append", default=[])
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("wall", help="wall-display mode")
    p.add_argument("extract", nargs="?")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--screen", type=int)
    g.add_argument("--span", action="store_true")
    p.add_argument("--rotate", type=float, metavar="SECONDS",
                   help="cycle through the configured views (0: no rotation)")
    p.add_argument("--config", metavar="FILE",
                   help="wall settings and views (default: $COCKPIT_DATA_DIR/wall.toml, "
                   "else the built-in desktop/wall.toml)")
    from .playback_cli import add_parser as add_playback

    add_playback(sub)
    p = sub.add_parser("install-desktop", help="add the cockpit to the user's application "
                       "menu (a .desktop file and an icon under ~/.local/share)")
    p.add_argument("--uninstall", action="store_true", help="remove them again")
    p = sub.add_parser("manual", help="the user guide: print where it is, or save it as PDF")
    p.add_argument("--pdf", metavar="FILE", help="write the guide as an A4 PDF")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    _add_import_parser(sub)
    p = sub.add_parser("build", add_help=False, help="the import on Apache Spark, with "
                       "aggregates (python -m pipeline.build --help)")
    p.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def cmd_manual(args: argparse.Namespace) -> int:
    from .manual import manual_path

    if not args.pdf:
        print(manual_path(args.lang))
        return EXIT_OK
    from exporters.pdf_style import ensure_gui

    from .manual import manual_pdf

    ensure_gui()
    try:
        out = manual_pdf(args.lang, args.pdf)
    except OSError as exc:
        return _fail(f"cannot write {args.pdf}: {exc}")
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK


def _add_import_parser(sub: Any) -> None:
    p = sub.add_parser("import", help="a station's own files (CSV/XLSX/Parquet/GIS) into an "
                       "extract")
    p.add_argument("inputs", nargs="+", metavar="TABLE=PATH",
                   help="a schema table (incidents, areas, resources, hazards, rectifications, "
                   "disputes, dispute_steps) and a file or glob; book.xlsx#Sheet for one "
                   "sheet; geocode=PATH: an address lookup (地址库) giving rows without "
                   "coordinates their address's point ([geocode] in the mapping)")
    p.add_argument("--out", required=True, metavar="EXTRACT")
    p.add_argument("--mapping", metavar="MAP.toml", help="the mapping to use (nothing guessed)")
    p.add_argument("--region", help="the region's name (meta.region_name)")
    p.add_argument("--coord-system", choices=("wgs84", "gcj02", "bd09"),
                   help="datum of lon/lat in the files (converted to WGS84)")
    p.add_argument("--crs", metavar="EPSG:N", help="CRS of projected x/y in the files")
    p.add_argument("--format", choices=("duckdb", "parquet"), default="duckdb")
    p.add_argument("--duplicates", choices=("latest", "first"),
                   help="which row of a repeated id is kept (meta.duplicates; default latest)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the mapping and the parse counts; write nothing")
    p.add_argument("--save-mapping", metavar="FILE",
                   help="where to save the mapping used (default: EXTRACT.mapping.toml when "
                   "no --mapping is given)")
    p.add_argument("--json", action="store_true", help="the import report as JSON on stdout")


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from .desktop_entry import install, uninstall

    try:
        files = uninstall() if args.uninstall else install()
    except OSError as exc:
        return _fail(f"cannot write the menu entry: {exc}")
    verb = "removed" if args.uninstall else "wrote"
    for f in files:
        print(f"{verb} {f}", file=sys.stderr)
    return EXIT_OK


def _open(path: str, progress: bool = True) -> Any:
    from data.extract import open_extract

    return open_extract(path, progress=_progress_printer(progress))


def cmd_validate(args: argparse.Namespace) -> int:
    from data.extract import ExtractError
    from layers.load_notes import finding_lines

    try:
        ex = _open(args.extract)
    except ExtractError as exc:
        if args.json:
            print(json.dumps({"usable": False, "error": str(exc)}, ensure_ascii=False))
        return _fail(str(exc))
    try:
        if args.json:
            doc = {"usable": True, "source": str(ex.path), "kind": ex.kind,
                   "region": ex.region_name, "coord_system": ex.coord_system,
                   "tables": ex.report.to_json(), "notes": ex.report.notes}
            print(json.dumps(doc, ensure_ascii=False, indent=2))
        else:
            print(f"{ex.region_name}: {ex.path} ({ex.kind}, {ex.coord_system})")
            for line in ex.report.summary_lines():
                print("  " + line)
            for line in finding_lines(ex.report, "en"):
                print("  " + line)
    finally:
        ex.close()
    return EXIT_OK


def _state(args: argparse.Namespace, extract: Any) -> Any:
    from data.filters import FilterState

    view = saved_view(args)
    if view is None:
        state = FilterState(as_of=args.as_of).with_window(args.start, args.end)
    else:  # the view's filter, with what the command line says on top
        state = view.filter.with_as_of(args.as_of or view.filter.as_of)
        state = state.with_window(args.start or state.start, args.end or state.end)
    if args.area or view is None:
        state = state.with_areas(args.area)
    unknown = sorted(a for a in state.areas if extract.areas.idx_of(a) is None)
    if unknown:
        raise ValueError(f"unknown area id(s): {', '.join(unknown)}")
    return state


def _open_filtered(args: argparse.Namespace) -> tuple[Any, Any]:
    """The extract and the state of ``--from/--to/--area/--as-of``; ValueError for the user
    (the extract is closed again when the filter is wrong)."""
    from data.extract import ExtractError

    try:
        ex = _open(args.extract)
    except ExtractError as exc:
        raise ValueError(str(exc)) from exc
    try:
        return ex, _state(args, ex)
    except ValueError:
        ex.close()
        raise


def cmd_report(args: argparse.Namespace) -> int:
    from data.report import build_report
    from layers.freshness import feed_notes

    try:
        ex, state = _open_filtered(args)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        doc = build_report(ex, state)
        doc["notes"] += list(feed_notes(ex))  # a lagging feed, said in words
    finally:
        ex.close()
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        _print_report(doc)
    return EXIT_OK


def _print_report(doc: dict[str, Any]) -> None:
    inc, hz, ds = doc["incidents"], doc["hazards"], doc["disputes"]
    yoy = inc["yoy"]
    pct = "n/a" if yoy["change_pct"] is None else f"{yoy['change_pct']:+.1f}%"
    print(f"{doc['region']}  as of {doc['as_of']}")
    print(f"  incidents {inc['total']} (unlocated {inc['unlocated']}); "
          f"{yoy['month']}: {yoy['current']} vs {yoy['previous']} a year earlier ({pct})")
    print("  by category: " + ", ".join(f"{k} {v}" for k, v in inc["by_category"].items()))
    print(f"  resources {doc['resources']['total']} ({doc['resources']['available']} available)")
    print(f"  hazards {hz['total']}, overdue {hz['overdue']}, "
          f"rectified {_pct(hz['rectification_rate'])}, "
          f"major {_pct(hz['major_rectification_rate'])}")
    print(f"  disputes {ds['total']}, success {_pct(ds['success_rate'])}")
    if "hotspots" not in doc:
        return
    grid, rect, med = doc["hotspots"]["grid"], doc["rectification"], doc["mediation"]
    print(f"  hotspots: {sum(grid['hot'].values())} hot cells of {grid['cells']} "
          f"({grid['cell_m']:g} m); emerging " + ", ".join(
              f"{k} {v}" for k, v in doc["hotspots"]["emerging"]["counts"].items()
              if k != "none"))
    print(f"  repeat places {doc['repeats']['places']}; near-repeat (7 d, 50 m) "
          f"{_pct(doc['repeats']['near_repeat']['rate'])}")
    print(f"  rectification verified {_pct(rect['verified_rate'])}, reopened "
          f"{_pct(rect['reopen_rate'])}, due for re-inspection {rect['due_reinspection_count']}")
    print(f"  mediation resolved at village {_pct(med['resolved_at_lowest_level_share'])}, "
          f"median {med['median_days_to_resolve'] or 0:.1f} days")
    print(f"  alerts {doc['alerts']['count']}; coverage gaps {doc['coverage_gaps']['gaps']}")
    worst = doc["safety_index"]["areas"][:3]
    if worst:
        print("  lowest safety index: " + ", ".join(f"{a['name']} {a['index']:.0f}"
                                                    for a in worst))


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def cmd_demo(args: argparse.Namespace) -> int:
    from demo import generate_demo

    if args.counties is not None:
        return _demo_province(args)
    manifest = generate_demo(args.out, incidents=args.incidents, seed=args.seed, dirty=args.dirty,
                             coord_system=args.coord_system,
                             progress=_progress_printer(True))
    counts = ", ".join(f"{k} {v}" for k, v in manifest.counts.items())
    print(f"wrote {args.out}: {counts}", file=sys.stderr)
    return EXIT_OK


def _demo_province(args: argparse.Namespace) -> int:
    from demo.province import generate_province

    if args.counties < 1:
        return _fail("--counties must be 1 or more")
    if args.dirty or args.coord_system != "wgs84":
        return _fail("--counties writes a clean WGS84 province: no --dirty, no --coord-system")
    manifest = generate_province(args.out, counties=args.counties, incidents=args.incidents,
                                 seed=args.seed, progress=_progress_printer(True))
    counts = ", ".join(f"{k} {v}" for k, v in manifest.counts.items())
    print(f"wrote {args.out} ({args.counties} counties, {manifest.files} incident files, "
          f"{manifest.seconds:.1f} s): {counts}", file=sys.stderr)
    return EXIT_OK


def cmd_nearest(args: argparse.Namespace) -> int:
    from data.extract import ExtractError
    from data.nearest import nearest_resources

    try:
        ex = _open(args.extract)
    except ExtractError as exc:
        return _fail(str(exc))
    try:
        if args.incident is not None:
            from data.analysis.coverage import nearest_to_incident

            found = nearest_to_incident(ex, args.incident, k=args.k, kinds=args.kind)
        elif args.lon is None or args.lat is None:
            return _fail("nearest needs --lon and --lat, or --incident")
        else:
            found = nearest_resources(ex, args.lon, args.lat, k=args.k, kinds=args.kind)
    finally:
        ex.close()
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        for r in found:
            print(f"{r['distance_m']:9.0f} m  {r['kind']:<16} {r['name']}  {r['phone'] or ''}")
    return EXIT_OK


def _size(text: str) -> tuple[int, int] | None:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        return None
    return (w, h) if 16 <= w <= 7680 and 16 <= h <= 4320 else None


def _backdrop(ex: Any, tiles: bool = True) -> Any:
    """The settings' base map (``tiles``) and reference layers; what cannot be used is
    said on stderr and left out."""
    import dataclasses

    from .backdrop_files import load_backdrop
    from .settings import load_settings

    settings = load_settings()
    if not tiles:
        settings = dataclasses.replace(settings, tiles=dataclasses.replace(
            settings.tiles, mbtiles=None, xyz=None))
    for n in settings.warnings:
        print(n.text(), file=sys.stderr)
    backdrop, notes = load_backdrop(settings, ex.areas.extent())
    for n in notes:
        print(n.text(), file=sys.stderr)
    return backdrop


def cmd_export(args: argparse.Namespace) -> int:
    """Headless exports; each one is written to the audit log."""
    if not args.pdf and (args.paper or args.atlas):
        return _fail("--paper and --atlas apply to --pdf only")
    try:
        who = unmasking(args)
    except ValueError as exc:
        return _fail(str(exc))
    masked = who is None
    try:
        ex, state = _open_filtered(args)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        if args.png:
            size = _size(args.size)
            if size is None:
                return _fail(f"--size must be WxH up to 7680x4320, not {args.size!r}")
            ex.close()
            from .export_png import export_png

            try:
                summary = export_png(args.extract, args.png, size, state, lang=args.lang,
                                     view=saved_view(args), personal_mark=not masked)
            except (RuntimeError, OSError) as exc:
                return _fail(str(exc))
            action, out = "export_png", args.png
        elif args.pdf:
            from exporters.pdf_briefing import export_pdf

            backdrop = _backdrop(ex)
            try:
                summary = export_pdf(ex, state, args.pdf, lang=args.lang,
                                     paper=args.paper or "a4", atlas=args.atlas,
                                     backdrop=backdrop, masked=masked, audit_details=who)
            except (RuntimeError, OSError) as exc:
                return _fail(f"cannot write {args.pdf}: {exc}")
            action, out = "export_pdf", args.pdf
        elif args.html:
            from exporters.html_map import export_html

            summary = export_html(ex, state, args.html, lang=args.lang, masked=masked,
                                  reference=_backdrop(ex, tiles=False).reference)
            action, out = "export_html", args.html
        else:
            from exporters.tables import export_xlsx

            summary = export_xlsx(ex, state, args.xlsx, lang=args.lang, masked=masked,
                                  audit_details=who)
            action, out = "export_xlsx", args.xlsx
    finally:
        ex.close()
    if action not in ("export_xlsx", "export_pdf"):  # these exporters audit themselves
        from exporters.audit import audit

        audit(action, {"extract": str(args.extract), "output": str(out), "masked": masked,
                       **(who or {}),
                       "summary": {k: v for k, v in summary.items()
                                   if isinstance(v, (int, float, str))}}, state)
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK


def default_demo_path() -> Path:
    from data.cache import cache_dir
    from demo import DEMO_VERSION

    return cache_dir() / "demo" / f"demo-county-v{DEMO_VERSION}.duckdb"


def ensure_demo() -> Path:
    """The built-in demo extract, generated on first use and then reused."""
    path = default_demo_path()
    if not path.exists():
        from demo import generate_demo

        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"building the demo county at {path} (once) ...", file=sys.stderr)
        generate_demo(path, progress=_progress_printer(True))
    return path


def cmd_open(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="cockpit", description="Open the cockpit on an "
                                     "extract (the built-in demo county without one). "
                                     f"Subcommands: {', '.join(SUBCOMMANDS)}.")
    parser.add_argument("extract", nargs="?")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--theme", choices=("dark", "light"), default="dark")
    args = parser.parse_args(argv)
    path = args.extract or str(ensure_demo())
    from .app import run_window  # Qt only for the window: subcommands stay headless

    return run_window(path, lang=args.lang, theme=args.theme)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from data.arrow_setup import keep_pandas_out_of_pyarrow

    keep_pandas_out_of_pyarrow()  # 0.3 s of every start (see data/arrow_setup.py)
    if not argv or argv[0] not in SUBCOMMANDS:
        return cmd_open(argv)
    if argv[0] == "build":  # its own parser (pipeline.build): options pass through whole
        args = argparse.Namespace(command="build", args=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    # one line per subcommand (name → function taking the parsed arguments)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "validate": cmd_validate, "report": cmd_report, "demo": cmd_demo,
        "nearest": cmd_nearest, "export": cmd_export, "wall": cmd_wall,
        "install-desktop": cmd_install_desktop, "manual": cmd_manual, "import": cmd_import,
        "playback": cmd_playback, "build": cmd_build,
    }
    return commands[args.command](args)


def cmd_import(args: argparse.Namespace) -> int:
    """A station's files into an extract; bad input: one line, exit 2, nothing written."""
    from data.importer.errors import ImportFailure
    from data.importer.mapping import load_mapping
    from data.importer.run import parse_inputs, run_import

    save = args.save_mapping
    if save is None and args.mapping is None and not args.dry_run:
        save = f"{args.out}.mapping.toml"
    try:
        if args.crs:
            _check_crs(args.crs)
        inputs = parse_inputs(args.inputs)
        mapping = load_mapping(args.mapping) if args.mapping else None
        report = run_import(inputs, args.out, mapping, region=args.region,
                            coord_system=args.coord_system, crs=args.crs, fmt=args.format,
                            dry_run=args.dry_run, save_mapping=save,
                            progress=_progress_printer(not args.json),
                            duplicates=args.duplicates)
    except ImportFailure as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return EXIT_OK
    if args.dry_run:
        print(report.mapping_toml)
    for line in report.text_lines():
        print(line, file=sys.stderr)
    return EXIT_OK


def _check_crs(text: str) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    from data.importer.errors import ImportFailure

    try:
        CRS.from_user_input(text)
    except CRSError as exc:
        raise ImportFailure(f"--crs {text!r} is not a coordinate reference system "
                            "(e.g. EPSG:4547)") from exc


def cmd_build(args: argparse.Namespace) -> int:
    """The Spark build (pipeline.build): its own options, its own exit codes."""
    from pipeline.build import main as build_main

    return build_main(args.args)


def cmd_playback(args: argparse.Namespace) -> int:
    from .playback_cli import cmd_playback as run

    return run(args)


def cmd_wall(args: argparse.Namespace) -> int:
    """Full screen, unattended: reloads a replaced extract, never shows a dialog."""
    from dataclasses import replace

    from .allocator import tune_for_long_run
    from .wall_config import load_config

    tune_for_long_run()  # first, before any thread: glibc fixes its heap count once

    config = load_config(args.config)
    if args.rotate is not None:
        if not 0 <= args.rotate <= 86_400:
            return _fail(f"--rotate must be 0 to 86400 seconds, not {args.rotate}")
        config = replace(config, rotate_seconds=args.rotate)
    path = args.extract or str(ensure_demo())
    from .wall import run_wall

    return run_wall(path, config, screen=args.screen, span=args.span)
