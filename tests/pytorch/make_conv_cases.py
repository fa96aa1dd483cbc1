#!/usr/bin/python3
"""Makes the PyTorch comparison cases of io.dcls4j.nn.Conv with dilation (tests/data/nn/conv_*.npz).

Each case runs torch.nn.functional.conv{1,2,3}d in float64 on float32-rounded inputs and saves
  x, weight, bias, grad_y   the inputs (float64)
  y, grad_x, grad_weight, grad_bias   PyTorch's forward and gradients
and the configuration as arrays: kernel, stride, padding, dilation, groups.

Usage (Debian's python3-torch, /usr/bin/python3): /usr/bin/python3 tests/pytorch/make_conv_cases.py --out tests/data/nn
"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F

# name, in, out, groups, input spatial, kernel, stride, padding, dilation, batch
CASES = [
    ("conv_dilated_dw2d", 6, 6, 6, [14, 13], [3, 3], [1, 1], [3, 3], [3, 3], 2),
    ("conv_dilated_dw2d_k7", 4, 4, 4, [14, 14], [7, 7], [1, 1], [6, 6], [2, 2], 2),
    ("conv_dilated_grouped1d", 4, 6, 2, [29], [4], [2], [2], [5], 3),
    ("conv_dilated_dense2d", 3, 5, 1, [11, 9], [2, 3], [2, 1], [1, 2], [3, 2], 2),
    ("conv_dilated_3d", 2, 4, 2, [7, 8, 6], [2, 2, 3], [1, 2, 1], [1, 0, 2], [2, 3, 2], 1),
]

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def rounded(generator, *shape):
    return torch.randn(*shape, generator=generator).float().double()


def make(case, out, generator):
    name, cin, cout, groups, spatial, kernel, stride, padding, dilation, batch = case
    x = rounded(generator, batch, cin, *spatial).requires_grad_()
    w = rounded(generator, cout, cin // groups, *kernel).requires_grad_()
    b = rounded(generator, cout).requires_grad_()
    y = CONV[len(kernel)](x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    gy = rounded(generator, *y.shape)
    y.backward(gy)
    np.savez_compressed(f"{out}/{name}.npz", x=x.detach().numpy(), weight=w.detach().numpy(),
                        bias=b.detach().numpy(), grad_y=gy.numpy(), y=y.detach().numpy(),
                        grad_x=x.grad.numpy(), grad_weight=w.grad.numpy(), grad_bias=b.grad.numpy(),
                        kernel=np.array(kernel), stride=np.array(stride), padding=np.array(padding),
                        dilation=np.array(dilation), groups=np.array([groups]))
    print(name, tuple(y.shape))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(20261205)
    for case in CASES:
        make(case, args.out, generator)


if __name__ == "__main__":
    main()
