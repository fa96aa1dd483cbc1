"""The PyTorch DCLS reference (the peer) on bench_sparse's shapes, so that the two sit side by side.

Like shared/peer/dcls_torch_bench.py, with what those shapes need: sigma set to a given value
(the Gaussian at the end of training), positions spread uniformly over the kernel (after training)
or rounded (inference), and an input gradient on request (x.requires_grad, as in a stacked layer).

Usage: DCLS_SRC=<reference folder> /usr/bin/python3 bench_sparse_peer.py --version v1 --cin 700 \
    --cout 256 --kernel-count 1 --dks 25 --input 32 700 124 [--sigma 0.5] [--spread] [--round] \
    [--grad-x] [--groups G] [--padding P...] [--reps 5] [--threads 2] [--cpu-time]
Prints one line: forward_ms fwdbwd_ms (medians).
"""
import argparse, os, statistics, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--version", default="v1", choices=["v0", "v1", "max", "gauss"])
ap.add_argument("--cin", type=int, required=True)
ap.add_argument("--cout", type=int, required=True)
ap.add_argument("--groups", type=int, default=1)
ap.add_argument("--kernel-count", type=int, required=True)
ap.add_argument("--dks", type=int, nargs="+", required=True)
ap.add_argument("--padding", type=int, nargs="+", default=None)
ap.add_argument("--input", type=int, nargs="+", required=True)
ap.add_argument("--sigma", type=float, default=None)
ap.add_argument("--spread", action="store_true")
ap.add_argument("--round", action="store_true")
ap.add_argument("--grad-x", action="store_true")
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--warmup", type=int, default=2)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--cpu-time", action="store_true",
                help="process CPU time instead of wall time (with --threads 1: the work, on a busy machine)")
a = ap.parse_args()

sys.path.insert(0, os.environ["DCLS_SRC"])
import torch
from DCLS.construct import modules as M

torch.set_num_threads(a.threads)
nd = len(a.dks)
cls = {1: M.Dcls1d, 2: M.Dcls2d, 3: M.Dcls3d}[nd]
kw = dict(kernel_count=a.kernel_count, dilated_kernel_size=tuple(a.dks), groups=a.groups, version=a.version)
if a.padding: kw["padding"] = tuple(a.padding)
if nd == 2: kw["use_implicit_gemm"] = False
torch.manual_seed(0)
m = cls(a.cin, a.cout, **kw)
with torch.no_grad():
    if a.spread:
        for d in range(nd):
            lim = a.dks[d] // 2
            m.P[d].uniform_(-lim, a.dks[d] - 1 - lim - 1)
    if a.round:
        m.P.round_()
    if a.sigma is not None and hasattr(m, "SIG") and m.SIG is not None:
        m.SIG.fill_(a.sigma)
x = torch.randn(*a.input, requires_grad=a.grad_x)

clock = time.process_time if a.cpu_time else time.perf_counter
def med(fn):
    ts = []
    for r in range(a.reps + a.warmup):
        t0 = clock(); fn(); t1 = clock()
        if r >= a.warmup: ts.append((t1 - t0) * 1e3)
    return statistics.median(ts)

with torch.no_grad():
    forward = med(lambda: m(x))
gy = torch.randn_like(m(x))
def step():
    m.zero_grad()
    if x.grad is not None: x.grad = None
    m(x).backward(gy)
fwdbwd = med(step)
print(f"forward_ms {forward:.3f} fwdbwd_ms {fwdbwd:.3f}")
