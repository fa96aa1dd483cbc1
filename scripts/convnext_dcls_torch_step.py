#!/usr/bin/env python3
"""Times one training step of the official ConvNeXt-DCLS in PyTorch on the CPU: the peer of `dcls4j bench
--model-step`. The model is models/convnext_dcls.py of github:K-H-Ismail/ConvNeXt-dcls with the DCLS reference
(github:K-H-Ismail/Dilated-Convolution-with-Learnable-Spacings-PyTorch); timm is replaced by the three names
the file imports. A step: zero_grad, forward, cross-entropy, backward (every gradient). With --device cuda the
model runs on the GPU, each step ends with torch.cuda.synchronize(), and the peak is the GPU memory allocated.

  python3 scripts/convnext_dcls_torch_step.py --dcls-ref DIR_WITH_DCLS --convnext-ref DIR_WITH_models \
      --threads 2 --batch 8 --size 64 --reps 5 --warmup 2 [--device cuda]

Prints: step_ms <median> peak_rss_mib <VmHWM after the steps, or on CUDA torch.cuda.max_memory_allocated>
"""
import argparse
import importlib.util
import sys
import time
import types

import torch
import torch.nn.functional as F


def stub_timm():
    layers = types.ModuleType("timm.models.layers")
    layers.trunc_normal_ = lambda t, std=1.0: torch.nn.init.trunc_normal_(t, std=std)
    layers.DropPath = None  # drop_path_rate 0: never built
    registry = types.ModuleType("timm.models.registry")
    registry.register_model = lambda f: f
    sys.modules.update({"timm": types.ModuleType("timm"), "timm.models": types.ModuleType("timm.models"),
                        "timm.models.layers": layers, "timm.models.registry": registry})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dcls-ref", required=True)
    p.add_argument("--convnext-ref", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    sys.path.insert(0, a.dcls_ref)
    stub_timm()
    spec = importlib.util.spec_from_file_location("convnext_dcls", f"{a.convnext_ref}/models/convnext_dcls.py")
    official = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(official)
    torch.manual_seed(0)
    model = official.ConvNeXt_dcls(in_chans=3, num_classes=a.classes, depths=[3, 3, 9, 3], dims=[96, 192, 384, 768])
    x = torch.randn(a.batch, 3, a.size, a.size)
    labels = torch.randint(0, a.classes, (a.batch,))
    device = torch.device(a.device)
    cuda = device.type == "cuda"
    model, x, labels = model.to(device), x.to(device), labels.to(device)
    if cuda:
        torch.backends.cudnn.benchmark = True  # what a PyTorch user training on a GPU sets

    def step():
        model.zero_grad(set_to_none=False)
        F.cross_entropy(model(x), labels).backward()
        if cuda:
            torch.cuda.synchronize(device)

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    peak = float("nan")
    if cuda:
        print(f"step_ms {median:.3f} peak_rss_mib {torch.cuda.max_memory_allocated(device) / 2**20:.1f}")
        return
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    print(f"step_ms {median:.3f} peak_rss_mib {peak:.1f}")


if __name__ == "__main__":
    main()
