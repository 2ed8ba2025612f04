"""``cockpit install-desktop``: a menu entry and an icon for the user (freedesktop.org).

Writes ``applications/cockpit.desktop`` (with a 大屏模式 action for the wall) and
``icons/hicolor/scalable/apps/cockpit.svg`` under ``$XDG_DATA_HOME`` (default
``~/.local/share``), pointing at the program that runs the command: the bundle's
executable, or the virtual environment's ``cockpit``. Nothing outside the user's
own data folder is touched; ``--uninstall`` removes both files again.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_ID = "cockpit"
ICON_SOURCE = Path(__file__).resolve().parents[1] / "packaging" / "cockpit.svg"


def data_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"


def program() -> list[str]:
    """The command that starts this very installation of the cockpit."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle
        return [sys.executable]
    script = Path(sys.executable).with_name("cockpit")
    if script.exists():
        return [str(script)]
    return [sys.executable, str(Path(__file__).resolve().parents[1] / "main.py")]


def _quote(arg: str) -> str:
    # the Desktop Entry spec: quote arguments with reserved characters, escape \ " ` $
    if not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    return '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'


def entry_text(command: list[str], icon: Path) -> str:
    exe = " ".join(_quote(a) for a in command)
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=County Command-Centre Cockpit",
        "Name[zh_CN]=县级指挥中心驾驶舱",
        "GenericName=Police command-centre GIS",
        "GenericName[zh_CN]=指挥中心地理信息驾驶舱",
        "Comment=Situation, resources and hazards maps on one screen",
        "Comment[zh_CN]=态势感知图、可用资源图、风险隐患图一屏统览",
        f"Exec={exe} %f",
        f"TryExec={command[0]}",
        f"Icon={icon}",
        "Terminal=false",
        "Categories=Office;Geography;Education;",
        "Keywords=GIS;police;map;cockpit;驾驶舱;指挥中心;",
        "StartupNotify=true",
        "Actions=wall;",
        "",
        "[Desktop Action wall]",
        "Name=Wall display",
        "Name[zh_CN]=大屏模式",
        f"Exec={exe} wall",
        "",
    ])


def install(base: Path | None = None) -> list[Path]:
    """Write the entry and the icon; returns the files written."""
    base = base or data_home()
    icon = base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    entry = base / "applications" / f"{APP_ID}.desktop"
    for target, content in ((icon, ICON_SOURCE.read_bytes()),
                            (entry, entry_text(program(), icon).encode("utf-8"))):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, target)
    os.chmod(entry, 0o755)  # some desktops only trust executable entries
    return [entry, icon]


def uninstall(base: Path | None = None) -> list[Path]:
    base = base or data_home()
    removed = []
    for f in (base / "applications" / f"{APP_ID}.desktop",
              base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"):
        if f.exists():
            f.unlink()
            removed.append(f)
    return removed
