#!/usr/bin/env bash
# camscope against the usual Python Grad-CAM recipe, side by side in one go: same TorchScript
# model (resnet18 224x224), same 640x360 H.264 frames, same thread count, same warm-up and frame
# count. Builds the assets (bench/make_assets.sh) and camscope (scripts/build.sh) when missing.
#
#   bench/compare.sh                      # 50 frames, 5 warm-up, all cores, 1 round
#   FRAMES=100 ROUNDS=3 bench/compare.sh  # more samples; rounds alternate camscope / Python
#   IDLE=0 bench/compare.sh               # skip the idle viewer measurement (default 10 s)
#
# Idle: each camscope round also measures the viewer at rest (`camscope bench --idle`): the
# viewer paused on the clip's first frame, IDLE seconds with no input, process CPU time in % of
# one core, headless and, when DISPLAY is set (e.g. under xvfb-run), in a window.
#
# Engine: camscope runs with --engine fast (its default for view and bench: weights frozen and
# folded, oneDNN before the tap; ENGINE=exact runs the model's own ops). The bare model in the
# same run uses the same engine. The Python recipe is what it is: eager TorchScript + hooks.
#
# OpenMP waiting: both programs inherit OMP_WAIT_POLICY from the environment (libgomp's default
# when unset, the faster one on a quiet machine). On an oversubscribed machine,
# OMP_WAIT_POLICY=PASSIVE keeps spinning team threads from eating the time slices the others
# need; whatever is set applies equally to both sides and is recorded in compare.json.
#
# Each round runs camscope first, then Python, so a change in the machine's load between
# rounds hits both; the reported figures are the medians over rounds. Raw JSON lands in
# bench/out/compare_<round>_{camscope,python}.json, the summary in bench/out/compare.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out=${BENCH_OUT:-"$here/out"}
frames=${FRAMES:-50}
warmup=${WARMUP:-5}
threads=${THREADS:-$(nproc)}
rounds=${ROUNDS:-1}
method=gradcam
grid=${GRID:-64}
py=/usr/bin/python3
engine=${ENGINE:-fast}
idle=${IDLE:-10}

BENCH_OUT="$out" "$here/make_assets.sh"
bin=${CAMSCOPE_BIN:-"$root/build/camscope"}
[ -x "$bin" ] || "$root/scripts/build.sh" >/dev/null
model="$out/resnet18.pt"
clip="$out/clip_640x360.mp4"

for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds: camscope bench ($frames frames, $threads threads)..." >&2
  "$bin" bench --model "$model" --input "$clip" --method "$method" --frames "$frames" \
    --warmup "$warmup" --threads "$threads" --grid "$grid" --device cpu --engine "$engine" --idle "$idle" --json \
    > "$out/compare_${r}_camscope.json"
  echo "round $r/$rounds: python baseline..." >&2
  "$py" "$here/python_baseline.py" --model "$model" --input "$clip" --frames "$frames" \
    --warmup "$warmup" --threads "$threads" --json > "$out/compare_${r}_python.json"
done

"$py" - "$out" "$rounds" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
cs = [json.load(open(os.path.join(out, f"compare_{r}_camscope.json"))) for r in range(1, rounds + 1)]
ps = [json.load(open(os.path.join(out, f"compare_{r}_python.json"))) for r in range(1, rounds + 1)]
med = statistics.median
c_fps = med(c["fps"] for c in cs)
b_fps = med(c["bare_model"]["fps"] for c in cs)
p_fps = med(p["fps"] for p in ps)
ratio_bare = med(c["ratio_to_bare"] for c in cs)
ratio_bare_p50 = med(c["ratio_to_bare_p50"] for c in cs)
speedup = med(c["fps"] / p["fps"] for c, p in zip(cs, ps))
speedup_p50 = med(p["frame_ms"]["p50"] / c["stages_ms"]["frame"]["p50"] for c, p in zip(cs, ps))
c0, p0 = cs[0], ps[0]
summary = {
    "model": c0["model"], "input": c0["input"], "method": c0["method"], "layer": c0["layer"],
    "device": c0["device"], "engine": c0.get("engine", ""), "threads": c0["threads"],
    "frames": c0["frames"],
    "warmup": c0["warmup"], "rounds": rounds, "grid_channels": c0["grid"]["channels"],
    "load_average_1m": [c["load_average_1m"] for c in cs],
    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
    "camscope_fps": c_fps, "bare_model_fps": b_fps, "python_fps": p_fps,
    "camscope_over_bare": ratio_bare, "camscope_over_bare_p50": ratio_bare_p50,
    "camscope_over_python": speedup, "camscope_over_python_p50": speedup_p50,
    "targets": {"camscope_over_bare": 0.85, "camscope_over_python": 3.0},
}
idle = {}
for mode in ("headless", "window"):
    v = [c["idle"][mode]["cpu_percent"] for c in cs
         if "idle" in c and "cpu_percent" in c["idle"].get(mode, {})]
    r = [c["idle"][mode]["redraws"] for c in cs
         if "idle" in c and "redraws" in c["idle"].get(mode, {})]
    if v:
        idle[mode] = {"cpu_percent": med(v), "redraws": med(r), "rounds": v}
    elif cs and "idle" in cs[0]:
        idle[mode] = {"skipped": cs[0]["idle"].get(mode, {}).get("skipped", "?")}
summary["idle"] = idle
summary["targets"]["idle_cpu_percent_max"] = 2.0
json.dump(summary, open(os.path.join(out, "compare.json"), "w"), indent=2)
ok = lambda v, t: "meets" if v >= t else "BELOW"
print(f"model {c0['model']} layer {c0['layer']}, input {c0['input']} "
      f"{c0['source']['size'][0]}x{c0['source']['size'][1]}, {c0['method']} + "
      f"{c0['grid']['channels']}-channel grid")
print(f"device {c0['device']}, {c0.get('engine', '?')} engine, {c0['threads']} threads, "
      f"{c0['frames']} frames after {c0['warmup']} warm-up, {rounds} round(s), load average {summary['load_average_1m']}, "
      f"OMP_WAIT_POLICY={summary['omp_wait_policy'] or '(default)'}")
print(f"  camscope end to end   {c_fps:8.2f} fps")
print(f"  bare model            {b_fps:8.2f} fps  (forward + gradient to the tap, same run)")
print(f"  python baseline       {p_fps:8.2f} fps  (eager + hooks + full backward)")
print("  ratios                    rates   medians")
print(f"  camscope / bare       {ratio_bare:8.3f}  {ratio_bare_p50:8.3f}   target >= 0.85: "
      f"{ok(ratio_bare, 0.85)} / {ok(ratio_bare_p50, 0.85)}")
print(f"  camscope / python     {speedup:8.2f}x {speedup_p50:8.2f}x   target >= 3: "
      f"{ok(speedup, 3.0)} / {ok(speedup_p50, 3.0)}")
if idle:
    secs = cs[0]["idle"]["seconds"]
    for mode, v in idle.items():
        if "cpu_percent" in v:
            verdict = "meets" if v["cpu_percent"] <= 2.0 else "ABOVE"
            print(f"  idle viewer, {mode:8s} {v['cpu_percent']:6.2f}% of one core over {secs:g} s, "
                  f"{v['redraws']:g} redraws   target <= 2%: {verdict}")
        else:
            print(f"  idle viewer, {mode:8s} skipped ({v['skipped']})")
PY
