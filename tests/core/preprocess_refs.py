"""Reference preprocessing for tests/core/test_model.cpp: seeded random uint8 frames and their
model inputs computed with torch / torchvision.transforms.functional (resize on float values,
bilinear, align_corners=False, antialiased when shrinking; torchvision center crop).

usage: preprocess_refs.py OUT_DIR   (writes frame_K.npy, input_K.npy, cases.json)
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
# (frame H, W), target (H, W), color, resize, antialias, mean, std
CASES = [
    ((30, 40), (20, 24), "rgb", "stretch", True, *IMAGENET),
    ((33, 45), (16, 16), "gray", "stretch", False, [0.5], [0.25]),
    ((13, 17), (32, 32), "bgr", "stretch", True, [0.1, 0.2, 0.3], [0.5, 0.6, 0.7]),
    ((50, 30), (40, 20), "rgb", "stretch", True, *IMAGENET),
    ((30, 50), (24, 24), "rgb", "center_crop", True, *IMAGENET),
    ((57, 31), (20, 20), "gray", "center_crop", True, [0.5], [0.5]),
    ((21, 23), (28, 28), "bgr", "center_crop", True, *IMAGENET),
]


def reference(frame, size, color, resize, antialias, mean, std):
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].double() / 255.0
    if color == "bgr":
        x = x[:, [2, 1, 0]]
    elif color == "gray":
        x = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    h, w = size
    if resize == "stretch":
        shrink = h < x.shape[2] or w < x.shape[3]
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False,
                          antialias=antialias and shrink)
    else:
        assert h == w, "reference covers square crops (torchvision Resize(int) + CenterCrop)"
        shrink = h < min(x.shape[2], x.shape[3])
        x = TF.resize(x, h, interpolation=TF.InterpolationMode.BILINEAR,
                      antialias=antialias and shrink)
        x = TF.center_crop(x, [h, w])
    m = torch.tensor(mean, dtype=torch.float64).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float64).view(1, -1, 1, 1)
    return ((x - m) / s).float()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    cases = []
    for k, (fs, size, color, resize, aa, mean, std) in enumerate(CASES):
        # Smooth gradients plus noise, so resampling errors show.
        yy, xx = np.mgrid[0:fs[0], 0:fs[1]]
        base = np.stack([xx * 255 / fs[1], yy * 255 / fs[0], (xx + yy) * 127 / (fs[0] + fs[1])], -1)
        frame = np.clip(base + rng.normal(0, 40, base.shape), 0, 255).astype(np.uint8)
        np.save(os.path.join(out, f"frame_{k}.npy"), frame.astype(np.float32))
        x = reference(frame, size, color, resize, aa, mean, std)
        np.save(os.path.join(out, f"input_{k}.npy"), x.numpy())
        cases.append({"size": list(size), "color": color, "resize": resize, "antialias": aa,
                      "mean": mean, "std": std})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main()
