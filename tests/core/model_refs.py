"""Independent references for the model-engine tests (run by tests/core/test_model*.cpp).

usage: model_refs.py OUT_DIR

Builds small classifiers with seeded random weights (torchvision resnet18 with its in-place
ReLUs, mobilenet_v2, squeezenet1_1, and a squeeze-and-excitation toy), saves each traced and
scripted as TorchScript with a sidecar, and records, from the *eager* model, with forward
hooks and torch.autograd.grad:
  - activations of chosen submodules (first call only for modules called twice),
  - gradients of the top-1 logit to those activations,
  - the same for guided backpropagation (a custom autograd Function in Python), plus the
    guided gradient to the input.
Everything goes to OUT_DIR as float32 .npy files listed in OUT_DIR/manifest.json.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

SIZE = 64


class SEBlock(nn.Module):
    def __init__(self, c, r=4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(c // r, c, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        return x * self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))


class TinySE(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.se = SEBlock(16)
        self.conv2 = nn.Conv2d(16, 24, 3, stride=2, padding=1)
        self.act2 = nn.ReLU6()
        self.head = nn.Linear(24, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.se(x)
        x = self.act2(self.conv2(x))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


MODELS = {
    "resnet18": (lambda: torchvision.models.resnet18(num_classes=10),
                 ["conv1", "layer1.0.bn1", "layer1.0.relu", "layer1", "layer2.1.conv2",
                  "layer3.0.downsample", "layer4", "avgpool", "layer1.0.bn2"]),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(num_classes=10),
                     ["features.0", "features.1.conv.0.2", "features.3.conv", "features.3",
                      "features.17.conv.1", "features", "classifier.1"]),
    "squeezenet1_1": (lambda: torchvision.models.squeezenet1_1(num_classes=10),
                      ["features.0", "features.3.squeeze", "features.3", "features.12.expand3x3",
                       "features", "classifier.1"]),
    "tiny_se": (lambda: TinySE(), ["conv1", "bn1", "se.fc1", "se.gate", "se", "conv2", "act2"]),
}


def randomize(model, gen):
    """Non-trivial BatchNorm statistics and affine parameters (defaults are identities)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


class GuidedReLUFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, hi):
        ctx.save_for_backward(x)
        return x.clamp(min=0) if hi is None else x.clamp(0, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g.clamp(min=0) * (x > 0).to(g.dtype), None


class GuidedAct(nn.Module):
    def __init__(self, hi):
        super().__init__()
        self.hi = hi

    def forward(self, x):
        return GuidedReLUFn.apply(x, self.hi)


def functional_relus(model, guided):
    """Replaces ReLU/ReLU6 modules by out-of-place (optionally guided) equivalents, so hooks see
    each module's output as produced."""
    for name, m in list(model.named_modules()):
        for cname, c in list(m.named_children()):
            if isinstance(c, nn.ReLU6):
                setattr(m, cname, GuidedAct(6.0) if guided else nn.ReLU6(inplace=False))
            elif isinstance(c, nn.ReLU):
                setattr(m, cname, GuidedAct(None) if guided else nn.ReLU(inplace=False))


def capture(model, taps, x):
    """Eager forward with hooks; the first call of each tapped module is kept. The hook hands
    the rest of the network a copy, so in-place ops downstream (resnet's `out += identity`
    after bn2) cannot change the recorded output, and gradients to it flow through the copy."""
    mods = dict(model.named_modules())
    acts = {}
    handles = []
    for t in taps:
        def hook(_m, _inp, out, t=t):
            if t not in acts:
                acts[t] = out
                return out.clone()
            return None
        handles.append(mods[t].register_forward_hook(hook))
    logits = model(x)
    for h in handles:
        h.remove()
    return logits, [acts[t] for t in taps]


def save(out_dir, name, t):
    np.save(os.path.join(out_dir, name), t.detach().contiguous().float().numpy())
    return name


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    manifest = {"size": SIZE, "models": []}
    x = torch.randn(1, 3, SIZE, SIZE, generator=gen)
    save(out_dir, "input.npy", x)
    for name, (make, taps) in MODELS.items():
        model = make().eval()
        with torch.no_grad():
            randomize(model, gen)
        for variant in ("trace", "script"):
            ts = torch.jit.trace(model, x) if variant == "trace" else torch.jit.script(model)
            pt = f"{name}_{variant}.pt"
            ts.save(os.path.join(out_dir, pt))
            with open(os.path.join(out_dir, f"{name}_{variant}.json"), "w") as f:
                json.dump({"input": {"size": [SIZE, SIZE]}}, f)
        entry = {"name": name, "files": [f"{name}_trace.pt", f"{name}_script.pt"], "taps": taps}
        # Reference with out-of-place ReLUs: the values the in-place TorchScript model must tap.
        for guided in (False, True):
            ref = make().eval()
            ref.load_state_dict(model.state_dict())
            functional_relus(ref, guided)
            for p in ref.parameters():
                p.requires_grad_(False)
            xi = x.clone().requires_grad_(True)
            logits, acts = capture(ref, taps, xi)
            target = int(logits[0].argmax())
            grads = torch.autograd.grad(logits[0, target], acts + [xi])
            tag = f"{name}_{'guided' if guided else 'normal'}"
            entry[tag] = {
                "target": target,
                "logits": save(out_dir, f"{tag}_logits.npy", logits),
                "acts": [save(out_dir, f"{tag}_act{i}.npy", a) for i, a in enumerate(acts)],
                "grads": [save(out_dir, f"{tag}_grad{i}.npy", g) for i, g in enumerate(grads[:-1])],
                "input_grad": save(out_dir, f"{tag}_input_grad.npy", grads[-1]),
            }
        manifest["models"].append(entry)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
