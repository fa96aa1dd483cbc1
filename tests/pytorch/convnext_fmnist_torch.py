#!/usr/bin/python3
"""The peer of `dcls4j train --conv dense`: the same small ConvNeXt (stem 2x2/2 + LayerNorm, one block per stage of
dims 32/64/128 with a dense 7x7 depthwise convolution, LayerNorm, Linear 4x, GELU, Linear, layer scale), the same
recipe (AdamW lr 4e-3, weight decay 0.05 on weights only, 200 warm-up steps then cosine to 1e-3 of the peak,
batch 128, random flips (and with CROP=1 in the environment a random crop with 2 px padding, as `dcls4j train
--crop-padding 2`), the dataset's normalization) on Fashion-MNIST in PyTorch, 2 threads.
Prints train loss, test accuracy and images/s per epoch.

With CONV=dcls the depthwise convolution is the DCLS reference's Dcls2d (gauss, 7x7, K=9, as `dcls4j train`'s
default; DCLS_SRC holds its DCLS package, e.g. `git archive HEAD DCLS` of its repository), and MAX_STEPS stops
an epoch early, to time the throughput without waiting for a whole epoch.

Usage: /usr/bin/python3 tests/pytorch/convnext_fmnist_torch.py [LAYER_SCALE_INIT=1.0] [EPOCHS=1] [CONV=dense|dcls]
           [DCLS_SRC] [MAX_STEPS]
"""
import gzip, numpy as np, os, torch, torch.nn as nn, torch.nn.functional as F, time, math, sys
torch.set_num_threads(2); torch.manual_seed(1)
def idx(p, off): return np.frombuffer(gzip.open(p).read(), np.uint8, offset=off)
d='/usr/share/datasets/fashion-mnist/'
xtr=idx(d+'train-images-idx3-ubyte.gz',16).reshape(-1,1,28,28); ytr=idx(d+'train-labels-idx1-ubyte.gz',8)
xte=idx(d+'t10k-images-idx3-ubyte.gz',16).reshape(-1,1,28,28); yte=idx(d+'t10k-labels-idx1-ubyte.gz',8)
norm=lambda x: (torch.tensor(x,dtype=torch.float32)/255-0.2860406)/0.3530242
Xtr,Ytr,Xte,Yte=norm(xtr),torch.tensor(ytr,dtype=torch.long),norm(xte),torch.tensor(yte,dtype=torch.long)
class LN2d(nn.Module):
    def __init__(s,c): super().__init__(); s.ln=nn.LayerNorm(c,eps=1e-6)
    def forward(s,x): return s.ln(x.permute(0,2,3,1)).permute(0,3,1,2)
CONV=sys.argv[3] if len(sys.argv)>3 else 'dense'
if CONV=='dcls':
    sys.path.insert(0,sys.argv[4]); from DCLS.construct.modules import Dcls2d
MAX_STEPS=int(sys.argv[5]) if len(sys.argv)>5 else 0
def depthwise(c):
    if CONV=='dcls': return Dcls2d(c,c,kernel_count=9,padding=3,dilated_kernel_size=7,groups=c,version='gauss',use_implicit_gemm=False)
    return nn.Conv2d(c,c,7,padding=3,groups=c)
class Block(nn.Module):
    def __init__(s,c,ls):
        super().__init__(); s.dw=depthwise(c); s.n=nn.LayerNorm(c,eps=1e-6); s.p1=nn.Linear(c,4*c); s.p2=nn.Linear(4*c,c); s.g=nn.Parameter(ls*torch.ones(c))
    def forward(s,x):
        y=s.dw(x).permute(0,2,3,1); y=s.p2(F.gelu(s.p1(s.n(y))))*s.g; return x+y.permute(0,3,1,2)
ls=float(sys.argv[1]) if len(sys.argv)>1 else 1.0
dims=[32,64,128]
layers=[nn.Conv2d(1,32,2,2),LN2d(32),Block(32,ls),LN2d(32),nn.Conv2d(32,64,2,2),Block(64,ls),LN2d(64),nn.Conv2d(64,128,2,2),Block(128,ls)]
class Net(nn.Module):
    def __init__(s): super().__init__(); s.f=nn.Sequential(*layers); s.n=nn.LayerNorm(128,eps=1e-6); s.h=nn.Linear(128,10)
    def forward(s,x): return s.h(s.n(s.f(x).mean((2,3))))
m=Net()
for mod in m.modules():
    if type(mod) in (nn.Conv2d,nn.Linear): nn.init.trunc_normal_(mod.weight,std=.02); nn.init.zeros_(mod.bias)
dec=[p for p in m.parameters() if p.dim()>=2]; nod=[p for p in m.parameters() if p.dim()<2]
opt=torch.optim.AdamW([{'params':dec,'weight_decay':0.05},{'params':nod,'weight_decay':0}],lr=4e-3)
B=128; epochs=int(sys.argv[2]) if len(sys.argv)>2 else 1; steps=epochs*(60000//B); warm=200
sched=torch.optim.lr_scheduler.LambdaLR(opt,lambda s: (s+1)/warm if s<warm else 1e-3+(1-1e-3)*0.5*(1+math.cos(math.pi*(s-warm)/(steps-warm))))
g=torch.Generator().manual_seed(1); step=0
for ep in range(epochs):
    t=time.time(); perm=torch.randperm(60000,generator=g); tl=0; n=0
    for b in range(60000//B):
        if MAX_STEPS and b==MAX_STEPS: break
        n+=B
        i=perm[b*B:(b+1)*B]; x=Xtr[i]
        if os.environ.get('CROP','0')=='1':
            x=F.pad(x,(2,2,2,2),value=float(Xtr.min())); dy,dx=np.random.randint(0,5,2); x=x[:,:,dy:dy+28,dx:dx+28]
        if np.random.rand()<.5: x=x.flip(3)
        loss=F.cross_entropy(m(x),Ytr[i]); opt.zero_grad(); loss.backward(); opt.step(); sched.step(); tl+=loss.item()
    train_s=time.time()-t
    with torch.no_grad(): acc=(m(Xte).argmax(1)==Yte).float().mean().item()
    print(f"epoch {ep+1} train loss {tl/(n//B):.4f} test acc {acc:.4f} {train_s:.1f}s {n/train_s:.0f} img/s (training)", flush=True)
