#!/usr/bin/env python3
"""Times the PyTorch DCLS reference on the shapes of io.dcls4j.bench.KindsBench (forward, and forward + backward
with every gradient), float32, CPU, 2 threads. Transposed DCLS: the reference's ConstructKernel2d and
F.conv_transpose2d (the reference has no transposed layer).

Usage: bench_kinds.py REFERENCE_DIR [reps] [warmup]
"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def median_ms(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    sys.path.insert(0, sys.argv[1])
    from DCLS.construct import modules as m
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    warmup = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.set_num_threads(2)
    torch.manual_seed(0)

    class Transposed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.DCK = m.ConstructKernel2d(64, 32, 1, 9, (9, 9), "gauss")
            self.weight = torch.nn.Parameter(torch.randn(64, 32, 9) * 0.05)
            self.P = torch.nn.Parameter(torch.randn(2, 64, 32, 9) * 0.5)
            self.SIG = torch.nn.Parameter(torch.full((2, 64, 32, 9), 0.23))
            self.bias = torch.nn.Parameter(torch.zeros(32))

        def forward(self, x):
            return F.conv_transpose2d(x, self.DCK(self.weight, self.P, self.SIG), self.bias, 2, 4, 1)

    cases = [
        ("Dcls2_1d", (8, 64, 32, 256), lambda: m.Dcls2_1d(64, 64, 4, padding=(1, 12), dense_kernel_size=3,
                                                           dilated_kernel_size=25, version="gauss")),
        ("Dcls3_1d", (4, 32, 8, 16, 64), lambda: m.Dcls3_1d(32, 32, 3, padding=(1, 1, 7), dense_kernel_size=(3, 3),
                                                             dilated_kernel_size=15, version="gauss")),
        ("Dcls2dK1d", (8, 64, 56, 56), lambda: m.Dcls2dK1d(64, 64, 5, padding=(0, 8), dilated_kernel_size=17,
                                                            groups=64, version="v1", flat_dim=1)),
        ("transposed 2D", (8, 64, 16, 16), Transposed),
    ]
    print("case | forward ms | fwd+bwd ms")
    for name, shape, build in cases:
        layer = build()
        x = torch.randn(shape, requires_grad=True)
        with torch.no_grad():
            gy = torch.randn(layer(x).shape)

        def fwd():
            with torch.no_grad():
                layer(x)

        def both():
            layer.zero_grad()
            x.grad = None
            layer(x).backward(gy)

        print(f"{name} | {median_ms(fwd, reps, warmup):.2f} | {median_ms(both, reps, warmup):.2f}", flush=True)


if __name__ == "__main__":
    main()
