"""``cockpit playback EXTRACT --out FILE.gif|FILE.mp4 ...``: arguments, checks, audit.

Every argument is checked before anything is rendered: a wrong one gives one line on
stderr and exit 2, and nothing is written. Qt is imported only to render.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from data.playback import STEPS, WINDOWS

from .cli import EXIT_OK, _add_filters, _fail, _open_filtered, _progress_printer, _size


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("playback", help="the situation replayed as a GIF or an MP4, one frame "
                       "per step (offscreen, no display needed)")
    p.add_argument("extract")
    p.add_argument("--out", required=True, metavar="FILE.gif|FILE.mp4")
    p.add_argument("--step", choices=tuple(STEPS), default="day",
                   help="one frame per hour, day or week (default: day)")
    p.add_argument("--window", choices=WINDOWS, default="sliding",
                   help="sliding: each frame shows its own step; cumulative: everything "
                   "from the first step on")
    p.add_argument("--size", default="1920x1080", help="WxH of the frames (MP4: even sizes; "
                   "an odd one is rounded down)")
    p.add_argument("--fps", type=float, default=2.0, help="frames per second (default 2)")
    p.add_argument("--map-only", action="store_true", help="the map alone, not the cockpit")
    p.add_argument("--skip-empty", action="store_true",
                   help="leave out steps without any incident")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--theme", choices=("dark", "light"), default="dark")
    _add_filters(p)
    p.epilog = ("Without --from/--to: the last 24 hours before the extract time (--step "
                "hour), the last 30 days (day) or 12 weeks (week).")


def cmd_playback(args: argparse.Namespace) -> int:
    from data.playback import (
        MAX_FRAMES,
        PlaybackSettings,
        data_end,
        days_range,
        plan,
        step_counts,
    )
    from data.queries import Query
    from exporters.video import FORMATS, even_size

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        return _fail(f"--out must end in .gif or .mp4, not {out.name!r}")
    if not out.parent.is_dir():
        return _fail(f"cannot write {out}: {out.parent} is not a folder")
    size = _size(args.size)
    if size is None or size[0] < 320 or size[1] < 240:
        return _fail(f"--size must be WxH from 320x240 up to 7680x4320, not {args.size!r}")
    if suffix == ".mp4":
        size = even_size(*size)
    try:
        settings = PlaybackSettings(args.step, args.window, args.fps, skip_empty=args.skip_empty)
    except ValueError as exc:
        return _fail(str(exc).replace("fps", "--fps"))
    if args.start and args.end and args.start > args.end:
        return _fail(f"--from {args.start} is after --to {args.end}")
    try:
        ex, state = _open_filtered(args)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        as_of = state.as_of or ex.default_as_of
        t0, t1 = days_range(args.start, args.end, as_of, settings.step, data_end(ex, state))
        base = state.without("start")
        q = Query(ex)
        try:
            frames = plan(q, base, t0, t1, settings)
            # a replay of nothing at all is a mistake in the dates or the filter
            empty = bool(frames) and not step_counts(q, base, frames).any()
        except ValueError as exc:
            return _fail(f"{exc} (use a larger --step or a shorter --from/--to)")
        finally:
            q.con.close()
        region = ex.region_name
    finally:
        ex.close()
    if not frames:
        why = " with an incident" if settings.skip_empty else ""
        return _fail(f"no frames{why} between {t0:%Y-%m-%d %H:%M} and {t1:%Y-%m-%d %H:%M}")
    if empty:
        return _fail(f"no incidents between {t0:%Y-%m-%d %H:%M} and {t1:%Y-%m-%d %H:%M} "
                     "under this filter: nothing to replay")
    if len(frames) > MAX_FRAMES:
        return _fail(f"{len(frames)} frames: at most {MAX_FRAMES}")
    from .playback_export import PlaybackExport, render_playback

    job = PlaybackExport(args.extract, str(out), tuple(frames), base, settings, size,
                         args.lang, args.theme, args.map_only)
    try:
        summary = render_playback(job, _progress_printer(True))
    except (RuntimeError, OSError) as exc:
        return _fail(f"cannot write {out}: {exc}")
    from exporters.audit import audit

    audit("export_playback", {"extract": str(args.extract), "output": str(out),
                              "region": region,
                              "summary": {k: v for k, v in summary.items()
                                          if isinstance(v, (int, float, str))}},
          base.with_span(t0, t1))
    print(f"wrote {out}: {summary['frames']} frames, {summary['width']}x{summary['height']}",
          file=sys.stderr)
    return EXIT_OK
