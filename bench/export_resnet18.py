#!/usr/bin/python3
"""Fallback exporter for the benchmarks: torchvision resnet18 with seeded random weights,
saved as TorchScript (torch.jit.script) with a camscope sidecar. Used by make_assets.sh only
when scripts/export_torchvision.py (the project's exporter) is not there.

Random weights are fine for timing: the cost of a forward/backward does not depend on the
values, and no network access is needed to fetch pretrained ones."""
import argparse
import json
import os
import sys

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True, help="output .pt path (sidecar .json beside it)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()
    side = os.path.splitext(a.out)[0] + ".json"
    for p in (a.out, side):
        if os.path.exists(p) and not a.force:
            sys.exit(f"export_resnet18: {p} exists (use --force to overwrite)")
    torch.manual_seed(a.seed)
    m = torchvision.models.resnet18(weights=None).eval()
    torch.jit.script(m).save(a.out)
    with open(side, "w") as f:
        json.dump({"input": {"size": [a.size, a.size], "color": "rgb", "resize": "stretch",
                             "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                   "default_layer": "layer4", "arch": "resnet18"}, f, indent=2)
    print(a.out)


if __name__ == "__main__":
    main()
