"""Locate the Debian-packaged fonts the renderer uses and check which characters they draw."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import ImageFont

__all__ = ["FontMissing", "font", "has_glyph"]

# (file, face name inside a .ttc) per role. Debian paths; see ocr/synthetic/APT_PACKAGES.
_NOTO = Path("/usr/share/fonts/opentype/noto")
_FACES: dict[str, tuple[Path, str | None]] = {
    "sans": (_NOTO / "NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    "sans_bold": (_NOTO / "NotoSansCJK-Bold.ttc", "Noto Sans CJK SC"),
    "serif": (_NOTO / "NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    "serif_bold": (_NOTO / "NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC"),
    "ocrb": (Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf"), None),
    "kai": (Path("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"), None),
}
# A private-use code point no CJK font maps: what .notdef (tofu) looks like in each font.
_MISSING = "\U000f0000"


class FontMissing(RuntimeError):
    """A font the renderer needs is not installed (see ocr/synthetic/APT_PACKAGES)."""


@cache
def _face_index(role: str) -> int:
    path, face = _FACES[role]
    if not path.exists():
        raise FontMissing(f"{path} not found; install the packages in ocr/synthetic/APT_PACKAGES")
    if face is None:
        return 0
    # Collections hold JP/KR/SC/TC/HK faces whose glyph shapes differ; pick the SC one by name.
    for index in range(16):
        try:
            candidate = ImageFont.truetype(str(path), 12, index=index)
        except OSError:
            break
        if candidate.getname()[0] == face:
            return index
    raise FontMissing(f"{face} not found in {path}")


@cache
def font(role: str, size: int) -> ImageFont.FreeTypeFont:
    """The font for a role ("sans", "sans_bold", "serif", "serif_bold", "ocrb", "kai")."""
    path, _ = _FACES[role]
    return ImageFont.truetype(str(path), max(1, int(size)), index=_face_index(role))


@cache
def _notdef(role: str) -> bytes:
    return bytes(font(role, 32).getmask(_MISSING))


@cache
def has_glyph(role: str, char: str) -> bool:
    """True if the font draws ``char`` itself rather than its tofu box."""
    return bytes(font(role, 32).getmask(char)) != _notdef(role)
