"""Pixel size of PNG and JPEG images read from their headers (no Pillow: the emulator only needs
to check that an uploaded rich-menu image matches the menu's size), and a writer of solid-colour
PNGs for tests, notebooks and demos that need a rich-menu image of a given size."""

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG, JPEG = "image/png", "image/jpeg"

# JPEG start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Markers without a length field: TEM and RST0..RST7 (SOI is consumed before the loop).
_STANDALONE = {0x01} | set(range(0xD0, 0xD8))


class ImageError(ValueError):
    """The bytes are not a readable image of the expected type."""


def sniff_type(data):
    """``"image/png"``, ``"image/jpeg"`` or None, from the magic bytes."""
    if data.startswith(PNG_SIGNATURE):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def image_size(data):
    """``(width, height)`` in pixels of a PNG or JPEG; :class:`ImageError` otherwise."""
    kind = sniff_type(data)
    if kind == PNG:
        return _png_size(data)
    if kind == JPEG:
        return _jpeg_size(data)
    raise ImageError("the data is neither a PNG nor a JPEG image")


def _png_size(data):
    # The first chunk of every PNG is IHDR: length (13), type, width, height (big-endian).
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageError("the PNG has no IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data):
    pos = 2  # after SOI (FF D8)
    while pos < len(data):
        if data[pos] != 0xFF:
            raise ImageError(f"the JPEG is corrupt: no marker at byte {pos}")
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= len(data):
            break
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan before any frame header
            break
        if pos + 2 > len(data):
            break
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if marker in _SOF_MARKERS:
            if pos + 7 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            return width, height
        pos += length
    raise ImageError("the JPEG has no frame header (SOF) giving its size")


def solid_png(width, height, rgb=(6, 199, 85)):
    """A valid PNG of ``width`` x ``height`` pixels in one colour (LINE green by default).

    Solid rows compress to almost nothing, so even 2500x1686 stays a few kilobytes.
    """
    def chunk(kind, payload):
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    row = b"\x00" + bytes(rgb) * width  # filter type 0, then the pixels
    return (PNG_SIGNATURE + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height, 9)) + chunk(b"IEND", b""))
