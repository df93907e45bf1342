"""Developer tool: the reference residual CNN in PyTorch (16/32/64 channels, one basic block per
stage, grey input), its modules named as RadStream's checkpoints name them, so that a RadStream
classifier's safetensors load into it. Shared by bench_pytorch.py and stream_peer.py."""
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """A basic residual block, named as RadStream's checkpoints name it."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.projects = stride != 1 or cin != cout
        if self.projects:
            self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False)
            self.shortcut_bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        body = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(body + (self.shortcut_bn(self.shortcut(x)) if self.projects else x))


class Stem(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(1, width, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(width)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class ReferenceCNN(nn.Module):
    def __init__(self, channels=(16, 32, 64), classes=2):
        super().__init__()
        self.stem = Stem(channels[0])
        previous = channels[0]
        for stage, width in enumerate(channels):
            setattr(self, f"stage{stage + 1}", Block(previous, width, 1 if stage == 0 else 2))
            previous = width
        self.stages = len(channels)
        self.fc = nn.Linear(previous, classes)

    def forward(self, x):
        x = self.stem(x)
        for stage in range(self.stages):
            x = getattr(self, f"stage{stage + 1}")(x)
        return self.fc(x.mean(dim=(2, 3)))
