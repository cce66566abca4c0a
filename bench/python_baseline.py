#!/usr/bin/python3
"""The usual Python Grad-CAM recipe, written plainly, as the baseline camscope is measured
against (bench/compare.sh runs both on the same model, frames and thread count).

Per frame: uint8 RGB -> float tensor -> bilinear antialiased resize to the model input ->
mean/std -> forward with a forward hook on the layer and a tensor hook (register_hook) on its
output -> model.zero_grad() + full .backward() of the target logit (top-1) -> weights = mean of
the gradient over h, w -> ReLU(sum_k w_k A_k) -> .detach().cpu().numpy() -> per-image min-max
-> bilinear resize to the model input size (align_corners=False) -> min-max again. That is what
pytorch-grad-cam does (it also backpropagates to every parameter).

Hooks: torch 1.13 refuses register_forward_hook on a ScriptModule loaded with torch.jit.load
("not supported on ScriptModules"), so the recipe runs on the eager torchvision model of the
same architecture with the TorchScript file's state_dict loaded strictly; the script checks
that its logits match the TorchScript module's on the first frame and reports the difference.

Frames: a video is decoded with the ffmpeg CLI to raw RGB24 (decoded up front; decode time is
reported apart and not counted per frame); an image file is read with PIL and repeated.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def fail(msg):
    sys.stderr.write(f"python_baseline: error: {msg}\n")
    sys.exit(1)


def probe_size(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "stream=width,height", "-of", "csv=p=0:s=x", path],
                       capture_output=True, text=True)
    if r.returncode != 0 or "x" not in r.stdout:
        fail(f"cannot read video '{path}': {r.stderr.strip().splitlines()[:1]}")
    w, h = r.stdout.strip().splitlines()[0].split("x")[:2]
    return int(w), int(h)


def read_frames(path, count):
    """Returns (list of HxWx3 uint8 arrays, decode seconds)."""
    if not os.path.exists(path):
        fail(f"input '{path}' not found")
    t0 = time.perf_counter()
    ext = os.path.splitext(path)[1].lower()
    if ext in (".png", ".jpg", ".jpeg", ".bmp"):
        from PIL import Image
        img = np.asarray(Image.open(path).convert("RGB"))
        return [img] * count, time.perf_counter() - t0
    w, h = probe_size(path)
    # Single-threaded decode, like camscope's decode thread.
    r = subprocess.run(["ffmpeg", "-v", "error", "-threads", "1", "-i", path, "-frames:v",
                        str(count), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                       capture_output=True)
    if r.returncode != 0:
        fail(f"ffmpeg could not decode '{path}': {r.stderr.decode().strip()[:200]}")
    n = len(r.stdout) // (w * h * 3)
    if n == 0:
        fail(f"no frames decoded from '{path}'")
    buf = np.frombuffer(r.stdout, dtype=np.uint8)[: n * w * h * 3].reshape(n, h, w, 3).copy()
    frames = [buf[i % n] for i in range(count)]  # a short clip loops, as camscope bench does
    return frames, time.perf_counter() - t0


def load_spec(model_path, config_path):
    side = config_path or os.path.splitext(model_path)[0] + ".json"
    spec = {"size": [224, 224], "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "color": "rgb",
            "resize": "stretch", "antialias": True}
    layer, arch = None, None
    if os.path.exists(side):
        with open(side) as f:
            j = json.load(f)
        spec.update(j.get("input", {}))
        layer = j.get("default_layer")
        arch = j.get("arch") or j.get("name")  # bench/export_resnet18.py / export_torchvision.py
    if spec["color"] != "rgb" or spec["resize"] not in ("stretch", "center_crop"):
        fail("this baseline implements color 'rgb' with resize 'stretch' or 'center_crop' only")
    return spec, layer, arch


def eager_twin(scripted, arch):
    """The eager torchvision model with the TorchScript file's weights (see module doc)."""
    ctor = getattr(torchvision.models, arch, None)
    if ctor is None:
        fail(f"torchvision has no architecture '{arch}' (pass --arch)")
    m = ctor(weights=None)
    try:
        m.load_state_dict(scripted.state_dict(), strict=True)
    except RuntimeError as e:
        fail(f"the TorchScript weights do not fit torchvision {arch}: {str(e).splitlines()[0]}")
    return m.eval()


def main():
    ap = argparse.ArgumentParser(description="Python Grad-CAM baseline (see the module doc)")
    ap.add_argument("--model", required=True, help="TorchScript .pt (sidecar .json beside it)")
    ap.add_argument("--model-config", default="", help="sidecar path (default: M.json)")
    ap.add_argument("--arch", default="", help="torchvision architecture (default: sidecar "
                    "'arch', else resnet18)")
    ap.add_argument("--input", required=True, help="video file or image file")
    ap.add_argument("--layer", default="", help="module path (default: sidecar default_layer)")
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0 = all cores)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--save-first", default="", metavar="NPY",
                    help="write frame 0's map (float32 [H, W]) here, to check it against "
                    "camscope export's cam_000000.npy")
    a = ap.parse_args()
    if a.frames <= 0 or a.warmup < 0:
        fail("--frames must be positive and --warmup non-negative")

    threads = a.threads if a.threads > 0 else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    spec, side_layer, side_arch = load_spec(a.model, a.model_config)
    layer_name = a.layer or side_layer or "layer4"
    arch = a.arch or side_arch or "resnet18"
    H, W = spec["size"]
    mean = torch.tensor(spec["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(spec["std"]).view(1, 3, 1, 1)
    antialias = bool(spec.get("antialias", True))

    if not os.path.exists(a.model):
        fail(f"model '{a.model}' not found")
    scripted = torch.jit.load(a.model, map_location="cpu").eval()
    model = eager_twin(scripted, arch)
    layer = dict(model.named_modules()).get(layer_name)
    if layer is None:
        fail(f"no layer '{layer_name}' in {arch}")

    frames, decode_s = read_frames(a.input, a.warmup + a.frames)
    src_h, src_w = frames[0].shape[:2]

    store = {}

    def fwd_hook(module, inputs, output):
        store["act"] = output
        if output.requires_grad:  # not in the no_grad equivalence check
            output.register_hook(lambda g: store.__setitem__("grad", g))

    handle = layer.register_forward_hook(fwd_hook)

    def resize(x, h, w):
        if (x.shape[2], x.shape[3]) == (h, w):
            return x
        shrinking = h < x.shape[2] or w < x.shape[3]
        return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False,
                             antialias=antialias and shrinking)

    def preprocess(rgb):
        x = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)
        if spec["resize"] == "stretch":
            x = resize(x, H, W)
        else:  # torchvision's Resize(shorter side) + CenterCrop, as DESIGN.md describes
            in_h, in_w = x.shape[2], x.shape[3]
            s = max(H / in_h, W / in_w)
            h, w = max(H, int(in_h * s)), max(W, int(in_w * s))
            x = resize(x, h, w)
            top, left = round((h - H) / 2), round((w - W) / 2)
            x = x[:, :, top:top + H, left:left + W]
        return (x - mean) / std

    def minmax(m):
        m = m - m.min()
        return m / (m.max() + 1e-7)

    # The eager twin must compute what the TorchScript file computes.
    with torch.no_grad():
        x0 = preprocess(frames[0])
        diff = float((scripted(x0) - model(x0)).abs().max())
    store.clear()

    stage_names = ["preprocess", "forward", "backward", "cam", "to_numpy", "resize"]
    per_frame, stages = [], {k: [] for k in stage_names}
    cam = first_cam = None
    for i, rgb in enumerate(frames):
        t = [time.perf_counter()]
        x = preprocess(rgb)
        t.append(time.perf_counter())
        logits = model(x)
        target = int(logits[0].argmax())
        t.append(time.perf_counter())
        model.zero_grad()
        logits[0, target].backward()
        t.append(time.perf_counter())
        A, G = store["act"][0], store["grad"][0]
        w = G.mean(dim=(1, 2))
        raw = torch.relu((w[:, None, None] * A).sum(0))
        t.append(time.perf_counter())
        cam = minmax(raw.detach().cpu().numpy())
        t.append(time.perf_counter())
        up = F.interpolate(torch.from_numpy(cam)[None, None], size=(H, W), mode="bilinear",
                           align_corners=False)[0, 0].numpy()
        cam = minmax(np.maximum(up, 0))
        t.append(time.perf_counter())
        if i == 0:
            first_cam = cam
        if i >= a.warmup:
            per_frame.append((t[-1] - t[0]) * 1e3)
            for k, name in enumerate(stage_names):
                stages[name].append((t[k + 1] - t[k]) * 1e3)
    handle.remove()
    if a.save_first:
        np.save(a.save_first, first_cam.astype(np.float32))

    def pct(v, q):
        return float(np.percentile(np.asarray(v), q))

    mean_ms = float(np.mean(per_frame))
    out = {
        "tool": "python_baseline",
        "recipe": "eager torchvision + forward hook + register_hook, full backward",
        "model": a.model, "arch": arch, "layer": layer_name, "method": "gradcam",
        "device": "cpu", "threads": threads, "torch": torch.__version__,
        "input": a.input, "source_size": [src_w, src_h], "model_input": [H, W],
        "frames": a.frames, "warmup": a.warmup,
        "logit_max_abs_diff_vs_torchscript": diff,
        "decode_ms_per_frame_untimed": decode_s * 1e3 / len(frames),
        "stages_ms": {k: {"p50": pct(v, 50), "p95": pct(v, 95), "mean": float(np.mean(v))}
                      for k, v in stages.items()},
        "frame_ms": {"p50": pct(per_frame, 50), "p95": pct(per_frame, 95), "mean": mean_ms},
        "fps": 1e3 / mean_ms,
        "map_range": [float(cam.min()), float(cam.max())],
    }
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"python baseline: {arch} layer {layer_name}, {a.frames} frames "
              f"({a.warmup} warm-up), {threads} threads, torch {torch.__version__}")
        print(f"  eager vs TorchScript logits max |diff| {diff:.2e}")
        for k, v in out["stages_ms"].items():
            print(f"  {k:<10} p50 {v['p50']:8.2f} ms  p95 {v['p95']:8.2f} ms")
        print(f"  frame      p50 {out['frame_ms']['p50']:8.2f} ms  p95 "
              f"{out['frame_ms']['p95']:8.2f} ms   {out['fps']:.2f} fps")


if __name__ == "__main__":
    main()
