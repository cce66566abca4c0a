#!/usr/bin/python3
"""Exports a torchvision classifier as TorchScript plus a camscope sidecar (OUT.json).

usage: scripts/export_torchvision.py NAME OUT.pt [--pretrained] [--trace] [--size N] [--force]

  NAME          a torchvision classification model: resnet18, mobilenet_v2, squeezenet1_1, ...
  --pretrained  ImageNet weights when they can be had (torch hub cache or download); otherwise
                seeded random weights, with a warning
  --trace       torch.jit.trace instead of torch.jit.script (the default)
  --size N      input size (default: the weights' recommended crop, else 224)
  --force       overwrite existing output files

Uses /usr/bin/python3 (torch 1.13 + torchvision 0.14): files from newer torch may not load in
camscope's LibTorch 1.13.
"""
import argparse
import json
import os
import sys

import torch
import torchvision
from torchvision.models import get_model_weights, list_models

# Layers that suit CAMs; the sidecar's default_layer (camscope's own rule picks otherwise).
DEFAULT_LAYERS = {"resnet": "layer4", "resnext": "layer4", "wide_resnet": "layer4",
                  "regnet": "trunk_output", "mobilenet": "features", "efficientnet": "features",
                  "vgg": "features", "alexnet": "features", "squeezenet": "features",
                  "densenet": "features", "convnext": "features", "mnasnet": "layers",
                  "shufflenet": "conv5", "googlenet": "inception5b", "inception": "Mixed_7c"}


def fail(msg):
    print(f"export_torchvision: error: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("name")
    ap.add_argument("out")
    ap.add_argument("--pretrained", action="store_true")
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()

    names = list_models(module=torchvision.models)
    if args.name not in names:
        close = [n for n in names if n.startswith(args.name[:4])][:5]
        fail(f"unknown model '{args.name}'" + (f" (close: {', '.join(close)})" if close else ""))
    out = args.out
    side = os.path.splitext(out)[0] + ".json"
    for p in (out, side):
        if os.path.exists(p) and not args.force:
            fail(f"{p} exists; pass --force to overwrite")

    weights = get_model_weights(args.name).DEFAULT
    model = torchvision.models.get_model(args.name, weights=None, **(
        {"aux_logits": False, "init_weights": True} if args.name in ("googlenet", "inception_v3")
        else {}))
    pretrained = False
    if args.pretrained:
        try:
            state = weights.get_state_dict(progress=False)
            model.load_state_dict(state, strict=False)
            pretrained = True
        except Exception as e:  # offline, or a download error
            print(f"warning: pretrained weights unavailable ({type(e).__name__}: "
                  f"{str(e).splitlines()[0][:120]}); using seeded random weights", file=sys.stderr)
    if not pretrained:
        torch.manual_seed(0)
        model = torchvision.models.get_model(args.name, weights=None, **(
            {"aux_logits": False, "init_weights": True}
            if args.name in ("googlenet", "inception_v3") else {}))
        if not args.pretrained:
            print("note: random weights (seed 0); pass --pretrained for ImageNet weights",
                  file=sys.stderr)
    model.eval()

    crop = args.size or weights.transforms().crop_size[0]
    resize = weights.transforms().resize_size[0]
    example = torch.randn(1, 3, crop, crop)
    ts = torch.jit.trace(model, example) if args.trace else torch.jit.script(model)
    with torch.no_grad():
        ref = model(example)
        got = ts(example)
    if not isinstance(got, torch.Tensor) or got.dim() != 2:
        fail(f"the {'traced' if args.trace else 'scripted'} model does not return [N, classes] "
             f"logits ({type(got).__name__}); try {'--trace' if not args.trace else 'another model'}")
    diff = float((ref - got).abs().max())
    ts.save(out)

    family = next((v for k, v in DEFAULT_LAYERS.items() if args.name.startswith(k)), None)
    modules = dict(model.named_modules())
    sidecar = {
        "name": args.name,
        "input": {"size": [crop, crop], "color": "rgb",
                  # torchvision's eval transform: resize the shorter side, then center crop.
                  "resize": "center_crop" if resize != crop else "stretch",
                  "mean": list(weights.transforms().mean), "std": list(weights.transforms().std)},
        "labels": list(weights.meta["categories"]),
        "weights": str(weights) if pretrained else "random (seed 0)",
    }
    if family in modules:
        sidecar["default_layer"] = family
    with open(side, "w") as f:
        json.dump(sidecar, f, indent=1)
    print(f"{out}: {args.name}, {'traced' if args.trace else 'scripted'}, "
          f"{'pretrained ' + str(weights) if pretrained else 'random weights'}, "
          f"input {crop}x{crop}, max |eager - TorchScript| = {diff:.3g}; sidecar {side}")


if __name__ == "__main__":
    main()
