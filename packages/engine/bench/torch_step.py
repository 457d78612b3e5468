# The recipes/small.json model in PyTorch on the CPU: the same llama-style decoder
# (RMSNorm, RoPE on halves, SwiGLU, causal attention, untied head), AdamW and
# gradient clipping at 1.0. Prints {"msPerStep": ..., "threads": ...}.
import json, math, sys, time
import torch
import torch.nn.functional as F

recipe = json.load(open(sys.argv[1]))
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.set_num_threads(threads)
m = recipe["model"]
d, layers, heads, hidden, ctx, vocab = m["dModel"], m["layers"], m["heads"], m["hidden"], m["context"], m["vocab"]
batch = recipe["batchSize"]
dh = d // heads


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attn_norm = torch.nn.Parameter(torch.ones(d))
        self.wq = torch.nn.Linear(d, d, bias=False)
        self.wk = torch.nn.Linear(d, d, bias=False)
        self.wv = torch.nn.Linear(d, d, bias=False)
        self.wo = torch.nn.Linear(d, d, bias=False)
        self.mlp_norm = torch.nn.Parameter(torch.ones(d))
        self.w1 = torch.nn.Linear(d, hidden, bias=False)
        self.w3 = torch.nn.Linear(d, hidden, bias=False)
        self.w2 = torch.nn.Linear(hidden, d, bias=False)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


def rope(x, cos, sin):
    x1, x2 = x[..., : dh // 2], x[..., dh // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        self.blocks = torch.nn.ModuleList([Block() for _ in range(layers)])
        self.final_norm = torch.nn.Parameter(torch.ones(d))
        self.head = torch.nn.Linear(d, vocab, bias=False)
        freq = 10000.0 ** (-torch.arange(0, dh // 2) * 2 / dh)
        angle = torch.arange(ctx)[:, None] * freq[None, :]
        self.register_buffer("cos", angle.cos())
        self.register_buffer("sin", angle.sin())
        self.register_buffer("mask", torch.full((ctx, ctx), float("-inf")).triu(1))

    def forward(self, idx):
        b, t = idx.shape
        x = self.embed(idx)
        for blk in self.blocks:
            h = rms(x, blk.attn_norm)
            split = lambda y: y.view(b, t, heads, dh).transpose(1, 2)
            q, k, v = rope(split(blk.wq(h)), self.cos, self.sin), rope(split(blk.wk(h)), self.cos, self.sin), split(blk.wv(h))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + self.mask, -1)
            x = x + blk.wo((att @ v).transpose(1, 2).reshape(b, t, d))
            h = rms(x, blk.mlp_norm)
            x = x + blk.w2(F.silu(blk.w1(h)) * blk.w3(h))
        return self.head(rms(x, self.final_norm))


torch.manual_seed(0)
model = Model()
params = sum(p.numel() for p in model.parameters())
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
data = torch.randint(0, vocab, (batch, ctx + 1))


def step():
    logits = model(data[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, vocab), data[:, 1:].reshape(-1))
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


for _ in range(3):
    step()
times = []
for _ in range(10):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
times.sort()
print(json.dumps({"msPerStep": times[len(times) // 2] * 1000, "threads": threads, "parameters": params, "torch": torch.__version__}))
