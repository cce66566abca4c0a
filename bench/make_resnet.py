#!/usr/bin/python3
"""ResNet-18 / ResNet-50 for the GPU check (scripts/gpu_check.sh), in plain PyTorch: no
torchvision (the GPU machine may lack it). Module names follow torchvision's (conv1, bn1, relu,
maxpool, layer1..layer4 with BasicBlock / Bottleneck children, downsample.0/1, avgpool, fc), so
layer paths such as `layer4` or `layer3.1.conv2` mean the same as in a torchvision model.

Weights are random but seeded and not degenerate: convolutions get He (fan-out) init, and every
BatchNorm's running mean / variance are measured on seeded random images (train-mode passes
with momentum=None, i.e. a plain average), then the affine scale / shift are jittered, so eval()
normalizes with real, non-trivial statistics and activations stay in a sane range through all
blocks. Timing does not depend on the values; the variants' error figures need sane ranges.

Traced with torch.jit.trace (eval mode) and saved as M.pt with the sidecar M.json beside it.
Works with torch 1.13 (developer machines) and 2.x (the GPU machine's 2.11).

    bench/make_resnet.py --out DIR [--arch resnet18 resnet50] [--seed 0] [--force]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def conv1x1(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(cin, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(cin, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)  # stride on the 3x3, as torchvision (v1.5)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


ARCHS = {"resnet18": (BasicBlock, [2, 2, 2, 2]), "resnet50": (Bottleneck, [3, 4, 6, 3])}
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def smooth_images(g, n, size):
    """n random images in normalized input space, smooth enough to look like pictures
    (low-resolution noise upsampled), so statistics are not those of white noise."""
    low = torch.rand((n, 3, max(2, size // 16), max(2, size // 16)), generator=g)
    img = nn.functional.interpolate(low, size=(size, size), mode="bilinear", align_corners=False)
    return (img - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def build(arch, seed, size, calib_batches=2, calib_batch=8):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # nn.Linear's default init
    block, layers = ARCHS[arch]
    m = ResNet(block, layers)
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            fan_out = mod.out_channels * mod.kernel_size[0] * mod.kernel_size[1]
            with torch.no_grad():
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (2.0 / fan_out) ** 0.5)
        elif isinstance(mod, nn.BatchNorm2d):
            mod.momentum = None  # cumulative average over the calibration passes
            mod.reset_running_stats()
    # Calibration on smooth random images.
    m.train()
    with torch.no_grad():
        for _ in range(calib_batches):
            x = smooth_images(g, calib_batch, size)
            m(x)
    m.eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                n = mod.num_features
                mod.weight.copy_(0.75 + 0.5 * torch.rand(n, generator=g))
                mod.bias.copy_(0.1 * torch.randn(n, generator=g))
                mod.momentum = 0.1
        # Residual sums grow with depth: scale the head so the logits' spread is that of a
        # trained classifier (std ~4) whatever the depth.
        std = m(x).std().item()
        if std > 0:
            m.fc.weight.mul_(4.0 / std)
            m.fc.bias.mul_(4.0 / std)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (M.pt + M.json per arch)")
    ap.add_argument("--arch", nargs="+", default=["resnet18", "resnet50"], choices=sorted(ARCHS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for arch in a.arch:
        pt = os.path.join(a.out, arch + ".pt")
        side = os.path.join(a.out, arch + ".json")
        if not a.force and os.path.exists(pt) and os.path.exists(side):
            print(f"make_resnet: {pt} exists (--force to remake)")
            continue
        m = build(arch, a.seed, a.size)
        x = smooth_images(torch.Generator().manual_seed(a.seed + 1), 1, a.size)
        with torch.no_grad():
            traced = torch.jit.trace(m, x)
            ref, got = m(x), traced(x)
        if not torch.isfinite(got).all() or (ref - got).abs().max().item() > 1e-4:
            sys.exit(f"make_resnet: {arch}: traced module does not match eager (or is not finite)")
        traced.save(pt)
        with open(side, "w") as f:
            json.dump({"input": {"size": [a.size, a.size], "color": "rgb", "resize": "center_crop",
                                 "mean": MEAN, "std": STD},
                       "default_layer": "layer4",
                       "name": f"{arch} (random weights, seed {a.seed})",
                       "description": "bench/make_resnet.py: plain-PyTorch ResNet with "
                                      "torchvision's layer names, seeded random weights, "
                                      "BatchNorm statistics measured on random images"},
                      f, indent=2)
        std = got.std().item()
        print(f"make_resnet: {pt} (torch {torch.__version__}, logits std {std:.3f}, "
              f"range [{got.min().item():.2f}, {got.max().item():.2f}])")


if __name__ == "__main__":
    main()
