#!/usr/bin/env python3
"""Developer tool: the joint diffusion U-Net in RadStream's engine against the same network in
PyTorch on this machine, in one command. Runs `radstream benchmark diffusion` and the PyTorch
network below (two threads, float32, the same layers, widths, batches and optimiser) one after the
other, several rounds, and prints each round's ratios and their median: on a shared, noisy machine
a ratio measured within one round is what means something, not either figure alone.

    swift build -c release && python3 scripts/compare_unet_with_pytorch.py --rounds 3
"""
import argparse
import math
import pathlib
import re
import statistics
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent
MEASURES = ["training step, 64 denoised + 32 classified, Adam", "denoising pass, batch 64"]


class Block(nn.Module):
    """GroupNorm+SiLU, 3x3 conv, time projection added per channel, GroupNorm+SiLU, 3x3 conv, shortcut."""

    def __init__(self, inputs, outputs, time, groups):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, inputs), nn.Conv2d(inputs, outputs, 3, padding=1)
        self.time = nn.Linear(time, outputs)
        self.norm2, self.conv2 = nn.GroupNorm(groups, outputs), nn.Conv2d(outputs, outputs, 3, padding=1)
        self.shortcut = nn.Conv2d(inputs, outputs, 1) if inputs != outputs else nn.Identity()

    def forward(self, x, t):
        h = self.conv1(F.silu(self.norm1(x))) + self.time(t)[:, :, None, None]
        return self.conv2(F.silu(self.norm2(h))) + self.shortcut(x)


class UNet(nn.Module):
    def __init__(self, channels=(32, 64, 64), blocks=1, groups=8, time=128, classes=2, hidden=128):
        super().__init__()
        self.width = channels[0]
        self.time_in, self.time_out = nn.Linear(channels[0], time), nn.Linear(time, time)
        self.input = nn.Conv2d(1, channels[0], 3, padding=1)
        self.down, skips, width = nn.ModuleList(), [channels[0]], channels[0]
        for level, c in enumerate(channels):
            for _ in range(blocks):
                self.down.append(Block(width, c, time, groups)); width = c; skips.append(width)
            if level < len(channels) - 1:
                self.down.append(nn.Conv2d(width, width, 3, stride=2, padding=1)); skips.append(width)
        self.middle = nn.ModuleList([Block(width, width, time, groups), Block(width, width, time, groups)])
        self.up = nn.ModuleList()
        for level in reversed(range(len(channels))):
            for _ in range(blocks + 1):
                self.up.append(Block(width + skips.pop(), channels[level], time, groups)); width = channels[level]
            if level > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(width, width, 3, padding=1)))
        self.out_norm, self.out = nn.GroupNorm(groups, width), nn.Conv2d(width, 1, 3, padding=1)
        pooled = sum(channels) * blocks + channels[-1]
        self.head = nn.Sequential(nn.Linear(pooled, hidden), nn.SiLU(), nn.Linear(hidden, classes))

    def embed(self, steps):
        half = self.width // 2
        frequencies = torch.exp(-math.log(10000) * torch.arange(half) / half)
        angles = steps[:, None].float() * frequencies[None]
        e = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
        return F.silu(self.time_out(F.silu(self.time_in(e))))

    def encode(self, x, steps):
        t = self.embed(steps)
        x = self.input(x)
        skips, pooled = [x], []
        for layer in self.down:
            if isinstance(layer, Block):
                x = layer(x, t); pooled.append(x.mean(dim=(2, 3)))
            else:
                x = layer(x)
            skips.append(x)
        for layer in self.middle:
            x = layer(x, t)
        pooled.append(x.mean(dim=(2, 3)))
        return x, skips, t, torch.cat(pooled, dim=1)

    def forward(self, x, steps):
        x, skips, t, _ = self.encode(x, steps)
        for layer in self.up:
            x = layer(torch.cat([x, skips.pop()], dim=1), t) if isinstance(layer, Block) else layer(x)
        return self.out(F.silu(self.out_norm(x)))

    def logits(self, x):
        return self.head(self.encode(x, torch.zeros(x.shape[0], dtype=torch.long))[3])


def rate(body, seconds):
    body()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        body(); calls += 1
    return calls / (time.perf_counter() - start)


def pytorch(seconds):
    torch.set_num_threads(2)
    torch.manual_seed(1)
    network = UNet()
    noised, noise, clean = torch.randn(64, 1, 28, 28), torch.randn(64, 1, 28, 28), torch.randn(32, 1, 28, 28)
    steps = (torch.arange(64) * 997) % 1000
    labels = torch.arange(32) % 2
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-4)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(network(noised, steps), noise) + 1e-3 * F.cross_entropy(network.logits(clean), labels)
        loss.backward()
        optimizer.step()

    training = rate(step, seconds) * 64
    with torch.inference_mode():
        denoising = rate(lambda: network(noised, steps), seconds) * 64
    return {MEASURES[0]: training, MEASURES[1]: denoising}, sum(p.numel() for p in network.parameters())


def radstream(binary, seconds):
    output = subprocess.run([binary, "benchmark", "diffusion", "--seconds", str(seconds)], check=True, capture_output=True, text=True).stdout
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (.+?) \| (\d+) \|$", output, re.M)}, output


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "radstream"))
    arguments = parser.parse_args()
    ratios = {m: [] for m in MEASURES}
    for round_number in range(1, arguments.rounds + 1):
        (ours, text), (theirs, parameters) = radstream(arguments.binary, arguments.seconds), pytorch(arguments.seconds)
        print(f"round {round_number} (PyTorch {torch.__version__}, {parameters} parameters; {text.splitlines()[0]})")
        for measure in MEASURES:
            ratio = ours[measure] / theirs[measure]
            ratios[measure].append(ratio)
            print(f"  {measure}: RadStream {ours[measure]:.0f} films/s, PyTorch {theirs[measure]:.0f} films/s, ratio {ratio:.2f}")
    print(f"\n| joint diffusion U-Net, films/s | RadStream / PyTorch (2 threads), median of {arguments.rounds} rounds | range |")
    print("|---|---|---|")
    for measure in MEASURES:
        values = ratios[measure]
        print(f"| {measure} | {statistics.median(values):.2f} | {min(values):.2f}–{max(values):.2f} |")


if __name__ == "__main__":
    main()
