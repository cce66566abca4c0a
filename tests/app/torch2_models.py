# Saves torchvision models with today's PyTorch (>= 2.x: Debian 13's 2.6) as TorchScript,
# traced and scripted, with a sidecar, an input image and the Grad-CAM map eager PyTorch gives
# (pytorch-grad-cam's post-processing), so the C++ test can load them in camscope's build
# (LibTorch 1.13 or 2.x) and compare maps.
import json, sys
import numpy as np
import torch, torchvision
import torch.nn.functional as F
from PIL import Image

out = sys.argv[1]
size = 96
torch.manual_seed(0)
rng = np.random.default_rng(0)
img = (rng.random((size, size, 3)) * 255).astype(np.uint8)
Image.fromarray(img).save(f"{out}/input.png")
x = torch.from_numpy(img).permute(2, 0, 1).float().unsqueeze(0) / 255.0

def gradcam(model, layer):
    acts = {}
    mod = dict(model.named_modules())[layer]
    h = mod.register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))
    logits = model(x.clone().requires_grad_(True))  # autograd through the frozen weights
    h.remove()
    target = int(logits[0].argmax())
    A = acts["a"]
    G, = torch.autograd.grad(logits[0, target], A)
    w = G.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((w * A).sum(1))[0]
    cam = cam - cam.min(); cam = cam / (cam.max() + 1e-7)
    up = F.interpolate(cam[None, None], size=(size, size), mode="bilinear", align_corners=False)[0, 0]
    up = torch.relu(up); up = up - up.min(); up = up / (up.max() + 1e-7)
    return up.detach().numpy().astype(np.float32), target

models = {"resnet18": ("layer3", torchvision.models.resnet18(num_classes=10)),
          "mobilenet_v2": ("features.14", torchvision.models.mobilenet_v2(num_classes=10))}
info = {"torch": torch.__version__, "models": []}
for name, (layer, m) in models.items():
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    ref, target = gradcam(m, layer)
    for kind in ("traced", "scripted"):
        mod = torch.jit.trace(m, x) if kind == "traced" else torch.jit.script(m)
        path = f"{out}/{name}_{kind}"
        mod.save(path + ".pt")
        json.dump({"input": {"size": [size, size], "color": "rgb", "resize": "stretch",
                             "mean": [0, 0, 0], "std": [1, 1, 1]},
                   "default_layer": layer}, open(path + ".json", "w"))
        np.save(path + "_ref.npy", ref)
        info["models"].append({"file": f"{name}_{kind}", "layer": layer, "target": target})
json.dump(info, open(f"{out}/models.json", "w"))
print(torch.__version__)
