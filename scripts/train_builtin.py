#!/usr/bin/python3
"""Trains camscope's built-in model on scenes written by `camscope synth`.

Run through scripts/train_builtin.sh, which generates the scenes and calls this script:
  /usr/bin/python3 scripts/train_builtin.py --data DIR --out assets

DIR holds one folder per `camscope synth` run (each with labels.json). Single-object scenes
get a one-hot target; two-object (pair) scenes get 0.5/0.5, which teaches the classifier that
each shape counts wherever it is, the property class-specific maps rely on. Every scene is
stretched to the model's input size with the same resize camscope uses (bilinear, antialiased,
align_corners=False), so scenes rendered at other aspect ratios teach the model the squashed
shapes it sees when a 16:9 frame is stretched to 112x112.

Writes OUT/builtin.pt (TorchScript, scripted) and OUT/builtin.json (the camscope sidecar).
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

SIZE = 112
MEAN = [0.5, 0.5, 0.5]
STD = [0.25, 0.25, 0.25]


class SqueezeExcite(nn.Module):
    """Channel gates from globally pooled features (Hu et al. 2018)."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        return x * self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))


class Block(nn.Module):
    """conv-bn-relu, conv-bn, squeeze-excitation, residual add, relu."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.se = SqueezeExcite(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.se(self.bn2(self.conv2(y)))
        return self.relu2(y + self.shortcut(x))


class Stem(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class BuiltinNet(nn.Module):
    """112x112 RGB -> 6 shape classes. Stride 8: features.block3 is 14x14, then global
    average pool + linear, so `cam` applies and every gradient method has a clean target."""

    def __init__(self, classes: int = 6, widths=(16, 32, 48, 64)):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("stem", Stem(3, widths[0]))                # 56x56
        self.features.add_module("block1", Block(widths[0], widths[1], 2))  # 28x28
        self.features.add_module("block2", Block(widths[1], widths[2], 2))  # 14x14
        self.features.add_module("block3", Block(widths[2], widths[3], 1))  # 14x14
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[3], classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def load_folder(folder, classes):
    """All scenes of one `camscope synth` folder as uint8 [N,3,SIZE,SIZE] + soft targets."""
    meta = json.load(open(os.path.join(folder, "labels.json")))
    if meta["labels"] != classes:
        sys.exit(f"{folder}: labels {meta['labels']} differ from {classes}")
    imgs, targets = [], []
    for rec in meta["images"]:
        im = np.asarray(Image.open(os.path.join(folder, rec["file"])).convert("RGB"))
        imgs.append(torch.from_numpy(im.copy()).permute(2, 0, 1))
        t = torch.zeros(len(classes))
        for c in rec["classes"]:
            t[c] += 1.0 / len(rec["classes"])
        targets.append(t)
    x = torch.stack(imgs)
    if x.shape[-2:] != (SIZE, SIZE):  # the app's resize: float, bilinear, antialiased
        out = []
        for chunk in x.split(256):
            y = F.interpolate(chunk.float(), size=(SIZE, SIZE), mode="bilinear",
                              align_corners=False, antialias=True)
            out.append(y.round().clamp(0, 255).to(torch.uint8))
        x = torch.cat(out)
    return x, torch.stack(targets), meta


def normalize(x_u8):
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x_u8.float() / 255.0 - mean) / std


def augment(x, gen):
    """Flips and quarter turns: every class is invariant under the dihedral group."""
    if torch.rand(1, generator=gen).item() < 0.5:
        x = x.flip(3)
    if torch.rand(1, generator=gen).item() < 0.5:
        x = x.flip(2)
    if torch.rand(1, generator=gen).item() < 0.5:
        x = x.transpose(2, 3)
    return x


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 256):
            pred = model(normalize(x[i:i + 256])).argmax(1)
            correct += (pred == y[i:i + 256].argmax(1)).sum().item()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="folder of `camscope synth` folders")
    ap.add_argument("--val", required=True, help="a `camscope synth` folder for validation")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init", help="start from this builtin.pt (a previous stage's export)")
    ap.add_argument("--pct-start", type=float, default=0.1, help="share of steps warming up")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    classes = ["circle", "square", "triangle", "star", "cross", "ring"]

    t0 = time.time()
    xs, ys = [], []
    for name in sorted(os.listdir(args.data)):
        x, y, meta = load_folder(os.path.join(args.data, name), classes)
        print(f"{name}: {len(x)} scenes ({meta['mode']}, {meta['size'][0]}x{meta['size'][1]})",
              flush=True)
        xs.append(x)
        ys.append(y)
    x_train, y_train = torch.cat(xs), torch.cat(ys)
    x_val, y_val, _ = load_folder(args.val, classes)
    print(f"loaded {len(x_train)} training, {len(x_val)} validation scenes "
          f"in {time.time() - t0:.0f} s", flush=True)

    model = BuiltinNet(len(classes))
    if args.init:  # a warm restart: same architecture, weights and BN statistics from before
        model.load_state_dict(torch.jit.load(args.init).state_dict())
        print(f"initialized from {args.init}: val acc {evaluate(model, x_val, y_val):.4f}",
              flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps = args.epochs * (len(x_train) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps,
                                                pct_start=args.pct_start)
    gen = torch.Generator().manual_seed(args.seed)
    t_train = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(perm) - args.batch + 1, args.batch):
            idx = perm[i:i + args.batch]
            xb = augment(normalize(x_train[idx]), gen)
            loss = torch.sum(-y_train[idx] * F.log_softmax(model(xb), 1), 1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        acc = evaluate(model, x_val, y_val)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / seen:.4f}, val acc {acc:.4f}, "
              f"{time.time() - t_train:.0f} s", flush=True)
        export(model, args.out, classes)  # every epoch: an interrupted run still leaves a model
    print(f"val acc {acc:.4f}; trained in {time.time() - t_train:.0f} s; wrote "
          f"{args.out}/builtin.pt and builtin.json", flush=True)


def export(model, out, classes):
    model.eval()
    os.makedirs(out, exist_ok=True)
    torch.jit.script(model).save(os.path.join(out, "builtin.pt"))
    sidecar = {
        "input": {"size": [SIZE, SIZE], "color": "rgb", "resize": "stretch",
                  "mean": MEAN, "std": STD},
        "labels": classes,
        "default_layer": "features.block3",
    }
    with open(os.path.join(out, "builtin.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
