#!/usr/bin/env python3
"""Developer tool: the PyTorch side of `radstream benchmark engine` — the same reference residual
CNN (16/32/64, one basic block per stage, 28×28 grey, 2 classes), 2 threads, same batch sizes.
Run both in one sitting on the same machine and compare the ratios.

Each figure is given twice: with PyTorch's default NCHW memory, and with channels-last (NHWC)
memory for the model and its inputs, which is how a performance-minded user runs a CNN on a CPU
(oneDNN's convolutions prefer it)."""
import time

import torch
import torch.nn.functional as F

from reference_cnn import ReferenceCNN

torch.set_num_threads(2)


def rate(body, seconds=3.0):
    body()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        body()
        calls += 1
    return calls / (time.perf_counter() - start)


def measure(suffix, memory_format):
    torch.manual_seed(0)
    model = ReferenceCNN().to(memory_format=memory_format)
    images = torch.rand(128, 1, 28, 28).contiguous(memory_format=memory_format)
    labels = torch.arange(128) % 2
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()

    print(f"training, batch 128, Adam{suffix}: {rate(step) * 128:.0f} images/s")
    model.eval()
    one = torch.rand(1, 1, 28, 28).contiguous(memory_format=memory_format)
    many = torch.rand(256, 1, 28, 28).contiguous(memory_format=memory_format)
    with torch.no_grad():
        print(f"inference, batch 1{suffix}: {rate(lambda: model(one)):.0f} images/s")
        print(f"inference, batch 256{suffix}: {rate(lambda: model(many)) * 256:.0f} images/s")


def main():
    print(f"parameters: {sum(p.numel() for p in ReferenceCNN().parameters())}")
    measure("", torch.contiguous_format)
    measure(", channels-last", torch.channels_last)


if __name__ == "__main__":
    main()
