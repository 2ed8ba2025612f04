"""Video files of a replay: MP4 through the ffmpeg that the ``imageio-ffmpeg`` wheel
carries (no system ffmpeg), GIF through Pillow, and the caption strip under each frame.

Both writers take frames as (h, w, 3) uint8 RGB arrays, write to a temporary name beside
the target and rename it into place only when the file is complete (``close``);
``abort`` (or any failure) removes the temporary file, so a half-written video never
takes the target's name.

- MP4: H.264 (libx264), yuv420p (what every player opens), ``+faststart`` (the index
  first, so it plays while it downloads), constant frame rate; frames go to ffmpeg's
  stdin as raw RGB. yuv420p needs even sizes: callers render even sizes (``even_size``).
- GIF: one 256-colour palette per frame (adaptive, no dithering: flat interface colours
  stay flat) or one global palette taken from the first frame; loops forever. Pillow
  keeps the frames in memory until the file is written (about 2 MB per 1080p frame).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from layers.playback_caption import Caption
from painting.fonts import CJK_FAMILIES

RGBA = tuple[int, int, int, int]
FORMATS = (".gif", ".mp4")
CRF = 20
"""x264 quality: 18-23 is visually clean for interface graphics at a modest size."""
QUANTIZE = Image.Quantize.FASTOCTREE
"""GIF palettes: at 1920x1080, 60 ms a frame against 290 ms for median cut, with no
difference to see on the cockpit's flat colours (mean error 0.5 of 255 against 0.1)."""


class VideoError(RuntimeError):
    """The encoder failed (its message says why); nothing was written at the target."""


def even_size(width: int, height: int) -> tuple[int, int]:
    """The largest even size within ``width`` x ``height`` (yuv420p halves both)."""
    return width - width % 2, height - height % 2


def strip_height(height: int) -> int:
    """The caption strip under a frame of ``height`` pixels (even, so frames stay even)."""
    h = max(28, round(height * 0.045))
    return h + h % 2


def qimage_rgb(image: QImage) -> np.ndarray:
    """A QImage as a (h, w, 3) uint8 RGB array (a copy)."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def _font(px: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setFamilies([*CJK_FAMILIES, "sans-serif"])
    font.setPixelSize(max(8, round(px)))
    font.setBold(bold)
    return font


def with_caption(frame: QImage, caption: Caption, height: int, background: RGBA,
                 text: RGBA, accent: RGBA) -> QImage:
    """``frame`` with a strip of ``height`` pixels under it: the time window large on the
    left, the region, the replay's mode and the frame number on the right."""
    w = frame.width()
    out = QImage(w, frame.height() + height, QImage.Format.Format_RGB32)
    out.fill(QColor(*background))
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    p.drawImage(0, 0, frame)
    y0 = frame.height()
    p.fillRect(0, y0, w, max(1, height // 14), QColor(*accent))  # a rule above the strip
    pad = height * 0.4
    box = QRectF(pad, y0, w - 2 * pad, height)
    p.setFont(_font(height * 0.56, bold=True))
    p.setPen(QColor(*accent))
    p.drawText(box, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), caption.time)
    used = p.fontMetrics().horizontalAdvance(caption.time) + pad
    p.setFont(_font(height * 0.4))
    p.setPen(QColor(*text))
    right = f"{caption.where}   {caption.mode}   {caption.frame}"
    room = max(0.0, box.width() - used)
    right = p.fontMetrics().elidedText(right, Qt.TextElideMode.ElideLeft, int(room))
    p.drawText(box, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), right)
    p.end()
    return out


def _temp_beside(out: Path, suffix: str) -> Path:
    """A new empty file beside ``out`` (same folder: the rename stays on one file system),
    with the permissions a plain new file would get (mkstemp makes them private)."""
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=f".part{suffix}", dir=out.parent)
    os.close(fd)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(name, 0o666 & ~mask)
    return Path(name)


class Mp4Writer:
    """H.264 MP4 through the ffmpeg binary of imageio-ffmpeg; raw RGB frames on its stdin."""

    def __init__(self, out: str | os.PathLike[str], size: tuple[int, int], fps: float) -> None:
        import imageio_ffmpeg  # the PyPI wheel that carries an ffmpeg binary

        w, h = size
        if w % 2 or h % 2:
            raise ValueError(f"an MP4 (yuv420p) needs even sizes, not {w}x{h}")
        self.out, self.size, self.frames = Path(out), (w, h), 0
        self.temp = _temp_beside(self.out, ".mp4")
        # ffmpeg's complaints, read on failure; open for the writer's life, closed by it
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{fps:g}",
               "-i", "-", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(CRF),
               "-pix_fmt", "yuv420p", "-movflags", "+faststart",
               # no encoder version or time in the file: the same frames give the same bytes
               "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
               "-f", "mp4", str(self.temp)]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=self._log)
        except OSError as exc:
            self._cleanup()
            raise VideoError(f"cannot start ffmpeg: {exc}") from exc

    def add(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.size[1], self.size[0], 3) or rgb.dtype != np.uint8:
            raise ValueError(f"frame {rgb.shape} {rgb.dtype}, expected "
                             f"{(self.size[1], self.size[0], 3)} uint8")
        try:
            self._proc.stdin.write(np.ascontiguousarray(rgb).tobytes())
        except (BrokenPipeError, OSError) as exc:
            self.abort()
            raise VideoError(f"ffmpeg stopped: {self._error() or exc}") from exc
        self.frames += 1

    def close(self) -> Path:
        """Finish the file and rename it into place."""
        if self.frames == 0:
            self.abort()
            raise VideoError("no frames to write")
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        code = self._proc.wait()
        if code != 0:
            message = self._error()
            self.abort()
            raise VideoError(f"ffmpeg failed ({code}): {message}")
        os.replace(self.temp, self.out)
        self._log.close()
        return self.out

    def _error(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            self._log.seek(0)
            lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
            return lines[-1] if lines else ""
        return ""

    def abort(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
            self._proc.kill()
            self._proc.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        self.temp.unlink(missing_ok=True)
        with contextlib.suppress(OSError, ValueError):
            self._log.close()


class GifWriter:
    """An animated GIF through Pillow; ``palette`` "frame" (adaptive per frame) or "global"
    (the first frame's palette for all)."""

    def __init__(self, out: str | os.PathLike[str], size: tuple[int, int], fps: float,
                 palette: str = "frame", loop: bool = True) -> None:
        if palette not in ("frame", "global"):
            raise ValueError(f"palette must be 'frame' or 'global', not {palette!r}")
        self.out, self.size, self.palette, self.loop = Path(out), size, palette, loop
        self.duration_ms = max(20, round(1000 / fps))  # GIF delays are hundredths of seconds
        self._images: list[Image.Image] = []
        self._global: Image.Image | None = None

    @property
    def frames(self) -> int:
        return len(self._images)

    def add(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.size[1], self.size[0], 3) or rgb.dtype != np.uint8:
            raise ValueError(f"frame {rgb.shape} {rgb.dtype}, expected "
                             f"{(self.size[1], self.size[0], 3)} uint8")
        img = Image.fromarray(rgb, "RGB")
        if self.palette == "global":
            if self._global is None:
                self._global = img.quantize(256, QUANTIZE, dither=Image.Dither.NONE)
            self._images.append(img.quantize(palette=self._global, dither=Image.Dither.NONE))
        else:
            self._images.append(img.quantize(256, QUANTIZE, dither=Image.Dither.NONE))

    def close(self) -> Path:
        if not self._images:
            raise VideoError("no frames to write")
        temp = _temp_beside(self.out, ".gif")
        try:
            first, *rest = self._images
            extra = {"loop": 0} if self.loop else {}
            first.save(temp, format="GIF", save_all=True, append_images=rest,
                       duration=self.duration_ms, disposal=1, optimize=False, **extra)
            os.replace(temp, self.out)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        finally:
            self._images = []
        return self.out

    def abort(self) -> None:
        self._images = []


def writer_for(out: str | os.PathLike[str], size: tuple[int, int], fps: float
               ) -> Mp4Writer | GifWriter:
    """The writer for the file's suffix (.mp4 or .gif)."""
    suffix = Path(out).suffix.lower()
    if suffix == ".mp4":
        return Mp4Writer(out, size, fps)
    if suffix == ".gif":
        return GifWriter(out, size, fps)
    raise ValueError(f"a replay is written as {' or '.join(FORMATS)}, not {suffix or 'no suffix'}")


def read_back(path: str | os.PathLike[str]) -> tuple[int, tuple[int, int]]:
    """(frames, (width, height)) of a written video, as a player would read it."""
    suffix = Path(path).suffix.lower()
    if suffix == ".gif":
        with Image.open(path) as im:
            return getattr(im, "n_frames", 1), im.size
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    n, _secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    return n, tuple(meta["size"])


__all__ = ["FORMATS", "GifWriter", "Mp4Writer", "VideoError", "even_size", "qimage_rgb",
           "read_back", "strip_height", "with_caption", "writer_for"]
