"""The PyTorch side of `npm run bench:peer` (harness/peer/bench.ts starts it).

The same workloads as harness/peer/workloads.ts, same shapes, fp32, on the CPU. Reads one JSON
request per line on stdin ({"workload": name, "steps": n}) and answers one JSON line with the
milliseconds of each step, so the driver can interleave it with the middlepath side. The first
line it prints says which PyTorch and which BLAS library it loaded.
Threads: torch.set_num_threads(THREADS); the driver also sets OPENBLAS_NUM_THREADS/OMP_NUM_THREADS.
"""
import ctypes
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

THREADS = int(os.environ.get("THREADS", "1"))
torch.set_num_threads(THREADS)
torch.manual_seed(0)


def loaded_blas():
    """The BLAS shared object this process mapped (after a matmul ran), and OpenBLAS's kernel."""
    torch.mm(torch.randn(64, 64), torch.randn(64, 64))
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if any(s in p for s in ("blas", "blis", "mkl")):
                paths.add(p)
    kernel = None
    for p in sorted(paths):
        try:
            lib = ctypes.CDLL(p)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            kernel = f"{lib.openblas_get_config().decode()} · kernel {lib.openblas_get_corename().decode()}"
            break
        except (OSError, AttributeError):
            continue
    return sorted(paths), kernel


def mlp():
    w1 = torch.nn.Linear(512, 2048)
    w2 = torch.nn.Linear(2048, 512)
    x = torch.randn(256, 512)
    y = torch.randint(0, 512, (256,))
    opt = torch.optim.Adam([*w1.parameters(), *w2.parameters()], lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(w2(F.relu(w1(x))), y)
        loss.backward()
        opt.step()

    return step


def square():
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    return lambda: torch.mm(a, b)


class Ffn(torch.nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.up = torch.nn.Linear(d, h)
        self.down = torch.nn.Linear(h, d)

    def forward(self, x):
        return self.down(F.relu(self.up(x)))


def ffn_layer(rows, d, hidden):
    """A dense FFN d → hidden → d: a MoE layer's same-active dense, forward + backward incl. the input gradient."""
    f = Ffn(d, hidden)
    x0 = torch.randn(rows, d)

    def step():
        x = x0.clone().requires_grad_(True)
        loss = f(x).square().mean()
        for p in f.parameters():
            p.grad = None
        loss.backward()

    return step


def moe_layer(rows, d, experts, hidden):
    """Top-1 softmax routing, dropless, index-based dispatch (sort by expert, per-expert FFN on slices,
    gate-weighted scatter back): the same algorithm as harness/nn/moe.ts."""
    router = torch.nn.Linear(d, experts, bias=False)
    torch.nn.init.normal_(router.weight, std=math.sqrt(0.1 / d))
    ffns = torch.nn.ModuleList([Ffn(d, hidden) for _ in range(experts)])
    x0 = torch.randn(rows, d)

    def step():
        x = x0.clone().requires_grad_(True)
        probs = F.softmax(router(x), dim=-1)
        gate, choice = probs.max(dim=-1)
        order = torch.argsort(choice, stable=True)
        counts = torch.bincount(choice, minlength=experts).tolist()
        xs = x[order]
        outs = [ffns[e](piece) for e, piece in enumerate(torch.split(xs, counts)) if piece.shape[0] > 0]
        ys = torch.cat(outs) * gate[order].unsqueeze(1)
        out = torch.zeros_like(x).index_add(0, order, ys)
        loss = out.square().mean()
        for p in [*router.parameters(), *ffns.parameters()]:
            p.grad = None
        loss.backward()

    return step


class Block(torch.nn.Module):
    def __init__(self, d, heads, length):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(d, eps=1e-5)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.norm2 = torch.nn.LayerNorm(d, eps=1e-5)
        self.up = torch.nn.Linear(d, 4 * d)
        self.down = torch.nn.Linear(4 * d, d)
        self.register_buffer("mask", torch.triu(torch.full((length, length), -1e9), diagonal=1))

    def attention(self, x):
        b, n, d = x.shape
        hd = d // self.heads
        q, k, v = (t.reshape(b, n, self.heads, hd).transpose(1, 2) for t in self.qkv(x).split(d, dim=-1))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + self.mask[:n, :n]
        return self.proj((F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, n, d))

    def forward(self, h):
        h = h + self.attention(self.norm1(h))
        return h + self.down(F.gelu(self.up(self.norm2(h)), approximate="tanh"))


def charlm(vocab, length, width, depth, heads, batch):
    """baselines/dense.ts on charlm: a pre-LN GPT-2-style transformer, learned positions, Adam."""

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = torch.nn.Embedding(vocab, width)
            self.positions = torch.nn.Embedding(length, width)
            self.blocks = torch.nn.ModuleList([Block(width, heads, length) for _ in range(depth)])
            self.norm = torch.nn.LayerNorm(width)
            self.head = torch.nn.Linear(width, vocab)

        def forward(self, ids):
            h = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
            for b in self.blocks:
                h = b(h)
            return self.head(self.norm(h))

    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    ids = torch.randint(0, vocab, (batch, length))
    targets = torch.randint(0, vocab, (batch, length))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(ids).reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        opt.step()

    return step


def build(spec):
    kind = spec["kind"]
    if kind == "square":
        return square()
    if kind == "mlp":
        return mlp()
    if kind == "ffn":
        return ffn_layer(spec["rows"], spec["d"], spec["hidden"])
    if kind == "moe":
        return moe_layer(spec["rows"], spec["d"], spec["experts"], spec["hidden"])
    if kind == "charlm":
        return charlm(spec["vocab"], spec["length"], spec["width"], spec["depth"], spec["heads"], spec["batch"])
    raise ValueError(f"unknown workload kind {kind}")


def main():
    paths, kernel = loaded_blas()
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": paths, "kernel": kernel}), flush=True)
    steps = {}
    for line in sys.stdin:
        req = json.loads(line)
        if "define" in req:
            steps[req["define"]] = build(req["spec"])
            steps[req["define"]]()  # warm-up (allocations, first-call setup)
            print(json.dumps({"ok": True}), flush=True)
            continue
        step = steps[req["workload"]]
        ms = []
        for _ in range(req["steps"]):
            t = time.perf_counter()
            step()
            ms.append((time.perf_counter() - t) * 1000)
        print(json.dumps({"ms": ms}), flush=True)


if __name__ == "__main__":
    main()
