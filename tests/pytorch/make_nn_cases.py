#!/usr/bin/env python3
"""Makes the PyTorch comparison cases of io.dcls4j.nn (tests/data/nn): small ConvNeXt-DCLS and ResNet-DCLS models.

The model is the OFFICIAL one, models/convnext_dcls.py of github:K-H-Ismail/ConvNeXt-dcls, imported from
its checkout, with the DCLS reference (DCLS/construct/modules.py of
github:K-H-Ismail/Dilated-Convolution-with-Learnable-Spacings-PyTorch). The official code hard-codes
version='v0' (bilinear); for the other interpolations its Dcls2d is wrapped to pass another version, so
each block gets its own SIG while the stage shares P, as the official code does. timm is replaced by the
three names the file imports (trunc_normal_, DropPath, register_model); drop_path_rate is 0 here, so
DropPath is never built.

Every parameter is filled at random (weights, positions inside the kernel, sigma, gamma of order 1, so
that every part of a block matters), rounded to float32, and the model runs in float64. Saved per case:
  <name>.json                 the configuration
  <name>.state.npz|.safetensors  model.state_dict() (official names; a stage's P under every block),
                              float64 .npz or float32 .safetensors by case, to test both readers
  <name>.npz                  x, labels, logits, loss, and grad.<name> for every named_parameters() entry
                              (the reference's P/SIG axis order, as the state)

Usage (Debian's python3-torch, torch 1.13):
  python3 tests/pytorch/make_nn_cases.py --dcls-ref /tmp/dcls-ref --convnext-ref /tmp/cnx --out tests/data/nn
where /tmp/dcls-ref holds the DCLS package and /tmp/cnx the models folder, e.g.
  git --git-dir=<mirror of the DCLS repo> archive HEAD DCLS | tar -x -C /tmp/dcls-ref
  git --git-dir=<mirror of ConvNeXt-dcls> archive HEAD models | tar -x -C /tmp/cnx
"""
import argparse
import importlib.util
import json
import struct
import sys
import types
import zlib

import numpy as np
import torch
import torch.nn.functional as F

VERSIONS = {"v0": "BILINEAR", "v1": "TRIANGLE", "max": "TRIANGLE_LEARNED_WIDTH", "gauss": "GAUSSIAN"}

# name, version, in_chans, num_classes, depths, dims, kernel size, kernel count, input size, batch,
# label smoothing, state format
CASES = [
    ("convnext_v0", "v0", 3, 5, [1, 2, 1, 1], [4, 8, 8, 12], 5, 3, 32, 2, 0.0, "safetensors"),
    ("convnext_v1", "v1", 3, 5, [2, 1, 1, 1], [4, 4, 8, 8], 5, 3, 32, 2, 0.0, "npz"),
    ("convnext_max", "max", 2, 4, [1, 1, 2, 1], [4, 8, 8, 8], 7, 2, 32, 2, 0.1, "npz"),
    ("convnext_gauss", "gauss", 3, 6, [2, 1, 1, 1], [8, 8, 8, 8], 5, 4, 48, 2, 0.1, "safetensors"),
]


def stub_timm():
    timm = types.ModuleType("timm")
    models = types.ModuleType("timm.models")
    layers = types.ModuleType("timm.models.layers")
    registry = types.ModuleType("timm.models.registry")
    layers.trunc_normal_ = lambda t, std=1.0: torch.nn.init.trunc_normal_(t, std=std)

    class DropPath(torch.nn.Module):  # never built: drop_path_rate is 0
        def __init__(self, p):
            raise RuntimeError("DropPath is not used by these cases")

    layers.DropPath = DropPath
    registry.register_model = lambda f: f
    for name, module in [("timm", timm), ("timm.models", models), ("timm.models.layers", layers),
                         ("timm.models.registry", registry)]:
        sys.modules[name] = module


def load_official(convnext_ref):
    spec = importlib.util.spec_from_file_location("convnext_dcls", f"{convnext_ref}/models/convnext_dcls.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def with_version(dcls2d, version):
    class VersionedDcls2d(dcls2d):  # a type: the official _init_weights tests isinstance(m, cDcls2d)
        def __init__(self, *args, **kwargs):
            kwargs["version"] = version
            kwargs["use_implicit_gemm"] = False
            super().__init__(*args, **kwargs)
    return VersionedDcls2d


def fill_at_random(model, generator, kernel_size):
    lim = kernel_size // 2
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".P"):
                p.copy_(torch.empty_like(p).uniform_(-lim, lim, generator=generator))
            elif name.endswith(".SIG"):
                p.copy_(torch.empty_like(p).uniform_(-0.8, 0.8, generator=generator))
            elif p.dim() == 1 and (name.endswith("gamma") or name.endswith("weight")):  # norms, layer scale
                p.copy_(torch.empty_like(p).uniform_(0.5, 1.5, generator=generator))
            elif p.dim() == 1:  # biases
                p.copy_(torch.empty_like(p).normal_(0, 0.2, generator=generator))
            else:  # weights: unit variance through each layer
                fan_in = p[0].numel()
                p.copy_(torch.empty_like(p).normal_(0, fan_in ** -0.5, generator=generator))
            p.copy_(p.float().double())  # exactly representable in float32


def write_safetensors(path, arrays):
    header, blobs, offset = {}, [], 0
    for name, a in arrays.items():
        data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def make_case(official, dcls2d, out, case):
    (name, version, in_chans, classes, depths, dims, ks, kc, size, batch, smoothing, fmt) = case
    official.cDcls2d = with_version(dcls2d, version)
    torch.manual_seed(0)
    model = official.ConvNeXt_dcls(in_chans=in_chans, num_classes=classes, depths=depths, dims=dims,
                                   drop_path_rate=0.0, layer_scale_init_value=1e-6,
                                   dcls_kernel_size=ks, dcls_kernel_count=kc)
    generator = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    model = model.double()
    # .double() makes new tensors: the stages share P again only if every block points at one
    for stage in model.stages:
        for block in stage:
            block.dwconv.P = stage[0].dwconv.P
    fill_at_random(model, generator, ks)
    x = torch.empty(batch, in_chans, size, size, dtype=torch.float64).uniform_(-1, 1, generator=generator)
    x = x.float().double()
    labels = torch.randint(0, classes, (batch,), generator=generator)
    logits = model(x)
    loss = F.cross_entropy(logits, labels, label_smoothing=smoothing)
    loss.backward()

    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    if fmt == "npz":
        np.savez(f"{out}/{name}.state.npz", **state)
    else:
        write_safetensors(f"{out}/{name}.state.safetensors", state)
    arrays = {"x": x.numpy().astype(np.float32), "labels": labels.numpy().astype(np.int64),
              "logits": logits.detach().numpy(), "loss": np.array([loss.item()])}
    for pname, p in model.named_parameters():
        arrays["grad." + pname] = p.grad.numpy()
    np.savez_compressed(f"{out}/{name}.npz", **arrays)
    config = {"interpolation": VERSIONS[version], "version": version, "in_chans": in_chans,
              "num_classes": classes, "depths": depths, "dims": dims, "dcls_kernel_size": ks,
              "dcls_kernel_count": kc, "input_size": size, "batch": batch, "label_smoothing": smoothing,
              "state": f"{name}.state.{fmt}", "torch": torch.__version__}
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(config, f, indent=1)
    print(name, "loss", loss.item(), "parameters", sum(1 for _ in model.named_parameters()))


# ResNet-DCLS: torchvision's ResNet layout and names, every 3x3 convolution of the blocks a Dcls2d (no bias,
# padding dks // 2, the block's stride). Written here (torchvision is not needed); Java: io.dcls4j.nn.ResNetDcls.
# name, version, bottleneck, stem, width, depths, kernel size, kernel count, input size, batch, format
RESNET_CASES = [
    ("resnet18_v0", "v0", False, "small", 4, [1, 1], 5, 3, 8, 4, "npz"),
    ("resnet18_v1", "v1", False, "small", 4, [2, 1], 5, 3, 8, 3, "safetensors"),
    ("resnet18_max", "max", False, "imagenet", 4, [1, 1], 3, 2, 16, 3, "npz"),
    ("resnet50_gauss", "gauss", True, "imagenet", 4, [1, 1], 5, 3, 16, 3, "safetensors"),
]


def make_resnet(dcls2d, version, bottleneck, stem, width, depths, ks, kc, in_chans, classes):
    nn = torch.nn

    def dcls(i, o, stride):
        return dcls2d(i, o, kernel_count=kc, dilated_kernel_size=ks, padding=ks // 2, stride=stride, bias=False,
                      version=version, use_implicit_gemm=False)

    def conv1x1(i, o, stride):
        return nn.Conv2d(i, o, 1, stride=stride, bias=False)

    class Block(nn.Module):
        def __init__(self, i, planes, stride):
            super().__init__()
            out = planes * (4 if bottleneck else 1)
            if bottleneck:
                self.conv1, self.bn1 = conv1x1(i, planes, 1), nn.BatchNorm2d(planes)
                self.conv2, self.bn2 = dcls(planes, planes, stride), nn.BatchNorm2d(planes)
                self.conv3, self.bn3 = conv1x1(planes, out, 1), nn.BatchNorm2d(out)
            else:
                self.conv1, self.bn1 = dcls(i, planes, stride), nn.BatchNorm2d(planes)
                self.conv2, self.bn2 = dcls(planes, planes, 1), nn.BatchNorm2d(planes)
            self.relu = nn.ReLU()
            self.downsample = None
            if stride != 1 or i != out:
                self.downsample = nn.Sequential(conv1x1(i, out, stride), nn.BatchNorm2d(out))

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            if bottleneck:
                y = self.bn3(self.conv3(self.relu(y)))
            return self.relu(y + (x if self.downsample is None else self.downsample(x)))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            k, st = (7, 2) if stem == "imagenet" else (3, 1)
            self.conv1 = nn.Conv2d(in_chans, width, k, stride=st, padding=k // 2, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, 2, 1) if stem == "imagenet" else nn.Identity()
            i = width
            for n, depth in enumerate(depths):
                blocks = []
                for j in range(depth):
                    blocks.append(Block(i, width << n, 2 if j == 0 and n > 0 else 1))
                    i = (width << n) * (4 if bottleneck else 1)
                setattr(self, f"layer{n + 1}", nn.Sequential(*blocks))
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(i, classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            for n in range(len(depths)):
                x = getattr(self, f"layer{n + 1}")(x)
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet()


def make_resnet_case(dcls2d, out, case):
    (name, version, bottleneck, stem, width, depths, ks, kc, size, batch, fmt) = case
    in_chans, classes = 3, 5
    torch.manual_seed(0)
    model = make_resnet(dcls2d, version, bottleneck, stem, width, depths, ks, kc, in_chans, classes).double()
    generator = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    fill_at_random(model, generator, ks)
    with torch.no_grad():
        for bname, b in model.named_buffers():
            if bname.endswith("running_mean"):
                b.copy_(torch.empty_like(b).normal_(0, 0.1, generator=generator).float().double())
            elif bname.endswith("running_var"):
                b.copy_(torch.empty_like(b).uniform_(0.5, 1.5, generator=generator).float().double())
            else:
                b.fill_(3)
    state = {k: v.detach().clone().numpy() for k, v in model.state_dict().items()}
    x = torch.empty(batch, in_chans, size, size, dtype=torch.float64).uniform_(-1, 1, generator=generator)
    x = x.float().double()
    labels = torch.randint(0, classes, (batch,), generator=generator)
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    model.eval()
    with torch.no_grad():
        logits_eval = model(x)

    if fmt == "npz":
        np.savez(f"{out}/{name}.state.npz", **state)
    else:
        write_safetensors(f"{out}/{name}.state.safetensors", state)
    arrays = {"x": x.numpy().astype(np.float32), "labels": labels.numpy().astype(np.int64),
              "logits": logits.detach().numpy(), "loss": np.array([loss.item()]),
              "logits_eval": logits_eval.numpy()}
    for pname, p in model.named_parameters():
        arrays["grad." + pname] = p.grad.numpy()
    for bname, b in model.named_buffers():
        if not bname.endswith("num_batches_tracked"):
            arrays["after." + bname] = b.numpy()
    np.savez_compressed(f"{out}/{name}.npz", **arrays)
    config = {"interpolation": VERSIONS[version], "version": version, "layout": "RESNET50" if bottleneck else "RESNET18",
              "stem": stem.upper(), "width": width, "depths": depths, "dcls_kernel_size": ks, "dcls_kernel_count": kc,
              "in_chans": in_chans, "num_classes": classes, "input_size": size, "batch": batch,
              "label_smoothing": 0.0, "state": f"{name}.state.{fmt}", "torch": torch.__version__}
    with open(f"{out}/{name}.json", "w") as f:
        json.dump(config, f, indent=1)
    print(name, "loss", loss.item(), "parameters", sum(1 for _ in model.named_parameters()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dcls-ref", required=True)
    parser.add_argument("--convnext-ref", required=True)
    parser.add_argument("--out", default="tests/data/nn")
    args = parser.parse_args()
    sys.path.insert(0, args.dcls_ref)
    stub_timm()
    from DCLS.construct.modules import Dcls2d
    official = load_official(args.convnext_ref)
    for case in CASES:
        make_case(official, Dcls2d, args.out, case)
    for case in RESNET_CASES:
        make_resnet_case(Dcls2d, args.out, case)


if __name__ == "__main__":
    main()
