"""The PDF briefing (exporters/pdf_briefing.py) read back as a reader sees it.

PDFs are checked with poppler's command-line tools only: ``pdfinfo`` (pages, paper),
``pdffonts`` (embedded fonts), ``pdftotext`` (what the text says, page by page) and
``pdftoppm`` (the rendered page, for the map's ink). Figures are compared with the
independent oracles of tests/oracle.py and tests/test_rectification.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factory import (
    EXTRACTED_AT,
    full_tables,
    hazard,
    incident,
    meta_rows,
    village_point,
    write_extract,
)
from oracle import expected_report
from test_rectification import expected as rect_expected
from test_rectification import read_raw

from data.extract import open_extract
from data.filters import FilterState

ROOT = Path(__file__).resolve().parents[1]
WINDOW = (date(2026, 1, 1), date(2026, 6, 30))
MARKING = "内部资料 注意保密"
GENERATED = datetime(2026, 11, 20, 7, 30)
MAP_FILL = (250, 251, 253)


# --------------------------------------------------------------------------- reading PDFs
def _run(*cmd: str) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def info(path: Path) -> dict[str, str]:
    return dict(line.split(":", 1) for line in _run("pdfinfo", str(path)).splitlines()
                if ":" in line)


def page_size(path: Path) -> tuple[float, float]:
    m = re.match(r"\s*([\d.]+) x ([\d.]+) pts", info(path)["Page size"])
    assert m
    return float(m.group(1)), float(m.group(2))


def pages(path: Path, layout: bool = False) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed); ``layout`` keeps
    table rows on their lines (for one-column pages: it interleaves columns)."""
    text = _run("pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-")
    out = text.split("\f")
    return out[:-1] if out and not out[-1].strip() else out


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def fonts(path: Path) -> list[dict[str, str]]:
    lines = _run("pdffonts", str(path)).splitlines()[2:]
    return [{"name": ln.split()[0], "emb": ln.split()[-5], "uni": ln.split()[-3]}
            for ln in lines if ln.strip()]


def render(path: Path, page: int, dpi: int = 40) -> tuple[int, int, bytes]:
    """One page as RGB pixels (binary PPM from pdftoppm, parsed here)."""
    raw = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page),
                          str(path)], capture_output=True, timeout=120).stdout
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", raw)
    assert m, raw[:20]
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, raw[m.end():m.end() + 3 * w * h]


def map_box(w: int, h: int, px: bytes) -> tuple[int, int, int, int] | None:
    """The bounding box of the map's own background colour, the largest one on the page."""
    xs, ys = [], []
    for y in range(h):
        row = px[3 * w * y:3 * w * (y + 1)]
        for x in range(w):
            r, g, b = row[3 * x:3 * x + 3]
            if max(abs(r - MAP_FILL[0]), abs(g - MAP_FILL[1]), abs(b - MAP_FILL[2])) <= 1:
                xs.append(x)
                ys.append(y)
    if not xs:
        return None
    box = min(xs), min(ys), max(xs), max(ys)
    area = (box[2] - box[0] + 1) * (box[3] - box[1] + 1)
    # A map shows its background over much of its box; anti-aliased edges elsewhere may
    # hit the colour too, but only here and there.
    return box if len(xs) > 0.15 * area and area > 400 else None


def inks(w: int, px: bytes, box: tuple[int, int, int, int]) -> dict[str, float]:
    """Shares of the box's pixels that are reddish (hot spots, density), boundary blue-grey,
    or dark saturated colours (symbols)."""
    x0, y0, x1, y1 = box
    red = edge = colour = 0
    n = 0
    for y in range(y0, y1 + 1):
        for x in range(x0, x1 + 1):
            r, g, b = px[3 * (y * w + x):3 * (y * w + x) + 3]
            n += 1
            if r > 170 and r - g > 70 and r - b > 60:
                red += 1
            if r < 150 and b < 190 and b > r + 10 and g > r:
                edge += 1
            if max(r, g, b) - min(r, g, b) > 90:
                colour += 1
    return {"red": red / n, "edge": edge / n, "colour": colour / n}


def map_page(texts: list[str], title: str) -> int:
    return next(i for i, t in enumerate(texts, start=1) if title in t)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: Any) -> Path:
    """A QApplication (pytest-qt) exists before any export, and audit lines stay private."""
    target = tmp_path / "userdata"
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(target))
    return target


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate_demo(path, incidents=20_000, seed=11)
    return path


@pytest.fixture(scope="module")
def briefs(demo: Path, tmp_path_factory: pytest.TempPathFactory, qapp: Any
           ) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The demo's briefings: A4 zh, A3 en with a window, the A4 atlas, a town on A4."""
    from exporters.pdf_briefing import export_pdf

    out = tmp_path_factory.mktemp("pdf")
    ex = open_extract(demo)
    cases = {
        "a4": (FilterState(), {}),
        "a3": (FilterState().with_window(*WINDOW), {"paper": "a3", "lang": "en"}),
        "atlas": (FilterState(), {"atlas": "town"}),
        "town": (FilterState().with_window(*WINDOW).with_areas(["T03"]), {"atlas": "town"}),
    }
    done = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COCKPIT_DATA_DIR", str(out / "userdata"))
        for name, (state, kw) in cases.items():
            target = out / f"{name}.pdf"
            done[name] = (target, export_pdf(ex, state, target, generated_at=GENERATED, **kw))
    ex.close()
    return done


def _towns(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT name FROM areas WHERE level = 'town' "
                                          "ORDER BY rowid").fetchall()]
    finally:
        con.close()


# --------------------------------------------------------------------------- every page
@pytest.mark.parametrize("name", ["a4", "a3", "atlas", "town"])
def test_marking_page_numbers_and_time_on_every_page(briefs: dict, name: str) -> None:
    path, summary = briefs[name]
    texts = pages(path)
    assert len(texts) == summary["pages"] == int(info(path)["Pages"]) > 1
    lang = "en" if name == "a3" else "zh"
    for n, text in enumerate(texts, start=1):
        flat = squeeze(text)
        assert flat.count(squeeze(MARKING)) >= 2, n  # header and footer
        label = f"第{n}/{len(texts)}页" if lang == "zh" else f"Page{n}/{len(texts)}"
        assert label in flat, (n, flat[-80:])
        assert "2026-11-2007:30" in flat, n  # the generation time
        assert "示范县" in flat, n  # the region


@pytest.mark.parametrize(("name", "size"), [("a4", (595, 842)), ("a3", (1191, 842)),
                                            ("atlas", (595, 842))])
def test_paper_and_orientation(briefs: dict, name: str, size: tuple[int, int]) -> None:
    w, h = page_size(briefs[name][0])
    assert (round(w), round(h)) == size


def test_fonts_are_embedded_and_cjk_extracts(briefs: dict) -> None:
    path, _ = briefs["a4"]
    found = fonts(path)
    assert found and all(f["emb"] == "yes" and f["uni"] == "yes" for f in found)
    assert any("CJK" in f["name"] for f in found)
    text = "".join(pages(path))
    assert not re.search(r"[\u2e80-\u2fdf]", text)  # radicals instead of ideographs
    flat = squeeze(text)
    for words in ("示范县研判报告", "态势感知图", "综合研判", "超期隐患", "矛盾纠纷逐级化解",
                  "力量覆盖缺口"):
        assert words in flat, words


# --------------------------------------------------------------------------- figures
def test_title_kpis_and_summary_are_true_to_the_figures(demo: Path, briefs: dict) -> None:
    path, _ = briefs["a4"]
    texts = pages(path)
    first = squeeze(texts[0])
    rep = expected_report(demo)
    inc = rep["incidents"]
    assert f"全部时段共接报警情{inc['total']:,}起" in first
    yoy = inc["yoy"]
    assert f"上一个完整月（{yoy['month']}）接报{yoy['current']:,}起" in first
    assert f"的{yoy['previous']:,}起" in first
    assert f"{abs(yoy['change_pct']):.1f}%" in first
    rect = rect_expected(read_raw(demo))
    assert f"在册隐患{rect['total']:,}项" in first
    assert f"超期未整改{rect['overdue_count']:,}项" in first
    for u in [u for u in rect["by_unit"] if u["overdue"]][:3]:
        assert squeeze(f"{u['responsible_unit']}（{u['overdue']}项）") in first
    ds = rep["disputes"]
    assert f"受理矛盾纠纷{ds['total']:,}件" in first
    assert f"化解成功率{ds['success_rate'] * 100:.1f}%" in first
    assert f"截至：{rep['as_of']}" in first and MARKING.replace(" ", "") in first


def test_overdue_list_and_its_continuation(demo: Path, briefs: dict) -> None:
    path, _ = briefs["a4"]
    rect = rect_expected(read_raw(demo))
    flat = squeeze("".join(pages(path, layout=True)))
    listed = rect["overdue"][:50]
    pos = [flat.find(squeeze(r["name"]) + squeeze(r["town_name"])) for r in listed]
    assert all(p >= 0 for p in pos), [r["name"] for r, p in zip(listed, pos, strict=True) if p < 0]
    assert f"另有{rect['overdue_count'] - 50:,}项未列出" in flat


def test_window_filter_and_english(demo: Path, briefs: dict) -> None:
    path, _ = briefs["a3"]
    first = pages(path)[0]
    rep = expected_report(demo, *WINDOW)
    assert "2026-01-01 to 2026-06-30" in first
    assert f"{rep['incidents']['total']:,} incidents reported" in " ".join(first.split())
    assert "Summary" in first and "Key figures" in first


def test_area_filter_gives_the_town(demo: Path, briefs: dict) -> None:
    path, summary = briefs["town"]
    texts = pages(path)
    rep = expected_report(demo, *WINDOW, "T03")
    name = read_raw(demo).area_name["T03"]
    first = squeeze(texts[0])
    assert f"示范县{name}研判报告" in first
    assert f"共接报警情{rep['incidents']['total']:,}起" in first
    assert f"区域：{name}(T03)" in first
    assert f"受理矛盾纠纷{rep['disputes']['total']:,}件" in first
    assert summary["towns"] == 1 and f"乡镇图册1/1·{name}" in squeeze(texts[-1])
    rect = rect_expected(read_raw(demo), areas=("T03",))
    assert f"超期未整改{rect['overdue_count']:,}项" in first


def test_atlas_has_one_page_per_town(demo: Path, briefs: dict) -> None:
    (_, s_main), (atlas, s_atlas) = briefs["a4"], briefs["atlas"]
    towns = _towns(demo)
    assert len(towns) == 15 == s_atlas["towns"]
    assert s_atlas["pages"] == s_main["pages"] + len(towns)
    texts = pages(atlas)
    for i, name in enumerate(towns, start=1):
        page = squeeze(texts[s_main["pages"] + i - 1])
        assert f"乡镇图册{i}/{len(towns)}·{name}" in page
        assert "超期隐患" in page and "态势感知图" in page


# --------------------------------------------------------------------------- the map
def test_situation_map_has_the_expected_ink(briefs: dict) -> None:
    path, _ = briefs["a4"]
    texts = pages(path)
    n = map_page(texts, "态势感知图")
    w, h, px = render(path, n)
    box = map_box(w, h, px)
    assert box is not None
    x0, y0, x1, y1 = box
    assert x1 - x0 > 0.8 * w and y1 - y0 > 0.4 * h  # a large map
    ink = inks(w, px, box)
    assert ink["red"] > 0.003, ink  # hot spots and dense places
    assert ink["edge"] > 0.003, ink  # town boundaries
    # The first page has no map: the same measure finds none there.
    assert map_box(*render(path, 1)) is None


def test_town_map_draws_incidents_as_symbols(briefs: dict) -> None:
    path, _ = briefs["town"]
    texts = pages(path)
    w, h, px = render(path, map_page(texts, "态势感知图"), dpi=50)
    box = map_box(w, h, px)
    assert box is not None
    ink = inks(w, px, box)
    assert ink["colour"] > 0.01, ink  # category colours of the town's incidents


# --------------------------------------------------------------------------- privacy
PERSONAL = {"unit": "城关派出所 张三 13812345678", "pond": "李四家鱼塘 0796-8123456",
            "address": "解放路1号 联系人+86 139-0000-1111"}


@pytest.fixture
def personal(tmp_path: Path) -> Path:
    """Phone numbers in free text that the briefing prints (overdue list, repeat places)."""
    tables = full_tables()
    hz = [list(h) for h in tables["hazards"]]
    hz[1][8] = PERSONAL["unit"]  # H0001 and H0003: overdue
    hz[3][2] = PERSONAL["pond"]
    tables["hazards"] = [tuple(h) for h in hz]
    spot = village_point(1, 1, 0.5, 0.5)  # ten calls: a repeat place over two months
    tables["incidents"] += [incident(100 + k, *spot, when=EXTRACTED_AT.replace(day=1),
                                     address=PERSONAL["address"]) for k in range(10)]
    return write_extract(tmp_path / "personal.duckdb", tables)


def test_phones_are_masked_unless_asked(personal: Path, tmp_path: Path) -> None:
    from exporters.pdf_briefing import export_pdf

    ex = open_extract(personal)
    masked, plain = tmp_path / "masked.pdf", tmp_path / "plain.pdf"
    export_pdf(ex, FilterState(), masked)
    export_pdf(ex, FilterState(), plain, masked=False)
    full = ("13812345678", "0796-8123456", "139-0000-1111")
    plain_text = squeeze("".join(pages(plain)))
    assert all(squeeze(p) in plain_text for p in full)  # the check can see them
    raw = "".join(pages(masked))
    text = squeeze(raw)
    assert not any(squeeze(p) in text for p in full)
    assert not re.search(r"(?<![\d*])1[3-9]\d{9}(?!\d)", raw)  # no mobile number at all
    assert "138****5678" in text and "079*-***3456" in text
    assert "个人信息已脱敏" in text and "含未脱敏个人信息" in plain_text


# --------------------------------------------------------------------------- odd extracts
HOSTILE = ["<script>alert(1)</script>", "\u202e倒序文本\u200b", "名" * 300, "a\x01b\x07c",
           "😀 emoji 隐患", "=cmd|' /C calc'!A0", "%PDF-1.4 endobj endstream"]


def test_hostile_and_empty_extracts_give_valid_briefings(tmp_path: Path) -> None:
    from exporters.pdf_briefing import export_pdf

    tables = full_tables()
    tables["hazards"] += [hazard(20 + k, *village_point(0, 0, 0.3, 0.3), name=t,
                                 risk_level="major") for k, t in enumerate(HOSTILE)]
    tables["incidents"] += [incident(500 + k, *village_point(1, 0), address=t)
                            for k, t in enumerate(HOSTILE * 3)]
    tables["meta"] = meta_rows(region_name="测试县 <b>&amp;</b>", classification="")
    hostile = write_extract(tmp_path / "hostile.duckdb", tables)
    bare = write_extract(tmp_path / "bare.duckdb", {"meta": meta_rows(), "areas": [],
                                                    "incidents": []})
    no_areas = write_extract(tmp_path / "points.duckdb", {
        "meta": meta_rows(), "incidents": [incident(k, 115.0 + k * 1e-3, 27.0)
                                           for k in range(30)]})
    for path, marking in ((hostile, "密级：未标注"), (bare, "内部资料"), (no_areas, "内部资料")):
        out = tmp_path / f"{path.stem}.pdf"
        s = export_pdf(open_extract(path), FilterState(), out, paper="a3", atlas="town")
        texts = pages(out)
        assert len(texts) == s["pages"] >= 1 and int(info(out)["Pages"]) == s["pages"]
        assert all(marking in t.replace(" ", "") for t in texts), path.stem
    assert "无数据" in squeeze("".join(pages(tmp_path / "bare.pdf")))
    # Direction overrides and control characters are dropped, not obeyed: text stays in order.
    text = squeeze("".join(pages(tmp_path / "hostile.pdf", layout=True)))
    assert "倒序文本" in text and "<script>alert(1)</script>" in text and "\u202e" not in text


def test_a_failed_export_leaves_the_old_file(demo: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import exporters.pdf_briefing as pdf

    target = tmp_path / "brief.pdf"
    target.write_bytes(b"the previous briefing")

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pdf, "_paint", broken)
    with pytest.raises(RuntimeError):
        pdf.export_pdf(open_extract(demo), FilterState(), target)
    assert target.read_bytes() == b"the previous briefing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brief.pdf"]


def test_wrong_arguments(demo: Path, tmp_path: Path) -> None:
    from exporters.pdf_briefing import export_pdf

    ex = open_extract(demo)
    for kw in ({"paper": "letter"}, {"atlas": "village"}, {"lang": "fr"}):
        with pytest.raises(ValueError):
            export_pdf(ex, FilterState(), tmp_path / "x.pdf", **kw)
    assert not (tmp_path / "x.pdf").exists()


def test_to_unicode_fix_rewrites_single_entries_only() -> None:
    from exporters.pdf_text import _fix_cmap

    body = (b"\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n3 beginbfrange\n"
            b"<0000> <0000> <0000>\n<0001> <0003> [<2F70> <8303> <2EDA>]\n"
            b"<0004> <000D> <2F00>\n<000E> <000E> <2F06>\nendbfrange\n1 beginbfchar\n"
            b"<0010> <2F70>\nendbfchar\n")
    fixed, n = _fix_cmap(body, {0x2F70: 0x793A, 0x2EDA: 0x9875, 0x2F06: 0x4E8C, 0x2F00: 0x4E00})
    assert n == 4 and len(fixed) == len(body)
    assert b"[<793A> <8303> <9875>]" in fixed and b"<000E> <000E> <4E8C>" in fixed
    assert b"<0004> <000D> <2F00>" in fixed  # a run keeps its start
    assert b"<0010> <793A>" in fixed and b"<0000> <FFFF>" in fixed


# --------------------------------------------------------------------------- command line
def test_cli_export_pdf_headless_and_audited(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli.pdf"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env |= {"COCKPIT_CACHE_DIR": str(tmp_path / "cache"),
            "COCKPIT_DATA_DIR": str(tmp_path / "userdata")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "main.py", "export", str(demo), *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    done = run("--pdf", str(out), "--paper", "a3", "--lang", "en", "--from", "2026-01-01",
               "--to", "2026-06-30", "--area", "T03")
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr and done.stdout == ""
    assert [round(v) for v in page_size(out)] == [1191, 842]
    rep = expected_report(demo, *WINDOW, "T03")
    assert f"{rep['incidents']['total']:,} incidents reported" in " ".join(pages(out)[0].split())
    lines = (tmp_path / "userdata" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[-1])
    assert len(lines) == 1 and event["action"] == "export_pdf"
    assert event["output"] == str(out) and event["filter"]["areas"] == ["T03"]
    assert event["details"]["paper"] == "a3" and event["details"]["masked"] is True
    assert event["details"]["pages"] == len(pages(out))

    wrong = run("--png", str(tmp_path / "x.png"), "--atlas", "town")
    assert wrong.returncode == 2 and "--pdf" in wrong.stderr
    unknown = run("--pdf", str(tmp_path / "y.pdf"), "--area", "NOPE")
    assert unknown.returncode == 2 and "NOPE" in unknown.stderr
    assert not (tmp_path / "y.pdf").exists()


# --------------------------------------------------------------------------- the layout
def test_flow_columns_pages_headings_and_splits() -> None:
    """Blocks of known heights land where the rules of pdf_layout say (no Qt needed)."""
    from exporters.pdf_layout import Block, Frame, PageBreak, flow

    class Box(Block):
        def __init__(self, name: str, h: float, keep: bool = False, span: bool = False,
                     rows: int = 0) -> None:
            self.name, self.h, self.keep_with_next, self.span, self.rows = name, h, keep, span, rows

        def height(self, ctx: Any, width: float, avail: float = float("inf")) -> float:
            return self.h

        def min_height(self, ctx: Any, width: float) -> float:
            return 20 if self.rows else self.h

        def split(self, ctx: Any, width: float, avail: float) -> tuple[Any, Any]:
            fit = int(avail // 10)  # rows of 10
            if not self.rows or fit < 2 or fit >= self.rows:
                return None, self
            return (Box(self.name + "a", fit * 10, rows=fit),
                    Box(self.name + "b", (self.rows - fit) * 10, rows=self.rows - fit))

        def paint(self, ctx: Any, rect: Any) -> None:
            pass

    # Two columns of 100 x 100 (x = 0 and 110); a title across both on the first page.
    frame = Frame(0, 0, 210, 100, columns=2, column_gap=10, block_gap=0)
    blocks = [Box("title", 20, span=True), Box("a", 50), Box("head", 10, keep=True),
              Box("table", 150, rows=15), Box("big", 300), PageBreak(), Box("town", 20)]
    pages = flow(None, blocks, frame)
    where = [[(p.block.name, p.rect.x(), p.rect.y(), p.rect.height()) for p in page]
             for page in pages]
    assert where == [
        [("title", 0, 0, 20), ("a", 0, 20, 50), ("head", 0, 70, 10), ("tablea", 0, 80, 20),
         ("tableba", 110, 20, 80)],
        [("tablebb", 0, 0, 50), ("big", 110, 0, 100)],  # too tall for any column: clipped
        [("town", 0, 0, 20)],  # the page break after "big" finds a fresh page already
    ]
    # A heading never ends a column alone: with no room for the table's start it moves on.
    pages = flow(None, [Box("a", 85), Box("head", 10, keep=True), Box("t", 60, rows=6)], frame)
    assert [(p.block.name, p.rect.x(), p.rect.y()) for p in pages[0]] == [
        ("a", 0, 0), ("head", 110, 0), ("t", 110, 10)]
