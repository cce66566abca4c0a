#!/usr/bin/env bash
# Makes the seed corpora of the fuzz harnesses that take binary files, at fuzz time (nothing
# binary is committed): tiny images in every layout the decoders handle (PIL), tiny clips in
# a few containers and codecs (ffmpeg CLI) and a tiny TorchScript archive (torch).
#   fuzz/make_seeds.sh OUT_DIR     writes OUT_DIR/{image,video,torchscript}/ (skips what exists)
# Missing tools (ffmpeg, PIL, torch) leave that corpus empty with a note: the harness then
# starts from nothing.
set -euo pipefail
out=$1
py=/usr/bin/python3
[ -x "$py" ] || py=python3
mkdir -p "$out/image" "$out/video" "$out/torchscript"

if [ -z "$(ls -A "$out/image")" ]; then
  "$py" - "$out/image" <<'PY' || echo "fuzz seeds: no image seeds (python3-pil missing?)"
import io, os, struct, sys
from PIL import Image
out = sys.argv[1]
def save(name, img, fmt, opt_byte=0, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    # The harness takes its options from the first byte (bit 0: apply EXIF orientation).
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([opt_byte]) + b.getvalue())
rgb = Image.new("RGB", (7, 5))
for y in range(5):
    for x in range(7):
        rgb.putpixel((x, y), (x * 36, y * 50, (x * y * 13) % 256))
exif = Image.Exif()
exif[0x0112] = 6
save("q.jpg", rgb, "JPEG", quality=80)
save("prog.jpg", rgb, "JPEG", progressive=True, quality=60)
save("gray.jpg", rgb.convert("L"), "JPEG")
save("cmyk.jpg", rgb.convert("CMYK"), "JPEG")
save("exif.jpg", rgb, "JPEG", 1, exif=exif.tobytes())
save("rgb.png", rgb, "PNG")
save("exif.png", rgb, "PNG", 1, exif=exif.tobytes())
save("rgba.png", rgb.convert("RGBA"), "PNG")
save("la.png", rgb.convert("LA"), "PNG")
save("p.png", rgb.convert("P"), "PNG")
save("1.png", rgb.convert("1"), "PNG")
save("i16.png", rgb.convert("I"), "PNG")
save("rgb.bmp", rgb, "BMP")
save("p.bmp", rgb.convert("P"), "BMP")
save("1.bmp", rgb.convert("1"), "BMP")
save("rgb.gif", rgb, "GIF")
save("rgb.tga", rgb, "TGA")
save("rgb.ppm", rgb, "PPM")
# Hand-made BMP variants Pillow does not write: RLE8, RLE4, 16-bit, 32-bit bit fields.
def bmp(bits, comp, data, colors=0, masks=b""):
    hdr_size = 40
    pal = b"".join(bytes([i * 40 % 256, i * 80 % 256, i * 20 % 256, 0]) for i in range(colors))
    off = 14 + hdr_size + len(masks) + len(pal)
    info = struct.pack("<IiiHHIIiiII", hdr_size, 4, 3, 1, bits, comp, len(data), 0, 0, colors, 0)
    return b"BM" + struct.pack("<IHHI", off + len(data), 0, 0, off) + info + masks + pal + data
def put(name, b):
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"\0" + b)
put("rle8.bmp", bmp(8, 1, bytes([2, 1, 0, 0, 3, 2, 0, 2, 1, 0, 0, 4, 5, 6, 7, 0, 0, 0, 1]), 8))
put("rle4.bmp", bmp(4, 2, bytes([4, 0x12, 0, 0, 0, 3, 0x34, 0x50, 0, 0, 2, 0x77, 0, 1]), 8))
put("16.bmp", bmp(16, 0, bytes(range(24))))
put("32bf.bmp", bmp(32, 3, bytes(range(48)), 0, struct.pack("<III", 0xff0000, 0xff00, 0xff)))
PY
fi

if [ -z "$(ls -A "$out/video")" ]; then
  if command -v ffmpeg >/dev/null; then
    v=(-hide_banner -loglevel error -y -f lavfi -i testsrc2=size=32x24:rate=10 -t 0.5)
    ffmpeg "${v[@]}" -c:v libx264 -g 3 -bf 2 -preset ultrafast "$out/video/h264.mp4" || true
    ffmpeg "${v[@]}" -c:v libx264 -g 3 -preset ultrafast -f h264 "$out/video/raw.h264" || true
    ffmpeg "${v[@]}" -c:v mpeg4 -g 3 -bf 1 "$out/video/mpeg4.avi" || true
    ffmpeg "${v[@]}" -c:v mjpeg -q:v 20 "$out/video/mjpeg.mkv" || true
    ffmpeg "${v[@]}" -c:v mpeg2video -g 3 -f mpegts "$out/video/mpeg2.ts" || true
    ffmpeg "${v[@]}" -c:v gif "$out/video/anim.gif" || true
    ffmpeg "${v[@]}" -c:v rawvideo -pix_fmt gray -f nut "$out/video/gray.nut" || true
    # Files over 16 KiB (the harness's -max_len) are of no use as seeds.
    find "$out/video" -size +16k -delete
  else
    echo "fuzz seeds: no video seeds (ffmpeg missing)"
  fi
fi

if [ -z "$(ls -A "$out/torchscript")" ]; then
  "$py" - "$out/torchscript" <<'PY' || echo "fuzz seeds: no TorchScript seed (python3-torch missing?)"
import os, sys
import torch
class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 1)
    def forward(self, x):
        return self.conv(x).mean((2, 3))
# Traced: scripting needs the class source in a file.
torch.jit.trace(Tiny(), torch.zeros(1, 1, 4, 4)).save(os.path.join(sys.argv[1], "tiny.pt"))
PY
fi
