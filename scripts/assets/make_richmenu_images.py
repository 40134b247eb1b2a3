"""Draws the rich-menu pictures shipped in the addons.

* ``make_richmenu_images.py menus DIR``: the unlinked menu (2500x843, LINE's half size),
  ``DIR/richmenu_unlinked.png``.
* ``make_richmenu_images.py tile LABEL OUT.png [COLOR [MARK]]``: one button of the ready-made
  linked menu (833x843: a third of the half size): a disc of COLOR (hex, default LINE green) with
  MARK (default: the label's first character) above the label. "Create default menus" composes the linked menu from
  the tiles of the buttons the installed addons list (``line.channel._line_linked_menu_buttons``),
  scaling each into its cell; a bridge ships the tiles of its own buttons in its
  ``static/img``.

A maintainer tool, not run by tests or CI: needs Pillow and Debian's fonts-noto-cjk
(`apt-get install -y fonts-noto-cjk`; Odoo's Python has Pillow), e.g.
`python scripts/assets/make_richmenu_images.py tile 連携解除 line_idlink_addon/static/img/richmenu_tile_unlink.png`.
The output is byte-identical on re-run.
"""
import sys

from PIL import Image, ImageDraw, ImageFont

W, H = 2500, 843
TILE_W, TILE_H = 833, 843
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
JP = 0  # face index of Noto Sans CJK JP in the collection
GREEN, DARK, INK, PAPER = (6, 199, 85), (4, 150, 64), (33, 37, 41), (247, 248, 250)
GREY = (108, 117, 125)


def font(size):
    return ImageFont.truetype(FONT, size, index=JP)


def centered(draw, cx, cy, text, size, fill):
    f = font(size)
    box = draw.textbbox((0, 0), text, font=f)
    draw.text((cx - (box[2] - box[0]) / 2 - box[0], cy - (box[3] - box[1]) / 2 - box[1]),
              text, font=f, fill=fill)


def fitted_size(draw, text, size, width):
    """The largest font size up to ``size`` at which ``text`` fits in ``width`` pixels."""
    while size > 40 and draw.textlength(text, font=font(size)) > width:
        size -= 4
    return size


def unlinked(path):
    img = Image.new("RGB", (W, H), PAPER)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((90, 90, W - 90, H - 90), radius=90, fill=GREEN)
    d.rounded_rectangle((90, 90, W - 90, H - 90), radius=90, outline=DARK, width=12)
    # a chain-link glyph: two interlocking rounded rings
    for dx in (-70, 70):
        d.rounded_rectangle((560 + dx - 110, H / 2 - 70, 560 + dx + 110, H / 2 + 70),
                            radius=70, outline="white", width=28)
    centered(d, W / 2 + 180, H / 2 - 70, "連携する", 230, "white")
    centered(d, W / 2 + 180, H / 2 + 150, "タップしてLINEとアカウントを連携", 84, (232, 255, 240))
    img.save(path, optimize=True)


def color_of(value):
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))


def tile(label, path, color=GREEN, mark=None):
    """One button: a coloured disc with ``mark`` (the label's first character), the label below."""
    img = Image.new("RGB", (TILE_W, TILE_H), PAPER)
    d = ImageDraw.Draw(img)
    cx = TILE_W / 2
    d.ellipse((cx - 160, 130, cx + 160, 450), fill=color)
    centered(d, cx, 290, mark or label[0], 180, "white")
    centered(d, cx, 620, label, fitted_size(d, label, 120, TILE_W - 80), INK)
    img.save(path, optimize=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["tile"] and len(sys.argv) in (4, 5, 6):
        tile(sys.argv[2], sys.argv[3], color_of(sys.argv[4]) if len(sys.argv) >= 5 else GREEN,
             sys.argv[5] if len(sys.argv) == 6 else None)
    elif sys.argv[1:2] == ["menus"] and len(sys.argv) == 3:
        unlinked(f"{sys.argv[2]}/richmenu_unlinked.png")
    else:
        sys.exit(__doc__)
