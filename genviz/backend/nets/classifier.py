"""A small CNN digit classifier, used to measure samples (confidence, class histogram, Fréchet
distance in its feature space) and to show, live, which digit a chain is deciding on."""
from __future__ import annotations

import torch
from torch import nn


class DigitCNN(nn.Module):
    """(N, C, S, S) in [-1, 1] -> (N, K) logits; ``features`` gives the (N, feat) penultimate layer.

    ``size`` S must be a multiple of 4 (28 for MNIST, 32 for the emoji data); it is stored in the config
    only when it is not 28, so earlier checkpoints keep loading.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 32, feat: int = 128,
                 size: int = 28):
        super().__init__()
        self.config = dict(in_channels=in_channels, num_classes=num_classes, width=width, feat=feat)
        if size != 28:
            self.config["size"] = size
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(2 * w * (size // 4) ** 2, feat), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(feat, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
