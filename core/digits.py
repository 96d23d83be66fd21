"""The tutorial's digits CNN (4.5), trained on the bundled MNIST digits.

Four conv-BN-ReLU blocks (16, 32, 64, 128 channels, 3x3 kernels, no padding) with 2x2 max-pooling
after the second and fourth, then 1024-128-10 fully connected. One model serves two pages: the CNN
page shows its feature maps, and the GAN page uses it as the judge of generated digits (``judge``:
which digits, how sure, how varied). It has no page of its own, but follows the topic contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.device import get_device, model_device
from core.mnist import load_digits
from core.training import OnStep, fit, make_optimizer, seed_everything

N_JUDGED = 500  # samples the judge labels for the GAN page's quality meter


@dataclass(frozen=True)
class Config:
    epochs: int = 4  # the tutorial runs 5 epochs over 60k digits; 4 over 4k reach ~97 %
    batch_size: int = 64  # tutorial value
    lr: float = 0.05  # tutorial: SGD 1e-2 over 60k digits; fewer digits need a larger step
    optimizer: str = "SGD+momentum"
    test_fraction: float = 0.2
    data_seed: int = 0
    seed: int = 0
    version: int = 1  # bump when training code changes, so caches retrain

    @classmethod
    def tiny(cls) -> Config:
        return cls(epochs=1)


class DigitsCNN(nn.Module):
    """(B, 1, 28, 28) in [-1, 1] -> (B, 10) logits."""

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(nn.Conv2d(1, 16, 3), nn.BatchNorm2d(16), nn.ReLU())  # (B,16,26,26)
        self.layer2 = nn.Sequential(nn.Conv2d(16, 32, 3), nn.BatchNorm2d(32), nn.ReLU(),
                                    nn.MaxPool2d(2, 2))  # (B,32,12,12)
        self.layer3 = nn.Sequential(nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.ReLU())  # (B,64,10,10)
        self.layer4 = nn.Sequential(nn.Conv2d(64, 128, 3), nn.BatchNorm2d(128), nn.ReLU(),
                                    nn.MaxPool2d(2, 2))  # (B,128,4,4)
        self.fc = nn.Sequential(nn.Linear(128 * 4 * 4, 1024), nn.ReLU(), nn.Linear(1024, 128), nn.ReLU(),
                                nn.Linear(128, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.flatten(1))


# Shipped in assets/checkpoints (fp16, ~4 MB): the GAN page's judge must be ready at first view.
# Regenerate with: python -m core.make_checkpoints digits
BUNDLE_CONFIGS = (Config(),)


def build_model(cfg: Config) -> DigitsCNN:
    torch.manual_seed(cfg.seed)
    return DigitsCNN()


def train(cfg: Config, *, on_step: OnStep | None = None) -> tuple[DigitsCNN, list[dict[str, float]]]:
    """Train on the bundled digits; metrics per epoch: loss, test_loss, test_acc."""
    device = get_device()
    generator = seed_everything(cfg.seed)
    data = load_digits(cfg.data_seed, cfg.test_fraction)
    model = build_model(cfg).to(device)
    train_x, train_y = data.train_x.to(device), data.train_y.to(device)
    test_x, test_y = data.test_x.to(device), data.test_y.to(device)

    def loss_fn(m, batch):
        x, y = batch
        return F.cross_entropy(m(x), y)

    def evaluate(m):
        logits = m(test_x)
        return {"test_loss": F.cross_entropy(logits, test_y),
                "test_acc": (logits.argmax(1) == test_y).float().mean()}

    optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
    result = fit(model, loss_fn, (train_x, train_y), optimizer, epochs=cfg.epochs, generator=generator,
                 batch_size=cfg.batch_size, on_step=on_step, evaluate=evaluate)
    return model, result.history


# --- the judge of generated digits --------------------------------------------------------


@torch.no_grad()
def predict_proba(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """Images (N, 1, 28, 28) in [-1, 1] -> class probabilities (N, 10) as numpy."""
    device = model_device(model)
    model.eval()
    chunks = [F.softmax(model(images[i : i + batch_size].to(device)), dim=1).cpu()
              for i in range(0, len(images), batch_size)]
    return torch.cat(chunks).numpy()


def classifier_score(probs: np.ndarray) -> dict[str, float]:
    """A digits 'Inception Score' in spirit: are samples confidently classified, and varied?

    - confidence: mean top-class probability (high = each sample looks like a clear digit)
    - label_entropy: entropy (nats) of the histogram of predicted digits; ln 10 = 2.303 when all
      ten digits are equally common, 0 when the generator collapsed to one digit
    - score: exp(E[KL(p(y|x) || p(y))]), the Inception Score formula with this classifier (1..10)
    """
    eps = 1e-12
    labels = probs.argmax(1)
    hist = np.bincount(labels, minlength=10) / len(labels)
    marginal = probs.mean(0)
    kl = (probs * (np.log(probs + eps) - np.log(marginal + eps))).sum(1).mean()
    return {
        "confidence": float(probs.max(1).mean()),
        "label_entropy": float(-(hist[hist > 0] * np.log(hist[hist > 0])).sum()),
        "score": float(np.exp(kl)),
    }


def judge(classifier: nn.Module, images: torch.Tensor) -> dict[str, object]:
    """Label ``images`` (N, 1, 28, 28) in [-1, 1] with the digits CNN.

    Returns ``hist`` (10,) fraction of samples per predicted digit (the mode-collapse meter: a
    collapsed generator piles into a few bars), ``labels`` (N,), and classifier_score's
    confidence, label_entropy and score (1 = useless, 10 = every digit equally common and sure).
    """
    probs = predict_proba(classifier, images)  # (N, 10)
    labels = probs.argmax(1)
    scores = classifier_score(probs)
    scores["label_entropy"] = max(0.0, scores["label_entropy"])  # -0.0 for a single label reads oddly
    return {"hist": np.bincount(labels, minlength=10) / len(labels), "labels": labels, **scores}


def judge_real(classifier: nn.Module, n: int = N_JUDGED, data_seed: int = 0) -> dict[str, object]:
    """judge() on ``n`` held-out real digits: the ceiling a perfect generator would reach."""
    return judge(classifier, load_digits(data_seed).test_x[:n])
