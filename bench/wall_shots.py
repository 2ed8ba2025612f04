"""Screenshots of the wall as the command centre sees it: one 4K screen, or two spanned.

    python bench/wall_shots.py OUT_DIR [--extract PATH] [--views N]

Each layout runs in its own process on Qt's offscreen platform with a screen
configuration (``offscreen:configfile=...``), so the wall places itself exactly as
on real screens (``place``): full screen on a 3840x2160 screen, and spanning two
1920x1080 screens side by side. Writes ``wall-4k-<view>.png`` and
``wall-span-<view>.png`` for the first N views of the rotation and prints their paths.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LAYOUTS = {
    "4k": [{"name": "wall", "x": 0, "y": 0, "width": 3840, "height": 2160}],
    "span": [{"name": "left", "x": 0, "y": 0, "width": 1920, "height": 1080},
             {"name": "right", "x": 1920, "y": 0, "width": 1920, "height": 1080}],
}


def _child(extract: str, out_dir: str, layout: str, views: int) -> None:
    """In the child: open the wall, settle each view, save a grab of it."""
    sys.path.insert(0, str(ROOT))
    from desktop.app import application
    from desktop.wall import WallWindow, place
    from desktop.wall_config import load_config
    from widgets.theme import apply_theme

    app = application()
    win = WallWindow(extract, load_config(Path(out_dir) / "no-such.toml"))
    apply_theme(app, win.theme)
    place(win, span=layout == "span")
    win.start()

    def settle(limit: float = 120.0) -> None:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
            panels = win.board.panels.panels
            if (win.extract is not None and not win.session.jobs.busy() and panels is not None
                    and panels.state == win.session.filters.state):
                break
        for _ in range(20):
            app.processEvents()
            time.sleep(0.01)

    settle()
    shots = []
    for i in range(views):
        if i:
            win.next_view()
            settle()
        path = Path(out_dir) / f"wall-{layout}-{i}.png"
        win.grab().save(str(path))
        shots.append({"path": str(path), "view": win.current_view().name,
                      "width": win.width(), "height": win.height(), "scale": win.board.scale})
    print(json.dumps(shots, ensure_ascii=False))
    win.close()


def shoot(extract: str, out_dir: Path, views: int = 1) -> list[dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    found = []
    for layout, screens in LAYOUTS.items():
        conf = Path(tempfile.mkdtemp()) / "screens.json"
        conf.write_text(json.dumps({"screens": [dict(s, logicalDpi=96, logicalBaseDpi=96,
                                                     dpr=1) for s in screens]}))
        env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={conf}")
        out = subprocess.run([sys.executable, __file__, "--child", extract, str(out_dir),
                              layout, str(views)], env=env, capture_output=True, text=True,
                             timeout=600, check=True)
        found += json.loads(out.stdout.strip().splitlines()[-1])
    return found


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--extract", help="default: the built-in demo county")
    ap.add_argument("--views", type=int, default=1)
    args = ap.parse_args()
    extract = args.extract
    if extract is None:
        sys.path.insert(0, str(ROOT))
        from desktop.cli import ensure_demo

        extract = str(ensure_demo())
    for shot in shoot(extract, Path(args.out_dir), args.views):
        print(f"{shot['path']}  {shot['width']}x{shot['height']}  {shot['view']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
