#!/usr/bin/env python3
"""Golden cases for the layer kinds beyond Dcls1d/2d/3d, computed in float64 by the PyTorch reference.

Kinds: Dcls2_1d, Dcls3_1d, Dcls2dK1d (the reference's own modules), and transposed DCLS
(DclsTranspose1d/2d/3d), which the reference lacks: there the reference's ConstructKernelNd builds the
kernel (Cin, Cout/groups, dilated...) and torch.nn.functional.conv_transposeNd applies it.

Usage: make_kind_cases.py REFERENCE_DIR OUT_DIR [--set committed|heldout]
  REFERENCE_DIR holds DCLS/construct/modules.py (git archive of K-H-Ismail/Dilated-Convolution-with-
  Learnable-Spacings-PyTorch); OUT_DIR gets NAME.json, NAME.npz per case and index.json, in the layout of
  the shared golden directory (see its README): json keys module, version, in_channels, out_channels,
  kernel_count, dilated_kernel_size, stride, padding, groups, bias, padding_mode, plus dense_kernel_size
  (Dcls2_1d, Dcls3_1d), flat_dim (Dcls2dK1d), output_padding (DclsTranspose*). Arrays as there:
  x, weight, P, SIG, bias, gy, K, y, grad_x, grad_weight, grad_P, grad_SIG, grad_bias; P and SIG in the
  reference's own layout and axis order. K is the kernel given to the convolution (for Dcls2dK1d the 1D
  kernel with its flat axis, (Cout, Cin/g, L, 1) or (Cout, Cin/g, 1, L)).
"""
import json
import sys
import zipfile
import io

import numpy as np
import torch
import torch.nn.functional as F


def load_reference(ref_dir):
    sys.path.insert(0, ref_dir)
    from DCLS.construct import modules  # noqa: E402
    return modules


def case(name, module, version, cin, cout, count, dks, stride, padding, groups=1, bias=True,
         padding_mode="zeros", dense=None, flat_dim=None, output_padding=None, x_spatial=None, batch=2,
         seed=0, note=""):
    return dict(name=name, module=module, version=version, in_channels=cin, out_channels=cout,
                kernel_count=count, dilated_kernel_size=list(dks), stride=list(stride), padding=list(padding),
                groups=groups, bias=bias, padding_mode=padding_mode, dense_kernel_size=dense, flat_dim=flat_dim,
                output_padding=output_padding, x_spatial=list(x_spatial), batch=batch, seed=seed, note=note)


COMMITTED = [
    # Dcls2_1d: dense axis H (dense_kernel_size), learnable axis W (dilated_kernel_size).
    case("k2_1d_v1_g1", "Dcls2_1d", "v1", 3, 4, 3, [7], [1, 1], [1, 3], dense=[3], x_spatial=[5, 9], seed=1),
    case("k2_1d_max_g2_s2_reflect", "Dcls2_1d", "max", 4, 6, 2, [9], [2, 1], [1, 4], groups=2, dense=[3],
         padding_mode="reflect", x_spatial=[6, 11], seed=2),
    case("k2_1d_gauss_dw_circular", "Dcls2_1d", "gauss", 4, 4, 3, [11], [1, 2], [2, 5], groups=4, dense=[5],
         padding_mode="circular", x_spatial=[7, 13], seed=3),
    case("k2_1d_gauss_g1_replicate_nobias", "Dcls2_1d", "gauss", 2, 3, 4, [6], [1, 1], [0, 2], dense=[2],
         padding_mode="replicate", bias=False, x_spatial=[4, 10], seed=4),
    # Dcls3_1d: dense axes D, H; learnable axis W.
    case("k3_1d_v1_g1", "Dcls3_1d", "v1", 2, 3, 2, [5], [1, 1, 1], [1, 0, 2], dense=[3, 2], x_spatial=[4, 3, 7],
         seed=5),
    case("k3_1d_max_g2_s2", "Dcls3_1d", "max", 4, 2, 3, [7], [1, 2, 2], [0, 1, 3], groups=2, dense=[2, 3],
         x_spatial=[3, 5, 9], seed=6),
    case("k3_1d_gauss_dw_reflect", "Dcls3_1d", "gauss", 3, 3, 2, [9], [1, 1, 1], [1, 1, 4], groups=3,
         dense=[3, 3], padding_mode="reflect", x_spatial=[4, 5, 10], seed=7),
    # Dcls2dK1d: a 1D learnable kernel along H (flat_dim 0) or W (flat_dim 1).
    case("k2dk1d_v0_fd0", "Dcls2dK1d", "v0", 3, 4, 3, [7], [1, 1], [3, 0], flat_dim=0, x_spatial=[9, 5], seed=8),
    case("k2dk1d_v1_fd1_s2", "Dcls2dK1d", "v1", 2, 4, 2, [9], [1, 2], [0, 4], flat_dim=1, x_spatial=[3, 12],
         seed=9),
    case("k2dk1d_max_fd0_g2_replicate", "Dcls2dK1d", "max", 4, 4, 3, [5], [2, 1], [2, 1], groups=2, flat_dim=0,
         padding_mode="replicate", x_spatial=[8, 4], seed=10),
    case("k2dk1d_gauss_fd1_dw_circular", "Dcls2dK1d", "gauss", 3, 6, 2, [8], [1, 1], [1, 4], groups=3,
         flat_dim=1, padding_mode="circular", x_spatial=[5, 10], seed=11),
    # Transposed DCLS: the reference's constructed kernel through conv_transposeNd.
    case("t1_gauss_s2_op1", "DclsTranspose1d", "gauss", 3, 4, 3, [7], [2], [3], output_padding=[1],
         x_spatial=[6], seed=12),
    case("t2_v0_g2_s2", "DclsTranspose2d", "v0", 4, 6, 2, [5, 7], [2, 1], [2, 3], groups=2, output_padding=[1, 0],
         x_spatial=[4, 5], seed=13),
    case("t2_max_dw", "DclsTranspose2d", "max", 3, 3, 3, [7, 5], [1, 1], [3, 1], groups=3, output_padding=[0, 0],
         x_spatial=[5, 6], seed=14),
    case("t3_v1_s2", "DclsTranspose3d", "v1", 2, 3, 2, [3, 5, 5], [1, 2, 2], [1, 2, 1], output_padding=[0, 1, 1],
         x_spatial=[3, 3, 4], seed=15, bias=False),
]

HELDOUT = [
    case("h2_1d_v1_g3", "Dcls2_1d", "v1", 6, 3, 2, [13], [2, 2], [0, 6], groups=3, dense=[4],
         x_spatial=[9, 15], seed=101),
    case("h2_1d_gauss_reflect", "Dcls2_1d", "gauss", 2, 2, 5, [8], [1, 1], [1, 3], dense=[3],
         padding_mode="reflect", x_spatial=[6, 8], seed=102),
    case("h3_1d_gauss_g1_circular", "Dcls3_1d", "gauss", 2, 4, 3, [6], [1, 1, 2], [1, 1, 2], dense=[2, 2],
         padding_mode="circular", x_spatial=[3, 4, 9], seed=103),
    case("h3_1d_max_dw_replicate", "Dcls3_1d", "max", 2, 4, 2, [5], [2, 1, 1], [0, 1, 2], groups=2,
         dense=[1, 3], padding_mode="replicate", x_spatial=[5, 4, 6], seed=104),
    case("h2dk1d_v0_fd1_reflect", "Dcls2dK1d", "v0", 2, 2, 4, [11], [1, 1], [0, 5], flat_dim=1,
         padding_mode="reflect", x_spatial=[3, 12], seed=105),
    case("h2dk1d_gauss_fd0_s3", "Dcls2dK1d", "gauss", 3, 3, 2, [6], [3, 1], [2, 0], groups=3, flat_dim=0,
         x_spatial=[11, 4], seed=106),
    case("ht2_gauss_s3_op2", "DclsTranspose2d", "gauss", 2, 4, 3, [9, 5], [3, 2], [4, 2], output_padding=[2, 1],
         x_spatial=[3, 4], seed=107),
    case("ht1_v0_dw", "DclsTranspose1d", "v0", 4, 4, 2, [6], [1], [2], groups=4, output_padding=[0],
         x_spatial=[7], seed=108),
]


def conv_fn(nd):
    return {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]


def transpose_fn(nd):
    return {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[nd]


def build(modules, c):
    m = c["module"]
    common = dict(groups=c["groups"], bias=c["bias"], padding_mode=c["padding_mode"], version=c["version"])
    if m == "Dcls2_1d":
        return modules.Dcls2_1d(c["in_channels"], c["out_channels"], c["kernel_count"], stride=tuple(c["stride"]),
                                padding=tuple(c["padding"]), dense_kernel_size=tuple(c["dense_kernel_size"]),
                                dilated_kernel_size=tuple(c["dilated_kernel_size"]), **common)
    if m == "Dcls3_1d":
        return modules.Dcls3_1d(c["in_channels"], c["out_channels"], c["kernel_count"], stride=tuple(c["stride"]),
                                padding=tuple(c["padding"]), dense_kernel_size=tuple(c["dense_kernel_size"]),
                                dilated_kernel_size=tuple(c["dilated_kernel_size"]), **common)
    if m == "Dcls2dK1d":
        return modules.Dcls2dK1d(c["in_channels"], c["out_channels"], c["kernel_count"], stride=tuple(c["stride"]),
                                 padding=tuple(c["padding"]), dilated_kernel_size=tuple(c["dilated_kernel_size"]),
                                 flat_dim=c["flat_dim"], **common)
    raise ValueError(m)


class Transposed(torch.nn.Module):
    """Transposed DCLS as dcls4j defines it: weight (Cin, Cout/g, K), P and SIG (ndim, Cin, Cout/g, K) in the
    reference's layout, the reference's construction, then conv_transposeNd."""

    def __init__(self, modules, c):
        super().__init__()
        nd = len(c["dilated_kernel_size"])
        self.nd = nd
        self.c = c
        cin, cout, g, count = c["in_channels"], c["out_channels"], c["groups"], c["kernel_count"]
        ctor = {1: modules.ConstructKernel1d, 2: modules.ConstructKernel2d, 3: modules.ConstructKernel3d}[nd]
        # ConstructKernelNd(out_channels, in_channels, ...) builds (out, in/groups, ...): here (Cin, Cout/g, ...).
        self.DCK = ctor(cin, cout, g, count, tuple(c["dilated_kernel_size"]), c["version"])
        self.weight = torch.nn.Parameter(torch.empty(cin, cout // g, count))
        self.P = torch.nn.Parameter(torch.empty(nd, cin, cout // g, count))
        self.SIG = torch.nn.Parameter(torch.empty(nd, cin, cout // g, count)) if c["version"] in ("max", "gauss") \
            else None
        self.bias = torch.nn.Parameter(torch.empty(cout)) if c["bias"] else None

    def kernel(self):
        return self.DCK(self.weight, self.P, self.SIG)

    def forward(self, x):
        c = self.c
        return transpose_fn(self.nd)(x, self.kernel(), self.bias, tuple(c["stride"]), tuple(c["padding"]),
                                     tuple(c["output_padding"]), c["groups"])


def kernel_of(mod, c):
    if isinstance(mod, Transposed):
        return mod.kernel()
    K = mod.DCK(mod.weight, mod.P, mod.SIG)
    if c["module"] == "Dcls2dK1d":
        K = K.unsqueeze(-1 - c["flat_dim"])
    return K


def run(modules, c):
    torch.manual_seed(c["seed"])
    gen = np.random.default_rng(c["seed"])
    transposed = c["module"].startswith("DclsTranspose")
    mod = Transposed(modules, c) if transposed else build(modules, c)
    mod = mod.double()
    dks = c["dilated_kernel_size"]
    with torch.no_grad():
        mod.weight.copy_(torch.from_numpy(gen.uniform(-1, 1, mod.weight.shape)))
        P = np.empty(mod.P.shape)
        for i in range(P.shape[0]):
            lim = dks[i] // 2
            # a little beyond the clamp range, so some elements fall partly off the grid
            P[i] = gen.uniform(-lim - 0.6, lim + 0.6, P[i].shape)
        mod.P.copy_(torch.from_numpy(P))
        if mod.SIG is not None:
            mod.SIG.copy_(torch.from_numpy(gen.uniform(-0.8, 1.2, mod.SIG.shape)))
        if mod.bias is not None:
            mod.bias.copy_(torch.from_numpy(gen.uniform(-0.5, 0.5, mod.bias.shape)))
    x = torch.from_numpy(gen.standard_normal([c["batch"], c["in_channels"], *c["x_spatial"]])).requires_grad_(True)
    y = mod(x)
    gy = torch.from_numpy(gen.standard_normal(y.shape))
    (y * gy).sum().backward()
    with torch.no_grad():
        K = kernel_of(mod, c)
    arrays = {"x": x.detach(), "weight": mod.weight.detach(), "P": mod.P.detach()}
    if mod.SIG is not None:
        arrays["SIG"] = mod.SIG.detach()
    if mod.bias is not None:
        arrays["bias"] = mod.bias.detach()
    arrays.update(gy=gy, K=K, y=y.detach(), grad_x=x.grad, grad_weight=mod.weight.grad, grad_P=mod.P.grad)
    if mod.SIG is not None:
        arrays["grad_SIG"] = mod.SIG.grad
    if mod.bias is not None:
        arrays["grad_bias"] = mod.bias.grad
    arrays = {k: np.ascontiguousarray(v.numpy().astype("<f8")) for k, v in arrays.items()}
    return arrays


def write_case(out_dir, c, arrays):
    meta = {k: v for k, v in c.items() if v is not None and k not in ("x_spatial", "batch")}
    meta.update(dilation=[1] * len(c["stride"]), positions="random", dtype="float64", loss="sum(y * gy)",
                torch_version=torch.__version__, arrays={k: list(v.shape) for k, v in arrays.items()})
    with open(f"{out_dir}/{c['name']}.json", "w") as f:
        json.dump(meta, f, indent=1)
    with zipfile.ZipFile(f"{out_dir}/{c['name']}.npz", "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in arrays.items():
            buf = io.BytesIO()
            np.save(buf, v)
            z.writestr(k + ".npy", buf.getvalue())


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    ref_dir, out_dir = sys.argv[1], sys.argv[2]
    which = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--set" else "committed"
    cases = COMMITTED if which == "committed" else HELDOUT
    modules = load_reference(ref_dir)
    torch.set_default_dtype(torch.float64)
    for c in cases:
        write_case(out_dir, c, run(modules, c))
    with open(f"{out_dir}/index.json", "w") as f:
        json.dump({"cases": [c["name"] for c in cases],
                   "source": "DCLS PyTorch reference, DCLS/construct/modules.py, float64, torch " + torch.__version__,
                   "numpy_version": np.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
