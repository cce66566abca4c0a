"""Test model for feature visualization (tests/core/test_optvis.cpp).

usage: optvis_fixtures.py OUT_DIR

edges.pt/.json: 3x32x32 RGB input (mean 0, std 1) -> conv (3 -> 3, 5x5, padding 2) -> relu ->
GAP -> fc (3 -> 2). conv channel 0 is a vertical-edge filter (it responds to intensity changing
along x), channel 1 the same filter turned by 90 degrees (changes along y), channel 2 the
vertical one with bias -1000: dead after the ReLU for any image in [0, 1]. fc: class 0 = channel
0, class 1 = channel 1.
"""
import json
import os
import sys

import torch
import torch.nn as nn

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


class Edges(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 5, padding=2)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.relu(self.conv(x))), 1))


m = Edges().eval()
with torch.no_grad():
    # d/dx over 5 columns, smoothed over rows: a vertical edge (dark left, bright right).
    row = torch.tensor([-1.0, -2.0, 0.0, 2.0, 1.0])
    col = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    vertical = col[:, None] * row[None, :]
    m.conv.weight.zero_()
    for c in range(3):
        m.conv.weight[0, c] = vertical / 3.0
        m.conv.weight[1, c] = vertical.t() / 3.0
        m.conv.weight[2, c] = vertical / 3.0
    m.conv.bias.copy_(torch.tensor([0.0, 0.0, -1000.0]))
    m.fc.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    m.fc.bias.zero_()

torch.jit.script(m).save(os.path.join(out, "edges.pt"))
with open(os.path.join(out, "edges.json"), "w") as f:
    json.dump({"input": {"size": [32, 32], "color": "rgb", "resize": "stretch",
                         "mean": [0, 0, 0], "std": [1, 1, 1]},
               "labels": ["vertical", "horizontal"], "default_layer": "conv"}, f)
