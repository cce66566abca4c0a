#!/usr/bin/env python3
"""Writes test images and Pillow's decode of each for tests/app/test_image_decode.cpp.

usage: image_refs.py OUT_DIR [EXTRA_IMAGE ...]

For every image, OUT_DIR/manifest.txt gets one tab-separated line
    FILE  ORIENT  W  H  REF        (REF: raw RGB bytes of PIL.Image.open(FILE).convert("RGB"),
                                    after ImageOps.exif_transpose when ORIENT is "apply")
    FILE  ORIENT  ERR  MESSAGE     (Pillow could not decode it)
Images are made with Pillow where it writes the variant, by hand (zlib/struct) where it does
not (every PNG colour type and bit depth, Adam7, BMP bit fields and RLE, odd GIF canvases).
"""
import io
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageOps

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(13)
manifest = []


def reference(path, orient="ignore"):
    name = os.path.basename(path)
    try:
        with Image.open(path) as im:
            if orient == "apply":
                im = ImageOps.exif_transpose(im)
            rgb = np.asarray(im.convert("RGB"))
    except Exception as e:  # noqa: BLE001 - any failure is the expected outcome
        manifest.append(f"{path}\t{orient}\tERR\t{type(e).__name__}: {e}".replace("\n", " "))
        return
    ref = os.path.join(OUT, f"{name}.{orient}.rgb")
    with open(ref, "wb") as f:
        f.write(np.ascontiguousarray(rgb).tobytes())
    manifest.append(f"{path}\t{orient}\t{rgb.shape[1]}\t{rgb.shape[0]}\t{ref}")


def out(name):
    return os.path.join(OUT, name)


def photo(w, h):
    """Smooth gradients, edges and sensor-like noise: what makes IDCT/upsampling differ."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 128 + 100 * np.sin(x / 37.0) * np.cos(y / 23.0)
    g = 128 + 90 * np.cos((x + y) / 51.0)
    b = 255.0 * (x / max(w - 1, 1)) * (1 - y / max(h - 1, 1))
    img = np.stack([r, g, b], -1)
    img[(x // 64 + y // 64) % 2 == 0] *= 0.6  # hard edges
    img += rng.normal(0, 12, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


# [SECTION] JPEG
big = photo(640, 480)
for q in (50, 95):
    for sub, tag in ((2, "420"), (1, "422"), (0, "444")):
        p = out(f"photo_q{q}_{tag}.jpg")
        big.save(p, quality=q, subsampling=sub)
        reference(p)
p = out("photo_progressive.jpg")
big.save(p, quality=90, progressive=True)
reference(p)
p = out("photo_progressive_444.jpg")
big.save(p, quality=75, progressive=True, subsampling=0)
reference(p)
p = out("photo_optimize.jpg")
big.save(p, quality=80, optimize=True)
reference(p)
p = out("photo_gray.jpg")
big.convert("L").save(p, quality=85)
reference(p)
cmyk = Image.fromarray(rng.integers(0, 256, (48, 64, 4), dtype=np.uint8), "CMYK")
p = out("cmyk_adobe.jpg")
cmyk.save(p, quality=90)
reference(p)
# The same without its Adobe APP14 marker (Pillow still assumes Adobe polarity).
data = open(p, "rb").read()
i = data.find(b"\xff\xeeAdobe" if b"\xff\xeeAdobe" in data else b"\xff\xee")
if i > 0:
    n = struct.unpack(">H", data[i + 2:i + 4])[0]
    with open(out("cmyk_noadobe.jpg"), "wb") as f:
        f.write(data[:i] + data[i + 2 + n:])
    reference(out("cmyk_noadobe.jpg"))
for (w, h) in ((1, 1), (17, 9), (4097, 3), (3, 4097)):
    small = photo(w, h)
    for q, sub, tag in ((50, 2, "420"), (95, 1, "422"), (95, 0, "444")):
        p = out(f"size{w}x{h}_q{q}_{tag}.jpg")
        small.save(p, quality=q, subsampling=sub)
        reference(p)
p = out("size17x9_gray.jpg")
photo(17, 9).convert("L").save(p, quality=70)
reference(p)
p = out("size17x9_progressive.jpg")
photo(17, 9).save(p, quality=70, progressive=True)
reference(p)
# EXIF orientation 6 (rotate 90 clockwise to view).
exif = Image.Exif()
exif[0x0112] = 6
p = out("orient6.jpg")
photo(40, 24).save(p, quality=92, exif=exif.tobytes())
reference(p)
reference(p, "apply")
# Truncated: Pillow refuses it.
data = open(out("photo_q95_420.jpg"), "rb").read()
with open(out("truncated.jpg"), "wb") as f:
    f.write(data[: len(data) // 2])
reference(out("truncated.jpg"))
with open(out("no_eoi.jpg"), "wb") as f:  # only the end marker missing: Pillow refuses it too
    f.write(data[:-2])
reference(out("no_eoi.jpg"))


# [SECTION] PNG, written by hand: every colour type x bit depth, plain and Adam7.
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


def pack_rows(samples, bd):
    """samples: [h, w*channels] unsigned ints -> scanlines with filter byte 0."""
    rows = []
    for r in samples:
        if bd == 16:
            b = r.astype(">u2").tobytes()
        elif bd == 8:
            b = r.astype(np.uint8).tobytes()
        else:
            per = 8 // bd
            pad = (-len(r)) % per
            v = np.concatenate([r, np.zeros(pad, r.dtype)]).reshape(-1, per).astype(np.uint16)
            byte = np.zeros(len(v), np.uint16)
            for k in range(per):
                byte |= v[:, k] << (8 - bd * (k + 1))
            b = byte.astype(np.uint8).tobytes()
        rows.append(b"\x00" + b)
    return b"".join(rows)


ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def png_bytes(samples, bd, ct, ch, interlace=False, extra=b"", after=b""):
    h, w = samples.shape[0], samples.shape[1] // ch
    if interlace:
        img = samples.reshape(h, w, ch)
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = img[y0::dy, x0::dx]
            if sub.size:
                raw += pack_rows(sub.reshape(sub.shape[0], -1), bd)
    else:
        raw = pack_rows(samples, bd)
    ihdr = struct.pack(">IIBBBBB", w, h, bd, ct, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra +
            chunk(b"IDAT", zlib.compress(raw, 6)) + after + chunk(b"IEND", b""))


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
for ct, depths in DEPTHS.items():
    for bd in depths:
        for interlace in (False, True):
            w, h = (13, 11) if interlace else (37, 5)
            ch = CHANNELS[ct]
            top = (1 << bd) - 1
            s = rng.integers(0, top + 1, (h, w * ch), dtype=np.int64)
            if bd == 16 and ct == 0:  # values <= 255 too: Pillow clips 16-bit grey
                s[0, :] = rng.integers(0, 300, w)
            extra = b""
            if ct == 3:
                n = min(1 << bd, 256)
                extra = chunk(b"PLTE", rng.integers(0, 256, 3 * n, dtype=np.uint8).tobytes())
            name = f"png_ct{ct}_{bd}bit{'_adam7' if interlace else ''}.png"
            open(out(name), "wb").write(png_bytes(s, bd, ct, ch, interlace, extra))
            reference(out(name))
# Palette with tRNS, and with a short PLTE (indices past it).
s = rng.integers(0, 16, (9, 21), dtype=np.int64)
plte = chunk(b"PLTE", rng.integers(0, 256, 48, dtype=np.uint8).tobytes())
open(out("png_palette_trns.png"), "wb").write(
    png_bytes(s, 8, 3, 1, extra=plte + chunk(b"tRNS", bytes(range(0, 160, 10)))))
reference(out("png_palette_trns.png"))
open(out("png_palette_trns_adam7.png"), "wb").write(
    png_bytes(s, 4, 3, 1, True, extra=plte + chunk(b"tRNS", bytes([0, 255, 7]))))
reference(out("png_palette_trns_adam7.png"))
s2 = rng.integers(0, 256, (6, 30), dtype=np.int64)
open(out("png_short_plte.png"), "wb").write(png_bytes(s2, 8, 3, 1, extra=plte))
reference(out("png_short_plte.png"))
# tRNS on grey and RGB (ignored by convert("RGB")).
g = rng.integers(0, 256, (7, 9), dtype=np.int64)
open(out("png_gray_trns.png"), "wb").write(png_bytes(g, 8, 0, 1, extra=chunk(b"tRNS", b"\x00\x10")))
reference(out("png_gray_trns.png"))
c = rng.integers(0, 65536, (7, 27), dtype=np.int64)
open(out("png_rgb16_trns.png"), "wb").write(
    png_bytes(c, 16, 2, 3, extra=chunk(b"tRNS", b"\x00\x01\x00\x02\x00\x03")))
reference(out("png_rgb16_trns.png"))
# Pillow-written PNGs (filters chosen by zlib/Pillow) and EXIF orientations 1..8 (eXIf chunk).
photo(33, 20).save(out("pil_rgb.png"))
reference(out("pil_rgb.png"))
Image.fromarray(rng.integers(0, 256, (20, 33, 4), dtype=np.uint8), "RGBA").save(out("pil_rgba.png"))
reference(out("pil_rgba.png"))
base = photo(7, 4)
for o in range(1, 9):
    e = Image.Exif()
    e[0x0112] = o
    p = out(f"orient{o}.png")
    base.save(p, exif=e.tobytes())
    reference(p)
    reference(p, "apply")
# Bad CRCs: Pillow ignores them in IDAT, refuses them in chunks before it.
data = bytearray(open(out("pil_rgb.png"), "rb").read())
i = data.find(b"IDAT")
n = struct.unpack(">I", data[i - 4:i])[0]
data[i + 4 + n] ^= 0xFF
open(out("png_bad_idat_crc.png"), "wb").write(bytes(data))
reference(out("png_bad_idat_crc.png"))
t = chunk(b"tEXt", b"Comment\x00hello")
t = t[:-1] + bytes([t[-1] ^ 0xFF])
open(out("png_bad_text_crc.png"), "wb").write(png_bytes(g, 8, 0, 1, extra=t))
reference(out("png_bad_text_crc.png"))
# Truncated inside IDAT.
data = open(out("pil_rgb.png"), "rb").read()
open(out("truncated.png"), "wb").write(data[: len(data) - 40])
reference(out("truncated.png"))


# [SECTION] BMP: Pillow-written ones and hand-made variants.
rgb = photo(19, 7)
rgb.save(out("bmp_24.bmp"))
reference(out("bmp_24.bmp"))
Image.fromarray(rng.integers(0, 256, (7, 19, 4), dtype=np.uint8), "RGBA").save(out("bmp_32_rgba.bmp"))
reference(out("bmp_32_rgba.bmp"))
rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=200).save(out("bmp_8_palette.bmp"))
reference(out("bmp_8_palette.bmp"))
rgb.convert("L").save(out("bmp_8_gray.bmp"))
reference(out("bmp_8_gray.bmp"))
rgb.convert("1").save(out("bmp_1.bmp"))
reference(out("bmp_1.bmp"))


def bmp(w, h, bits, pixel_rows, palette=b"", compression=0, header=40, masks=None, top_down=False):
    """pixel_rows: the bytes of the pixel array, already padded, file order."""
    data = pixel_rows
    if header == 12:
        info = struct.pack("<IHHHH", 12, w, h, 1, bits)
    else:
        hh = -h if top_down else h
        info = struct.pack("<IiiHHIIiiII", header, w, hh, 1, bits, compression, len(data), 2835, 2835,
                           len(palette) // 4 if palette else 0, 0)
        if header >= 52:
            m = masks or (0, 0, 0, 0)
            info += struct.pack("<IIII", *(list(m) + [0] * (4 - len(m))))
        info += b"\x00" * (header - len(info))
        if masks and header == 40:
            info += struct.pack("<III", *masks[:3])
    offset = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + palette + data


def rows_of(arr_bytes_per_row):
    out_rows = b""
    for r in arr_bytes_per_row:
        out_rows += r + b"\x00" * ((-len(r)) % 4)
    return out_rows


w, h = 11, 6
px16 = rng.integers(0, 65536, (h, w), dtype=np.uint16)
px16[0, :] = np.arange(w) * 0x0C63 & 0x7FFF  # spread over channel values
raw16 = rows_of([r.astype("<u2").tobytes() for r in px16])
open(out("bmp_16_555.bmp"), "wb").write(bmp(w, h, 16, raw16))
reference(out("bmp_16_555.bmp"))
open(out("bmp_16_565.bmp"), "wb").write(bmp(w, h, 16, raw16, compression=3, masks=(0xF800, 0x7E0, 0x1F)))
reference(out("bmp_16_565.bmp"))
px32 = rng.integers(0, 256, (h, w * 4), dtype=np.uint8)
raw32 = rows_of([r.tobytes() for r in px32])
open(out("bmp_32_bgrx.bmp"), "wb").write(bmp(w, h, 32, raw32))
reference(out("bmp_32_bgrx.bmp"))
open(out("bmp_32_v5_rgba.bmp"), "wb").write(
    bmp(w, h, 32, raw32, compression=3, header=124, masks=(0xFF, 0xFF00, 0xFF0000, 0xFF000000)))
reference(out("bmp_32_v5_rgba.bmp"))
open(out("bmp_32_xbgr.bmp"), "wb").write(
    bmp(w, h, 32, raw32, compression=3, header=108, masks=(0xFF000000, 0xFF0000, 0xFF00, 0)))
reference(out("bmp_32_xbgr.bmp"))
px24 = rng.integers(0, 256, (h, w * 3), dtype=np.uint8)
raw24 = rows_of([r.tobytes() for r in px24])
open(out("bmp_24_topdown.bmp"), "wb").write(bmp(w, h, 24, raw24, top_down=True))
reference(out("bmp_24_topdown.bmp"))
open(out("bmp_24_os2.bmp"), "wb").write(bmp(w, h, 24, raw24, header=12))
reference(out("bmp_24_os2.bmp"))
pal16 = b"".join(bytes([*rng.integers(0, 256, 3, dtype=np.uint8).tolist(), 0]) for _ in range(16))
idx4 = rng.integers(0, 16, (h, w), dtype=np.uint8)
raw4 = rows_of([bytes((np.concatenate([r, [0]])[0::2][: (w + 1) // 2] << 4) |
                      np.concatenate([r, [0]])[1::2][: (w + 1) // 2]) for r in idx4])
open(out("bmp_4.bmp"), "wb").write(bmp(w, h, 4, raw4, palette=pal16))
reference(out("bmp_4.bmp"))
pal8short = b"".join(bytes([*rng.integers(0, 256, 3, dtype=np.uint8).tolist(), 0]) for _ in range(10))
idx8 = rng.integers(0, 20, (h, w), dtype=np.uint8)  # indices past the 10-entry palette
raw8 = rows_of([r.tobytes() for r in idx8])
open(out("bmp_8_short_palette.bmp"), "wb").write(bmp(w, h, 8, raw8, palette=pal8short))
reference(out("bmp_8_short_palette.bmp"))


def rle8(rows):
    b = b""
    for r in rows:
        r = list(r)
        i = 0
        while i < len(r):
            j = i
            while j < len(r) and r[j] == r[i] and j - i < 255:
                j += 1
            if j - i >= 3 or len(r) - i < 3:
                b += bytes([j - i, r[i]])
                i = j
            else:  # absolute run of 3..
                n = min(len(r) - i, 5)
                b += bytes([0, n]) + bytes(r[i:i + n]) + (b"\x00" if n % 2 else b"")
                i += n
        b += b"\x00\x00"
    return b + b"\x00\x01"


rl = rng.integers(0, 10, (h, w), dtype=np.uint8)
rl[2, :] = 7
pal10 = pal8short
open(out("bmp_rle8.bmp"), "wb").write(bmp(w, h, 8, rle8(rl), palette=pal10, compression=1))
reference(out("bmp_rle8.bmp"))
# RLE4 with encoded runs, an odd absolute run, a delta and an early end of line.
rle4 = (bytes([5, 0x12]) + bytes([0, 3, 0x34, 0x50]) + bytes([3, 0x77]) + b"\x00\x00" +
        bytes([11, 0x9A]) + b"\x00\x00" + b"\x00\x02\x02\x01" + bytes([4, 0xCD]) + b"\x00\x00" +
        bytes([11, 0xEF]) + b"\x00\x00" + bytes([11, 0x01]) + b"\x00\x01")
open(out("bmp_rle4.bmp"), "wb").write(bmp(w, h, 4, rle4, palette=pal16, compression=2))
reference(out("bmp_rle4.bmp"))
# Cut short: Pillow refuses it.
data = open(out("bmp_24.bmp"), "rb").read()
open(out("truncated.bmp"), "wb").write(data[:-100])
reference(out("truncated.bmp"))

# [SECTION] GIF
pimg = photo(23, 17).convert("P", palette=Image.Palette.ADAPTIVE, colors=60)
pimg.save(out("gif_plain.gif"), interlace=False)
reference(out("gif_plain.gif"))
pimg.save(out("gif_interlaced.gif"), interlace=True)
reference(out("gif_interlaced.gif"))
pimg.save(out("gif_transparent.gif"), transparency=5)
reference(out("gif_transparent.gif"))
Image.fromarray(rng.integers(0, 256, (9, 30), dtype=np.uint8), "L").save(out("gif_gray.gif"))
reference(out("gif_gray.gif"))
photo(64, 48).save(out("gif_from_rgb.gif"))
reference(out("gif_from_rgb.gif"))
frames = [photo(20, 12).convert("P", palette=Image.Palette.ADAPTIVE, colors=32) for _ in range(3)]
frames[0].save(out("gif_animated.gif"), save_all=True, append_images=frames[1:], duration=50)
reference(out("gif_animated.gif"))


def gif_with_canvas(src, dst, screen, pos, transparency=None):
    """Rewrites a one-frame GIF: a bigger logical screen, the frame moved to pos."""
    d = bytearray(open(src, "rb").read())
    d[6:10] = struct.pack("<HH", *screen)
    p = 13 + (3 << ((d[10] & 7) + 1) if d[10] & 0x80 else 0)
    while d[p] != 0x2C:
        if d[p] == 0x21:
            p += 2
            while d[p]:
                p += d[p] + 1
            p += 1
        else:
            p += 1
    d[p + 1:p + 5] = struct.pack("<HH", *pos)
    open(dst, "wb").write(bytes(d))


gif_with_canvas(out("gif_plain.gif"), out("gif_canvas.gif"), (40, 30), (5, 3))
reference(out("gif_canvas.gif"))
gif_with_canvas(out("gif_transparent.gif"), out("gif_canvas_transparent.gif"), (40, 30), (5, 3))
reference(out("gif_canvas_transparent.gif"))
gif_with_canvas(out("gif_plain.gif"), out("gif_overhang.gif"), (10, 10), (4, 2))
reference(out("gif_overhang.gif"))

# [SECTION] Extra files given on the command line (shared photos).
for extra in sys.argv[2:]:
    reference(extra)

with open(out("manifest.txt"), "w") as f:
    f.write("\n".join(manifest) + "\n")
print(f"{len(manifest)} references in {OUT}")
