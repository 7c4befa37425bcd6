"""PyTorch peer of `audiotag bench train|infer`: CNN-model-1 with the same definition, init scheme
(PyTorch defaults, which src/nn reproduces), threads, batch, input size, optimiser (Adam) and timing rule
(the median of per-step times after two warm-up steps).

    /usr/bin/python3 bench/peers/torch_cnn.py --mode train --batch 32 --size 64 --steps 10 --threads 2

Prints one JSON line. Run with Debian's python3-torch (1.13), the same libtorch the engine binds."""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, bias=False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=bias)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=bias)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.avg_pool2d(x, 2)


class CnnModel1(nn.Module):
    """The same module tree (and so the same state-dict keys) as src/models/cnn-model-1.ts."""

    def __init__(self, in_channels=3, num_classes=80, channels=(64, 128, 256, 512), hidden=512,
                 dropout=(0.25, 0.5), conv_bias=False):
        super().__init__()
        blocks, cin = [], in_channels
        for c in channels:
            blocks.append(ConvBlock(cin, c, conv_bias))
            cin = c
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.BatchNorm1d(2 * cin), nn.Dropout(dropout[0]), nn.Linear(2 * cin, hidden), nn.ReLU(),
            nn.BatchNorm1d(hidden), nn.Dropout(dropout[1]), nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        f = self.features(x)
        pooled = torch.cat([F.adaptive_avg_pool2d(f, 1).flatten(1), F.adaptive_max_pool2d(f, 1).flatten(1)], 1)
        return self.head(pooled)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--mode', choices=['train', 'infer'], default='train')
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, default=0, help='0 = torch default (all cores)')
    p.add_argument('--classes', type=int, default=80)
    p.add_argument('--device', default='cpu')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--memory-format', default='contiguous', choices=['contiguous', 'channels-last'])
    p.add_argument('--precision', default='fp32', choices=['fp32', 'bf16'])
    a = p.parse_args()

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    model = CnnModel1(num_classes=a.classes).to(dev)
    x = torch.randn(a.batch, 3, a.size, a.size, device=dev)
    y = torch.randint(0, a.classes, (a.batch,), device=dev)
    if a.memory_format == 'channels-last':
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    bf16 = a.precision == 'bf16'

    def forward():
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            return model(x)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)

    if a.mode == 'train':
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(forward().float(), y)
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                forward()

    times, cpu, sys_, faults = [], [], [], []
    for i in range(a.warmup + a.steps):
        r0 = resource.getrusage(resource.RUSAGE_SELF)  # all the process's threads, as Node's resourceUsage()
        t0 = time.perf_counter()
        step()
        sync()
        dt = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        if i >= a.warmup:
            times.append(dt)
            cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
            sys_.append(r1.ru_stime - r0.ru_stime)
            faults.append(r1.ru_minflt - r0.ru_minflt)
    ms = statistics.median(times) * 1000
    print(json.dumps({
        'impl': 'torch', 'torch_version': torch.__version__, 'mode': a.mode, 'model': 'cnn-model-1',
        'batch': a.batch, 'size': a.size, 'steps': a.steps, 'threads': torch.get_num_threads(),
        'device': a.device, 'ms_per_step': round(ms, 3),
        'cpu_ms_per_step': round(statistics.median(cpu) * 1000, 3), 'samples_per_s': round(a.batch / ms * 1000, 3),
        'sys_ms_per_step': round(statistics.median(sys_) * 1000, 3), 'minflt_per_step': statistics.median(faults),
        'max_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        'memory_format': a.memory_format, 'precision': a.precision,
        'allocator': 'environment' if os.environ.get('MALLOC_MMAP_THRESHOLD_') else 'glibc-default',
    }))


if __name__ == '__main__':
    main()
