"""Models that Model::load must refuse (tests/core/test_model_errors.cpp, tests/app/test_info.cpp).

usage: bad_models.py OUT_DIR
  good.pt        a tiny valid classifier (3x32x32 -> 4 classes), scripted; good.json its sidecar
  frozen.pt      the same after torch.jit.freeze (no submodules left)
  eager.pt       torch.save of the eager module (a pickle, not TorchScript)
  featuremap.pt  returns a [N, C, H, W] feature map instead of logits
  tuple.pt       returns a tuple (logits, features)
  nan.pt         a NaN in the classifier weights
  gray.json      a sidecar asking for 1 channel (the model's first conv takes 3)
"""
import json
import os
import sys

import torch
import torch.nn as nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 4)

    def features(self, x):
        return self.conv2(self.relu(self.bn1(self.conv1(x))))

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


class FeatureMap(Tiny):
    def forward(self, x):
        return self.features(x)


class TupleOut(Tiny):
    def forward(self, x):
        f = self.features(x)
        return self.fc(torch.flatten(self.pool(f), 1)), f


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    good = Tiny().eval()
    torch.jit.script(good).save(os.path.join(out, "good.pt"))
    side = {"input": {"size": [32, 32]}, "labels": ["cat", "dog", "owl", "eel"],
            "default_layer": "conv2"}
    with open(os.path.join(out, "good.json"), "w") as f:
        json.dump(side, f)
    torch.jit.freeze(torch.jit.script(good)).save(os.path.join(out, "frozen.pt"))
    torch.save(good, os.path.join(out, "eager.pt"))
    for name, cls in (("featuremap", FeatureMap), ("tuple", TupleOut)):
        m = cls().eval()
        m.load_state_dict(good.state_dict())
        torch.jit.script(m).save(os.path.join(out, name + ".pt"))
    nan = Tiny().eval()
    nan.load_state_dict(good.state_dict())
    with torch.no_grad():
        nan.fc.weight[1, 3] = float("nan")
    torch.jit.script(nan).save(os.path.join(out, "nan.pt"))
    with open(os.path.join(out, "gray.json"), "w") as f:
        json.dump({"input": {"size": [32, 32], "color": "gray"}}, f)


if __name__ == "__main__":
    main()
