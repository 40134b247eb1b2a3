"""Draws the ready-made rich-menu pair (2500x843, LINE's half size) shipped in line_idlink_addon/static/img.

A maintainer tool, not run by tests: needs Pillow and Debian's fonts-noto-cjk
(`apt-get install -y fonts-noto-cjk`; `.venv/bin/pip install "pillow>=10,<14"`), then
`.venv/bin/python scripts/assets/make_richmenu_images.py line_idlink_addon/static/img`.
The output is byte-identical on re-run.
"""
import sys
from PIL import Image, ImageDraw, ImageFont

W, H = 2500, 843
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
JP = 0  # face index of Noto Sans CJK JP in the collection
GREEN, DARK, INK, PAPER = (6, 199, 85), (4, 150, 64), (33, 37, 41), (247, 248, 250)


def font(size):
    return ImageFont.truetype(FONT, size, index=JP)


def centered(draw, cx, cy, text, size, fill):
    f = font(size)
    box = draw.textbbox((0, 0), text, font=f)
    draw.text((cx - (box[2] - box[0]) / 2 - box[0], cy - (box[3] - box[1]) / 2 - box[1]),
              text, font=f, fill=fill)


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


def linked(path):
    img = Image.new("RGB", (W, H), PAPER)
    d = ImageDraw.Draw(img)
    tiles = [("連携解除", "LINE連携をやめる", (108, 117, 125)),
             ("注文履歴", "ご注文の確認", GREEN),
             ("ポイント", "ポイント残高", (255, 153, 0)),
             ("会員証", "会員証を表示", (13, 110, 253))]
    col = W / 4
    for i, (label, sub, color) in enumerate(tiles):
        x0 = round(i * col)
        x1 = round((i + 1) * col)
        d.rectangle((x0, 0, x1, H), fill="white" if i % 2 else PAPER)
        cx = (x0 + x1) / 2
        d.ellipse((cx - 150, 120, cx + 150, 420), fill=color)
        centered(d, cx, 270, label[0], 170, "white")
        centered(d, cx, 560, label, 120, INK)
        centered(d, cx, 700, sub, 64, (108, 117, 125))
        if i:
            d.line((x0, 60, x0, H - 60), fill=(206, 212, 218), width=6)
    img.save(path, optimize=True)


if __name__ == "__main__":
    out = sys.argv[1]
    unlinked(f"{out}/richmenu_unlinked.png")
    linked(f"{out}/richmenu_linked.png")
