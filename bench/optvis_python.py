#!/usr/bin/python3
"""The feature-visualization loop written plainly in Python, for `bench/optvis_compare.sh`: the
same parameterization (FFT half-spectrum scaled by 1/frequency, /4, colour decorrelation,
sigmoid), the same transforms (pad 12 grey, jitter 8, scale 0.90..1.10, rotate -10..10 deg,
jitter 4), resize to the model's input, its mean/std, a class logit as the objective,
torch.optim.Adam at lr 0.05. Prints steps per second (JSON with --json).

Needs only /usr/bin/python3 with torch (Debian's 1.13 works)."""
import argparse
import json
import math
import os
import random
import time

import torch
import torch.nn.functional as F

COLOR = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOR = COLOR / COLOR.norm(dim=0).max()


def freqs(size):
    fy = torch.fft.fftfreq(size)[:, None]
    fx = torch.arange(size // 2 + 1) / size
    return torch.sqrt(fy ** 2 + fx[None, :] ** 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--cls", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    side = os.path.splitext(a.model)[0] + ".json"
    spec = json.load(open(side))["input"] if os.path.exists(side) else {}
    h, w = spec.get("size", [224, 224])
    mean = torch.tensor(spec.get("mean", [0.485, 0.456, 0.406])).view(1, -1, 1, 1)
    std = torch.tensor(spec.get("std", [0.229, 0.224, 0.225])).view(1, -1, 1, 1)
    gray = spec.get("color") == "gray"
    model = torch.jit.load(a.model).eval()
    for p in model.parameters():
        p.requires_grad_(False)

    s = a.size
    torch.manual_seed(0)
    rnd = random.Random(0)
    param = (torch.randn(1, 3, s, s // 2 + 1, 2) * 0.01).requires_grad_(True)
    scale = 1.0 / torch.clamp(freqs(s), min=1.0 / s)
    opt = torch.optim.Adam([param], lr=0.05)

    def image():
        t = torch.fft.irfft2(torch.view_as_complex(param) * scale, s=(s, s), norm="ortho") / 4.0
        t = torch.einsum("ij,bjhw->bihw", COLOR, t)
        return torch.sigmoid(t)

    def jitter(x, d):
        dx, dy = rnd.randrange(d), rnd.randrange(d)
        return x[:, :, dy:dy + x.shape[2] - d, dx:dx + x.shape[3] - d]

    def transform(x):
        x = F.pad(x, (12, 12, 12, 12), value=0.5)
        x = jitter(x, 8)
        k = 1 + (rnd.randrange(11) - 5) / 50.0
        x = F.interpolate(x, size=(round(x.shape[2] * k), round(x.shape[3] * k)),
                          mode="bilinear", align_corners=True)
        a_ = rnd.randrange(26)
        deg = a_ - 10 if a_ < 21 else 0
        if deg:
            r = math.radians(deg)
            theta = torch.tensor([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0]],
                                 dtype=x.dtype)[None]
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return jitter(x, 4)

    def step():
        opt.zero_grad()
        x = F.interpolate(transform(image()), size=(h, w), mode="bilinear", align_corners=False)
        if gray:
            x = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]
        loss = -model((x - mean) / std)[:, a.cls].sum()
        loss.backward()
        opt.step()
        return -loss.item()

    for _ in range(3):  # warm-up (the TorchScript executor profiles its first runs)
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        value = step()
    dt = time.perf_counter() - t0
    out = {"steps": a.steps, "seconds": dt, "steps_per_s": a.steps / dt, "objective": value}
    print(json.dumps(out) if a.json else f"python: {a.steps / dt:.1f} steps/s")


if __name__ == "__main__":
    main()
