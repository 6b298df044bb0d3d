"""The default LINE rich menu (2×2, 2500×1686 px) and the loading animation.

* :func:`render_image` draws the menu PNG with Pillow and a Japanese font found on
  the system (Noto Sans CJK from Debian's ``fonts-noto-cjk``).
* :func:`rich_menu_request` is the ``RichMenuRequest`` (areas → postbacks).
* :func:`setup_rich_menu` creates the menu, uploads the image, makes it the default
  and deletes older menus with the same name; returns the new id.
* :func:`start_loading` shows LINE's loading animation in a one-to-one chat.

Blob calls (the image upload) go to ``https://api-data.line.me``, hard-coded in the
SDK; pass a ``MessagingApiBlob`` built on an ApiClient that rewrites that host when
talking to anything else (see ``bot/channels/line_api.py: RoutedApiClient``).
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from linebot.v3.messaging import (
    MessagingApi,
    MessagingApiBlob,
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    ShowLoadingAnimationRequest,
)

log = logging.getLogger(__name__)

WIDTH = 2500
HEIGHT = 1686
MAX_IMAGE_BYTES = 1024 * 1024  # LINE: 1 MB
MENU_NAME = "ninbai-default"
CHAT_BAR_TEXT = "メニュー"  # ≤ 14 characters

#: Environment variable to force a font file (TTF/OTF/TTC with Japanese glyphs).
FONT_ENV = "NINBAI_FONT"
#: Known locations of a Japanese font, best first.
FONT_PATHS: tuple[str, ...] = (
    # Debian / Ubuntu: fonts-noto-cjk (+ fonts-noto-cjk-extra for other weights)
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    # Fedora / Arch / Alpine
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto/NotoSansCJK-Regular.ttc",
    # Debian fonts-ipafont-gothic as a fallback
    "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    # macOS (developer machines)
    "/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
)


class FontNotFoundError(RuntimeError):
    pass


@dataclass(frozen=True)
class MenuItem:
    label: str
    data: str
    display_text: str
    icon: str  # "start" | "house" | "compare" | "chat"
    background: str
    accent: str


#: The four areas, in reading order (top-left, top-right, bottom-left, bottom-right).
ITEMS: tuple[MenuItem, ...] = (
    MenuItem("診断をはじめる", "cmd:start", "診断をはじめる", "start", "#E4F3F0", "#1F8A7E"),
    MenuItem("任意売却とは", "menu:ninbai", "任意売却とは？", "house", "#E7EFFA", "#3A6FB0"),
    MenuItem("競売との違い", "menu:compare", "競売との違いは？", "compare", "#FFF3DE", "#C07A12"),
    MenuItem("相談員と話す", "cmd:human", "相談員と話したい", "chat", "#FBE9EC", "#C0505F"),
)


def area_bounds() -> list[RichMenuBounds]:
    """2×2 grid; the last column/row absorbs odd pixels so the areas tile exactly."""
    w, h = WIDTH // 2, HEIGHT // 2
    out = []
    for i in range(4):
        col, row = i % 2, i // 2
        x, y = col * w, row * h
        out.append(
            RichMenuBounds(
                x=x, y=y, width=(WIDTH - x) if col == 1 else w, height=(HEIGHT - y) if row == 1 else h
            )
        )
    return out


def rich_menu_request(name: str = MENU_NAME) -> RichMenuRequest:
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,
        name=name,
        chatBarText=CHAT_BAR_TEXT,
        areas=[
            RichMenuArea(
                bounds=bounds,
                action=PostbackAction(label=item.label, data=item.data, displayText=item.display_text),
            )
            for item, bounds in zip(ITEMS, area_bounds(), strict=True)
        ],
    )


# ---- image ---------------------------------------------------------------------------


def find_font_path() -> str:
    """Path of a font with Japanese glyphs, or FontNotFoundError naming the package."""
    env = os.environ.get(FONT_ENV)
    candidates = ([env] if env else []) + list(FONT_PATHS)
    for p in candidates:
        if p and Path(p).is_file():
            return p
    raise FontNotFoundError(
        "No Japanese font found for the rich menu image. Install Debian's "
        "'fonts-noto-cjk' package (apt-get install fonts-noto-cjk) or set "
        f"{FONT_ENV}=/path/to/font.ttc. Looked in: " + ", ".join(candidates)
    )


def load_font(size: int, path: str | None = None):
    """A Pillow font at ``size`` px; picks the Japanese face inside a .ttc."""
    from PIL import ImageFont

    path = path or find_font_path()
    if path.lower().endswith(".ttc"):
        # Noto Sans CJK .ttc holds JP/KR/SC/TC/HK faces; JP is index 0 on Debian,
        # but check the family name rather than trusting the order.
        for index in range(10):
            try:
                font = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            family = " ".join(font.getname())
            if " JP" in family or "Japanese" in family or "Hiragino" in family:
                return font
    return ImageFont.truetype(path, size)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def _draw_icon(draw, kind: str, cx: int, cy: int, r: int, accent: str) -> None:
    """A simple icon: a filled accent circle with a white pictogram."""
    white = (255, 255, 255)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=accent)
    s = r * 0.5
    if kind == "start":  # play triangle
        draw.polygon([(cx - s * 0.7, cy - s), (cx - s * 0.7, cy + s), (cx + s, cy)], fill=white)
    elif kind == "house":  # roof + body + door
        draw.polygon(
            [(cx - s * 1.1, cy - s * 0.1), (cx, cy - s * 1.05), (cx + s * 1.1, cy - s * 0.1)], fill=white
        )
        draw.rectangle((cx - s * 0.75, cy - s * 0.15, cx + s * 0.75, cy + s * 0.9), fill=white)
        draw.rectangle((cx - s * 0.2, cy + s * 0.3, cx + s * 0.2, cy + s * 0.9), fill=accent)
    elif kind == "compare":  # two bars of different heights
        draw.rounded_rectangle(
            (cx - s * 0.9, cy - s * 0.3, cx - s * 0.15, cy + s * 0.9), radius=s * 0.12, fill=white
        )
        draw.rounded_rectangle(
            (cx + s * 0.15, cy - s * 0.95, cx + s * 0.9, cy + s * 0.9), radius=s * 0.12, fill=white
        )
    elif kind == "chat":  # speech bubble with three dots
        draw.rounded_rectangle(
            (cx - s * 1.0, cy - s * 0.8, cx + s * 1.0, cy + s * 0.5), radius=s * 0.35, fill=white
        )
        draw.polygon(
            [(cx - s * 0.5, cy + s * 0.4), (cx - s * 0.7, cy + s * 1.0), (cx - s * 0.05, cy + s * 0.45)],
            fill=white,
        )
        for dx in (-0.5, 0.0, 0.5):
            d = s * 0.13
            draw.ellipse(
                (cx + s * dx - d, cy - s * 0.15 - d, cx + s * dx + d, cy - s * 0.15 + d), fill=accent
            )


def render_image(path_or_none: str | os.PathLike | None = None) -> bytes:
    """The rich menu PNG (2500×1686, < 1 MB); also written to ``path_or_none`` if given."""
    from PIL import Image, ImageDraw

    font_path = find_font_path()
    label_font = load_font(118, font_path)
    image = Image.new("RGB", (WIDTH, HEIGHT), (250, 250, 248))
    draw = ImageDraw.Draw(image)
    gap = 18
    for item, b in zip(ITEMS, area_bounds(), strict=True):
        x0, y0, x1, y1 = b.x, b.y, b.x + b.width, b.y + b.height
        draw.rounded_rectangle((x0 + gap, y0 + gap, x1 - gap, y1 - gap), radius=48, fill=item.background)
        cx = (x0 + x1) // 2
        icon_r = 135
        icon_cy = y0 + int(b.height * 0.36)
        _draw_icon(draw, item.icon, cx, icon_cy, icon_r, item.accent)
        # label, shrunk if it would not fit the tile
        font = label_font
        size = 118
        while draw.textlength(item.label, font=font) > b.width - 2 * gap - 120 and size > 60:
            size -= 6
            font = load_font(size, font_path)
        draw.text((cx, y0 + int(b.height * 0.74)), item.label, font=font, fill="#2E2E2E", anchor="mm")
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    data = buf.getvalue()
    if len(data) >= MAX_IMAGE_BYTES:  # pragma: no cover - safety net
        buf = io.BytesIO()
        image.quantize(colors=64).save(buf, format="PNG", optimize=True)
        data = buf.getvalue()
    if len(data) >= MAX_IMAGE_BYTES:  # pragma: no cover
        raise ValueError(f"rich menu image is {len(data)} bytes, LINE accepts < 1 MB")
    if path_or_none is not None:
        Path(path_or_none).write_bytes(data)
    return data


# ---- API calls -----------------------------------------------------------------------


def setup_rich_menu(
    api: MessagingApi, blob_api: MessagingApiBlob, image: bytes, name: str = MENU_NAME,
    timeout: float = 10.0,
) -> str:
    """Create the menu, upload ``image`` (PNG), make it the default, delete older
    menus with the same name; returns the new rich menu id. Every call has ``timeout``."""
    t = {"_request_timeout": timeout}
    if not image.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("rich menu image must be a PNG")
    if len(image) >= MAX_IMAGE_BYTES:
        raise ValueError(f"rich menu image is {len(image)} bytes, LINE accepts < 1 MB")
    try:
        existing = [m.rich_menu_id for m in (api.get_rich_menu_list(**t).richmenus or []) if m.name == name]
    except Exception as exc:  # listing is only for the clean-up
        log.warning("could not list rich menus (%s); older menus are kept", type(exc).__name__)
        existing = []
    rich_menu_id = api.create_rich_menu(rich_menu_request(name), **t).rich_menu_id
    try:
        blob_api.set_rich_menu_image(rich_menu_id, body=image, _headers={"Content-Type": "image/png"}, **t)
        api.set_default_rich_menu(rich_menu_id, **t)
    except Exception:
        log.error("rich menu setup failed, deleting the half-made menu %s", rich_menu_id)
        try:
            api.delete_rich_menu(rich_menu_id, **t)
        except Exception:  # pragma: no cover - best effort
            log.exception("could not delete rich menu %s", rich_menu_id)
        raise
    for old in existing:
        if old == rich_menu_id:
            continue
        try:
            api.delete_rich_menu(old, **t)
        except Exception as exc:
            log.warning("could not delete old rich menu %s: %s", old, type(exc).__name__)
    log.info("rich menu %s is the default (deleted %d older)", rich_menu_id, len(existing))
    return rich_menu_id


def loading_seconds(seconds: int) -> int:
    """LINE accepts 5–60 s in steps of 5: clamp and round up."""
    seconds = max(5, min(60, int(seconds)))
    return min(60, ((seconds + 4) // 5) * 5)


def start_loading(api: MessagingApi, user_id: str, seconds: int = 5, timeout: float = 5.0) -> bool:
    """Show the loading animation to ``user_id`` (one-to-one chats only).

    Cosmetic: never raises for an API/connection error (logged, returns False).
    """
    if not user_id or not user_id.startswith("U"):
        return False  # groups ("C…") and rooms ("R…") have no loading animation
    try:
        api.show_loading_animation(
            ShowLoadingAnimationRequest(chatId=user_id, loadingSeconds=loading_seconds(seconds)),
            _request_timeout=timeout,
        )
    except Exception as exc:
        log.info("loading animation failed: %s", type(exc).__name__)
        return False
    return True
