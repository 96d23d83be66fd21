"""The tutorial's MNIST input pipeline, for the baselines of bench/autoencoder.py and bench/gan.py."""

from __future__ import annotations

import torch


class TutorialDigits(torch.utils.data.Dataset):
    """The same digits as uint8 PIL images, transformed per item as the tutorial's MNIST set is
    (ToTensor then Normalize([0.5], [0.5])): the per-image PIL cost our preloaded tensors avoid."""

    def __init__(self, images: torch.Tensor):
        from PIL import Image

        pixels = ((images.squeeze(1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
        self.images = [Image.fromarray(p) for p in pixels]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        import torchvision.transforms as tfs

        return tfs.Normalize([0.5], [0.5])(tfs.ToTensor()(self.images[i])), 0
