#!/usr/bin/env python3
"""Developer tool: writes the tiny synthetic PNG fixtures of Tests/ImagingTests/Fixtures.

Not run by the tests. Pure standard library (zlib, struct), so the bytes are exactly what the
PNG specification says, independent of any imaging library.
"""
import pathlib
import struct
import zlib

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "ImagingTests" / "Fixtures"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, bit_depth: int, color_type: int, rows: list[bytes]) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # 16-bit grey ramp over a narrow detector range (1000..2599 + two outliers): windowing must
    # clip the outliers (under 0.5% of the pixels) and stretch the ramp.
    w, h = 40, 40
    values = [1000 + y * w + x for y in range(h) for x in range(w)]
    values[0], values[-1] = 0, 65535
    rows = [b"".join(struct.pack(">H", values[y * w + x]) for x in range(w)) for y in range(h)]
    (OUT / "gray16_ramp.png").write_bytes(png(w, h, 16, 0, rows))
    # 8-bit RGB: pure red, green, blue, white.
    rgb = [bytes([255, 0, 0, 0, 255, 0]), bytes([0, 0, 255, 255, 255, 255])]
    (OUT / "rgb8_2x2.png").write_bytes(png(2, 2, 8, 2, rgb))
    # Grey + alpha, 8-bit: the alpha must be dropped, the grey kept.
    (OUT / "gray_alpha_2x1.png").write_bytes(png(2, 1, 8, 4, [bytes([10, 255, 200, 0])]))
    # A decompression bomb: a 100000 x 100000 header over a few bytes of data.
    (OUT / "bomb.png").write_bytes(png(100_000, 100_000, 8, 0, [b"\x00"]))


if __name__ == "__main__":
    main()
