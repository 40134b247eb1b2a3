"""Image headers: the emulator reads a rich-menu image's pixel size from PNG and JPEG bytes."""

import struct
import zlib

import pytest

from line_emulator.images import ImageError, image_size, sniff_type, solid_png


def _jpeg_header(width, height, sof=0xC0):
    """SOI, a JFIF APP0 segment, then a frame header: enough bytes for a size reader."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
            + b"\xff" + bytes([sof]) + struct.pack(">H", len(frame) + 2) + frame + b"\xff\xd9")


def test_solid_png_is_a_real_png_of_the_requested_size():
    data = solid_png(2500, 843, rgb=(255, 0, 0))
    assert sniff_type(data) == "image/png"
    assert image_size(data) == (2500, 843)
    assert len(data) < 20_000  # solid colour: far under LINE's 1 MB
    # The pixel data decodes to height rows of (filter byte + width RGB pixels).
    idat_len = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    pixels = zlib.decompress(data[41:41 + idat_len])
    assert len(pixels) == 843 * (1 + 3 * 2500)
    assert pixels[1:4] == b"\xff\x00\x00"
    assert data.endswith(b"IEND\xaeB`\x82")


@pytest.mark.parametrize("width,height", [(2500, 1686), (800, 270), (1200, 405)])
def test_jpeg_baseline_frame_header_gives_the_size(width, height):
    data = _jpeg_header(width, height)
    assert sniff_type(data) == "image/jpeg"
    assert image_size(data) == (width, height)


def test_jpeg_progressive_frame_header_and_fill_bytes():
    data = _jpeg_header(1600, 1000, sof=0xC2)
    padded = data[:2] + b"\xff\xff" + data[2:]  # fill bytes before a marker are legal
    assert image_size(data) == (1600, 1000)
    assert image_size(padded) == (1600, 1000)


def test_jpeg_huffman_table_marker_is_not_mistaken_for_a_frame():
    dht = b"\xff\xc4" + struct.pack(">H", 5) + b"\x00\x01\x02"  # C4 sits in the SOF range
    data = _jpeg_header(2000, 1000)
    data = data[:2] + dht + data[2:]
    assert image_size(data) == (2000, 1000)


@pytest.mark.parametrize("data,why", [
    (b"GIF89a" + b"\x00" * 20, "neither a PNG nor a JPEG"),
    (b"", "neither a PNG nor a JPEG"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "no IHDR"),
    (b"\xff\xd8\xff\xe0\x00\x04ab\xff\xd9", "no frame header"),
    (b"\xff\xd8\xff\xda\x00\x02", "no frame header"),
])
def test_unreadable_images_are_rejected_with_a_reason(data, why):
    with pytest.raises(ImageError, match=why):
        image_size(data)
