#!/usr/bin/env python3
"""Developer tool: writes Tests/TensorEngineTests/Fixtures/golden_*.safetensors with PyTorch.

Not run by the tests (they need no Python); requires torch and safetensors. Each file holds a
tiny network's initial parameters, its input and targets, its output, the loss, every
parameter's gradient after one backward pass, and the losses of four AdamW steps. The Swift
tests rebuild the same network on RadStream's engine and must agree within a tolerance.
"""
import pathlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "TensorEngineTests" / "Fixtures"


class TinyCNN(nn.Module):
    """conv 3×3 (1→4, padding 1) → batch norm → ReLU → max pool 2 → linear (16 → 3)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(F.max_pool2d(F.relu(self.bn(self.conv(x))), 2).flatten(1))


class TinyDecoder(nn.Module):
    """Embedding (7 → 8) + learned positions → one causal attention head (residual) →
    layer norm → MLP with GELU (residual) → logits over the vocabulary."""

    def __init__(self, vocabulary=7, width=8, length=5):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, width)
        self.position = nn.Parameter(torch.randn(length, width) * 0.1)
        self.q, self.k, self.v = (nn.Linear(width, width) for _ in range(3))
        self.norm = nn.LayerNorm(width)
        self.up, self.down = nn.Linear(width, 16), nn.Linear(16, width)
        self.out = nn.Linear(width, vocabulary)

    def forward(self, tokens):
        x = self.embed(tokens) + self.position
        attention = F.scaled_dot_product_attention(self.q(x), self.k(x), self.v(x), is_causal=True)
        x = x + attention
        h = self.norm(x)
        x = x + self.down(F.gelu(self.up(h)))
        return self.out(x)


def record(name, model, inputs, targets, loss_function):
    tensors = {f"param.{k}": v.detach().clone().contiguous() for k, v in model.named_parameters()}
    tensors["input"] = inputs.float()
    tensors["target"] = targets.float()
    output = model(inputs)
    loss = loss_function(output, targets)
    loss.backward()
    tensors["output"] = output.detach()
    tensors["loss"] = loss.detach().reshape(1)
    tensors.update({f"grad.{k}": v.grad.detach().clone() for k, v in model.named_parameters()})
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.01)
    model.zero_grad()
    losses = []
    for _ in range(4):
        optimizer.zero_grad()
        step_loss = loss_function(model(inputs), targets)
        losses.append(step_loss.item())
        step_loss.backward()
        optimizer.step()
    tensors["adamw_losses"] = torch.tensor(losses)
    save_file(tensors, OUT / f"golden_{name}.safetensors", metadata={"generator": "scripts/make_golden_fixtures.py",
                                                                     "torch": torch.__version__})


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    cnn = TinyCNN()
    images = torch.randn(6, 1, 4, 4)
    labels = torch.tensor([0, 1, 2, 1, 0, 2])
    record("cnn", cnn, images, labels, F.cross_entropy)

    torch.manual_seed(1)
    decoder = TinyDecoder()
    tokens = torch.tensor([3, 1, 4, 1, 5])
    following = torch.tensor([1, 4, 1, 5, 6])
    record("decoder", decoder, tokens, following, F.cross_entropy)


if __name__ == "__main__":
    main()
