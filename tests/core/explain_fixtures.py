"""Test fixtures for the explain/ suites: tiny TorchScript models with chosen or seeded weights,
their sidecars, and independent reference attributions computed here with PyTorch autograd.

usage: explain_fixtures.py OUT_DIR

Writes into OUT_DIR:
  tiny.pt/.json   conv(3->3, 3x3, stride 2) -> ReLU -> GAP -> Linear(3->2); weights from closed
                  formulas the C++ test re-derives by hand (see tiny_weights()).
  small.pt/.json  conv-ReLU, conv-ReLU6, conv-Hardtanh(0,6), GAP, Linear(8->5); seeded weights.
  small_x.npy     its test input [1, 3, 16, 16]; small_<method>.npy reference attributions
                  [3, 16, 16]; small_target.txt the explained class.
  se.pt/.json     conv -> ReLU -> squeeze-excitation (Sigmoid gate) -> GAP -> Linear;
                  se_x.npy input, se_gate.npy the gate values [4].
  small_cam_<method>.npy   round-2 CAM raw maps [8, 8] at small's act2 (hooks, plain PyTorch);
                  se_cam_shapleycam.npy at se's relu (a layer with curvature after it).
  quad.pt/.json   conv -> square -> GAP -> Linear: Shapley-CAM by hand (H.A = G).
  linear.pt/.json one full-size conv = a linear map x -> 2 logits: closed-form metric curves.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def sidecar(name, h, w, classes):
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"input": {"size": [h, w], "color": "rgb", "resize": "stretch",
                             "mean": [0, 0, 0], "std": [1, 1, 1]},
                   "labels": ["class%d" % i for i in range(classes)]}, f)


def save_npy(name, t):
    np.save(os.path.join(out, name), t.detach().numpy().astype(np.float32))


# --- tiny: chosen weights -------------------------------------------------------------------
class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, stride=2, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.relu(self.conv(x))), 1))


def tiny_weights(m):
    with torch.no_grad():
        for o in range(3):
            m.conv.bias[o] = 0.1 * o - 0.1
            for c in range(3):
                for i in range(3):
                    for j in range(3):
                        m.conv.weight[o, c, i, j] = ((o * 7 + c * 3 + i * 5 + j * 2) % 11 - 5) / 5.0
        for t in range(2):
            m.fc.bias[t] = 0.25 * t
            for k in range(3):
                m.fc.weight[t, k] = ((t * 3 + k * 2) % 5 - 2) / 2.0


tiny = Tiny().eval()
tiny_weights(tiny)
torch.jit.script(tiny).save(os.path.join(out, "tiny.pt"))
sidecar("tiny", 6, 6, 2)


# --- small: seeded weights, references for the pixel-space methods ---------------------------
class GuidedReLU(torch.autograd.Function):
    """Forward: the activation; backward: relu(grad_out) * (x > 0) (DESIGN.md guidedbp)."""

    @staticmethod
    def forward(ctx, x, hi):
        ctx.save_for_backward(x)
        return x.clamp(min=0) if hi is None else x.clamp(0, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g.clamp(min=0) * (x > 0).to(g.dtype), None


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(6, 8, 3, stride=2, padding=1)
        self.act2 = nn.ReLU6()
        self.conv3 = nn.Conv2d(8, 8, 3, padding=1)
        self.act3 = nn.Hardtanh(0.0, 6.0)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.act1(self.conv1(x))
        x = self.act2(self.conv2(x))
        x = self.act3(self.conv3(x))
        return self.fc(torch.flatten(self.pool(x), 1))

    def guided(self, x):
        x = GuidedReLU.apply(self.conv1(x), None)
        x = GuidedReLU.apply(self.conv2(x), 6.0)
        x = GuidedReLU.apply(self.conv3(x), 6.0)
        return self.fc(torch.flatten(self.pool(x), 1))


torch.manual_seed(0)
small = Small().eval()
with torch.no_grad():
    # Larger weights than the default init: attributions of order 1, and some ReLU6/Hardtanh
    # units saturate (x > 6), where guided backprop still passes gradient (mask is x > 0 only).
    for conv in (small.conv1, small.conv2, small.conv3):
        conv.weight.mul_(3.0)
        conv.bias.add_(0.1)
    small.fc.weight.mul_(30.0)
torch.jit.script(small).save(os.path.join(out, "small.pt"))
sidecar("small", 16, 16, 5)

x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
save_npy("small_x.npy", x)
target = int(small(x)[0].argmax())
with open(os.path.join(out, "small_target.txt"), "w") as f:
    f.write(str(target))


def input_grad(fn, inp):
    inp = inp.clone().requires_grad_(True)
    fn(inp)[:, target].sum().backward()
    return inp.grad


g = input_grad(small, x)
save_npy("small_saliency.npy", g.abs()[0])
save_npy("small_gradxinput.npy", (x * g)[0])
save_npy("small_guidedbp.npy", input_grad(small.guided, x)[0])
with torch.no_grad():
    h2 = small.conv2(small.act1(small.conv1(x)))
    h3 = small.conv3(small.act2(h2))
print("saturated units: conv2 %d, conv3 %d" % (int((h2 > 6).sum()), int((h3 > 6).sum())))

# SmoothGrad: 25 samples, sigma = 0.15 (max - min), noise drawn one sample at a time from a CPU
# generator seeded with 0.
gen = torch.Generator().manual_seed(0)
sigma = 0.15 * (x.max().item() - x.min().item())
acc = torch.zeros_like(x)
for _ in range(25):
    noise = torch.randn(x.shape, generator=gen) * sigma
    acc += input_grad(small, x + noise).abs()
save_npy("small_smoothgrad.npy", (acc / 25)[0])

# Integrated gradients, Captum's default: Gauss-Legendre with 50 nodes, zero baseline.
nodes, weights = np.polynomial.legendre.leggauss(50)
alphas, steps = (nodes + 1) / 2, weights / 2
total = torch.zeros_like(x)
for a, s in zip(alphas, steps):
    total += input_grad(small, float(a) * x) * float(s)
save_npy("small_intgrad.npy", (x * total)[0])


# --- se: a squeeze-excitation gate -------------------------------------------------------------
class SE(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(4, 2, 1)
        self.se_relu = nn.ReLU()
        self.expand = nn.Conv2d(2, 4, 1)
        self.gate = nn.Sigmoid()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        a = self.relu(self.conv(x))
        g = self.gate(self.expand(self.se_relu(self.reduce(self.squeeze(a)))))
        return self.fc(torch.flatten(self.pool(a * g), 1))


torch.manual_seed(2)
se = SE().eval()
torch.jit.script(se).save(os.path.join(out, "se.pt"))
sidecar("se", 8, 8, 3)
xs = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(3))
save_npy("se_x.npy", xs)
with torch.no_grad():
    a = se.relu(se.conv(xs))
    save_npy("se_gate.npy", se.gate(se.expand(se.se_relu(se.reduce(se.squeeze(a)))))[0].flatten())


# --- round-2 CAM methods, by forward hooks on the plain PyTorch modules -------------------------
def tapped(model, layer, inp, edit=None):
    """Forward with the output of `layer` captured (and optionally replaced by edit(output))."""
    store = {}

    def hook(mod, args, output):
        if edit is not None:
            output = edit(output)
        store["A"] = output
        return output

    handle = dict(model.named_modules())[layer].register_forward_hook(hook)
    try:
        out = model(inp)
    finally:
        handle.remove()
    return out, store["A"]


def projection_2d(M, ref):
    """First principal component of the channel-centred [hw, K] matrix, sign by correlation."""
    K, hh, ww = M.shape
    X = M.reshape(K, -1).t().double()
    X = X - X.mean(0, keepdim=True)
    _, _, vt = torch.linalg.svd(X, full_matrices=False)
    p = (X @ vt[0]).reshape(hh, ww)
    r = ref.double()
    if ((p - p.mean()) * (r - r.mean())).sum() < 0:
        p = -p
    return p


def cam_refs(model, layer, inp, prefix, methods):
    out, A = tapped(model, layer, inp)
    z = out[0]
    t = int(z.argmax())
    G, = torch.autograd.grad(z[t], A, create_graph=True)
    hvp, = torch.autograd.grad(G, A, grad_outputs=A.detach(), allow_unused=True)
    A, G = A[0].detach(), G[0].detach()
    hvp = torch.zeros_like(A) if hvp is None else hvp[0].detach()
    K = A.shape[0]
    res = {}

    def wsum(w):
        return (w.reshape(K, 1, 1).to(A.dtype) * A).sum(0)

    res["hirescam"] = (G * A).sum(0)
    res["gradcamelementwise"] = torch.relu(G * A).sum(0)
    res["eigengradcam"] = projection_2d(G * A, (G * A).sum(0))
    res["shapleycam"] = wsum((G - 0.5 * hvp).mean((1, 2)))
    res["gradcam"] = wsum(G.mean((1, 2)))
    # FEM in numpy, as pytorch-grad-cam computes it.
    a = A.numpy()
    th = a.mean(axis=(1, 2)) + 2 * a.std(axis=(1, 2))
    res["fem"] = wsum(torch.from_numpy((a > th[:, None, None]).mean(axis=(1, 2))))
    # Kernel PCA with the sigmoid kernel, as scikit-learn's KernelPCA (gamma = 1/K, coef0 = 1).
    X = a.reshape(K, -1).T.astype(np.float64)
    X = X - X.mean(axis=0)
    Km = np.tanh(X @ X.T / K + 1.0)
    n = Km.shape[0]
    one = np.full((n, n), 1.0 / n)
    Kc = Km - one @ Km - Km @ one + one @ Km @ one
    vals, vecs = np.linalg.eigh(Kc)
    v = vecs[:, -1]
    if v[np.argmax(np.abs(v))] < 0:
        v = -v
    res["kpcacam"] = torch.from_numpy(v * np.sqrt(max(vals[-1], 0.0))).reshape(A.shape[1:])
    # Ablation-CAM: each channel set to the ablation value in turn, one forward each.
    with torch.no_grad():
        value = 0.0 if float(A.min()) == 0.0 else float(A.min()) - 1e7
        y = float(z[t])
        yk = []
        for k in range(K):
            def ablate(o, k=k):
                o = o.clone()
                o[:, k] = value
                return o
            yk.append(float(tapped(model, layer, inp, ablate)[0][0, t]))
        res["ablationcam"] = wsum((y - torch.tensor(yk, dtype=torch.float64)) / y)
    # Finer-CAM: the 3 classes nearest the target logit, softmax-weighted differences.
    zd = z.detach()
    order = [int(j) for j in np.argsort(np.abs((zd - zd[t]).numpy()), kind="stable") if j != t][:3]
    out2, A2 = tapped(model, layer, inp)
    z2 = out2[0]
    p = torch.softmax(z2, 0)
    S = sum(p[j] * (z2[t] - 1.0 * z2[j]) for j in order) / (sum(p[j] for j in order) + 1e-9)
    Gf, = torch.autograd.grad(S, A2)
    res["finercam"] = wsum(Gf[0].mean((1, 2)))
    # Random-CAM: uniform [-1, 1) weights from a CPU generator seeded with 0.
    res["randomcam"] = wsum(torch.rand(K, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    # SmoothGrad-CAM++: 4 noisy inputs (sigma 0.3, seed 0, one sample at a time), A clean.
    gen = torch.Generator().manual_seed(0)
    Gs = []
    for _ in range(4):
        noisy = inp + torch.randn(inp.shape, generator=gen) * 0.3
        o, An = tapped(model, layer, noisy)
        Gs.append(torch.autograd.grad(o[0, t], An)[0][0])
    Gs = torch.stack(Gs)
    g2, g3 = (Gs ** 2).mean(0), (Gs ** 3).mean(0)
    alpha = g2 / (2 * g2 + (g3 * A).sum((1, 2), keepdim=True) + 1e-8)
    res["smoothgradcampp"] = wsum((alpha * torch.relu(Gs).mean(0)).sum((1, 2)))
    for name in methods:
        save_npy("%s_cam_%s.npy" % (prefix, name), res[name])
    return t


cam_methods = ["hirescam", "gradcamelementwise", "eigengradcam", "ablationcam", "fem", "kpcacam",
               "shapleycam", "finercam", "randomcam", "smoothgradcampp", "gradcam"]
cam_refs(small, "act2", x, "small", cam_methods)
cam_refs(se, "relu", xs, "se", ["shapleycam", "gradcam"])


# --- quad: the score is quadratic in the tapped activation ------------------------------------
class Quad(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        a = self.conv(x)
        return self.fc(torch.flatten(self.pool(a * a), 1))


torch.manual_seed(4)
quad = Quad().eval()
with torch.no_grad():
    quad.fc.weight.copy_(torch.tensor([[1.5, -0.5], [0.25, 2.0]]))
    quad.fc.bias.copy_(torch.tensor([0.0, 0.1]))
torch.jit.script(quad).save(os.path.join(out, "quad.pt"))
sidecar("quad", 6, 6, 2)


# --- linear: logits are a fixed linear function of the input ----------------------------------
class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 4)  # one 4x4 window = the whole 4x4 input

    def forward(self, x):
        return torch.flatten(self.conv(x), 1)


lin = Linear().eval()
with torch.no_grad():
    for t in range(2):
        lin.conv.bias[t] = 0.5 * t - 0.25
        for c in range(3):
            for i in range(4):
                for j in range(4):
                    lin.conv.weight[t, c, i, j] = ((t * 5 + c * 7 + i * 3 + j) % 9 - 4) / 8.0
torch.jit.script(lin).save(os.path.join(out, "linear.pt"))
sidecar("linear", 4, 4, 2)
print("ok")
