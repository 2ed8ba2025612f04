"""The installed program: the `cockpit` entry point, the menu entry, and the offline bundle.

The offline bundle is built and checked by ``scripts/build_bundle.sh --smoke`` (PyInstaller,
minutes and 0.9 GB: not part of the test run; ``scripts/smoke_bundle.sh`` runs it with no
network at all).
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_cockpit_entry_point_is_the_same_program(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("cockpit")
    if not exe.exists():
        pytest.skip("not installed with scripts/install.sh (no .venv/bin/cockpit)")
    env = {**os.environ, "COCKPIT_CACHE_DIR": str(tmp_path)}
    a = subprocess.run([str(exe), "validate", "--help"], capture_output=True, text=True,
                       env=env, timeout=60)
    b = subprocess.run([sys.executable, str(ROOT / "main.py"), "validate", "--help"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert a.returncode == 0 and a.stdout == b.stdout and "usage: cockpit validate" in a.stdout


def test_install_desktop_writes_an_entry_that_starts_this_program(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "share"),
           "COCKPIT_CACHE_DIR": str(tmp_path / "c")}
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "install-desktop"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    entry = tmp_path / "share" / "applications" / "cockpit.desktop"
    icon = tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "cockpit.svg"
    assert icon.read_bytes().startswith(b"<svg")
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # keys are case-sensitive
    cp.read(entry, encoding="utf-8")
    main = cp["Desktop Entry"]
    assert main["Type"] == "Application" and main["Name[zh_CN]"] == "县级指挥中心驾驶舱"
    assert main["Icon"] == str(icon)
    exe = main["Exec"].split(" %f")[0].strip('"')
    assert Path(exe.split('" "')[0]).exists()  # the program of this installation
    assert cp["Desktop Action wall"]["Exec"].endswith(" wall")
    if shutil.which("desktop-file-validate"):
        v = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert v.returncode == 0, v.stdout + v.stderr
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "install-desktop", "--uninstall"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not entry.exists() and not icon.exists()
