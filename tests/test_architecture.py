"""The core stays free of Qt: data/, layers/, demo/ and pipeline/ import without PySide6;
the one painter (painting/) uses QtGui alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_data_and_layers_do_not_import_qt() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import data, layers, demo, pipeline\n"
        "for pkg in (data, layers, demo, pipeline):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'folium')]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_headless_cli_does_not_import_qt() -> None:
    code = ("import sys\nfrom desktop import cli\ncli.build_parser()\n"
            "assert 'PySide6' not in sys.modules\nprint('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def _imports(path: Path) -> set[str]:
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_painter_uses_qtgui_only() -> None:
    """Screen and print share painting/: it may not pull in widgets (a PDF has no window)."""
    files = sorted((ROOT / "painting").rglob("*.py"))
    assert files
    for f in files:
        bad = {m for m in _imports(f) if m.startswith(("PySide6.QtWidgets", "pyqtgraph"))}
        assert not bad, f"{f.name} imports {bad}"
