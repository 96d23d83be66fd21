"""Latent sliders for a trained generator: directions in noise space that change something visible.

GANSpace (Härkönen, Hertzmann, Lehtinen, Paris 2020, "GANSpace: Discovering Interpretable GAN
Controls"): sample many noise vectors z, run the generator's first layer, take the principal
components of those activations, then regress z on the PCA coordinates to carry each component
back into noise space. Sliding z along such a direction moves the generator's early features along
their main axes of variation: stroke thickness, slant, one digit turning into another.

Uses only what any generator of core.gan has: ``model.noise_dim``, ``model.net`` (to find its first
non-linearity), ``model(z)``, and ``core.gan.sample_noise``, so changes to the training recipes
do not break it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.device import model_device
from core.gan import sample_noise
from core.images import mosaic
from core.mnist import to_uint8

N_SAMPLES = 2000  # noise vectors for the PCA: plenty for a 1024-unit first layer's top components
ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.SiLU, nn.ELU)


class _Captured(Exception):
    """Raised by the hook once the first features are in hand: the rest of the generator (its
    transposed convolutions, most of the cost) need not run for the PCA."""


@dataclass(frozen=True)
class Directions:
    """``vectors`` (k, noise_dim): unit directions in z; ``scale`` (k,): the std of z's projection on
    each (one slider unit); ``explained`` (k,): each component's share of the layer's variance."""

    vectors: np.ndarray
    scale: np.ndarray
    explained: np.ndarray
    layer: str  # which layer's activations were used, for the page's caption


def first_features(net: nn.Module) -> tuple[str, nn.Module]:
    """The generator's early feature layer: its first non-linearity (after the first linear map), or
    failing that its first module with weights."""
    leaves = [(name, m) for name, m in net.named_modules() if not list(m.children())]
    for name, module in leaves:
        if isinstance(module, ACTIVATIONS):
            return name, module
    for name, module in leaves:
        if any(True for _ in module.parameters(recurse=False)):
            return name, module
    raise ValueError("The generator has no layer to take features from.")


@torch.no_grad()
def gan_space(model: nn.Module, k: int = 4, n: int = N_SAMPLES, seed: int = 0) -> Directions:
    """The top ``k`` GANSpace directions of ``model``: PCA of its first features over ``n`` noise
    vectors drawn with ``seed``, carried back to z by least squares."""
    if not 1 <= k <= 16:
        raise ValueError("Ask for 1 to 16 directions.")
    device = model_device(model)
    model.eval()
    z = sample_noise(n, model.noise_dim, seed=seed, device=device)  # (n, D)
    name, layer = first_features(model.net)
    captured = []

    def hook(_module, _inputs, output):
        captured.append(output.detach())
        raise _Captured

    handle = layer.register_forward_hook(hook)
    try:
        model(z)
    except _Captured:
        pass
    finally:
        handle.remove()
    feats = captured[0].flatten(1).double().cpu().numpy()  # (n, H)
    feats -= feats.mean(0)
    # PCA from the (H, H) covariance: cheaper than an SVD of (n, H) when H < n, same axes
    var, axes = np.linalg.eigh(feats.T @ feats)  # ascending
    var, axes = var[::-1].clip(min=0), axes[:, ::-1]
    coords = feats @ axes[:, :k]  # (n, k): each sample's PCA coordinates
    z_np = z.double().cpu().numpy()
    # GANSpace's regression: z ≈ mean + coords @ U, so row j of U is component j carried into z
    design = np.hstack([coords, np.ones((n, 1))])
    u = np.linalg.lstsq(design, z_np, rcond=None)[0][:k]  # (k, D)
    u /= np.linalg.norm(u, axis=1, keepdims=True) + 1e-12
    scale = (z_np @ u.T).std(0)  # one slider unit = one std of z along the direction
    explained = var[:k] / max(float(var.sum()), 1e-12)
    return Directions(u.astype(np.float32), scale.astype(np.float32), explained.astype(np.float32), name)


@torch.no_grad()
def shifted(model: nn.Module, directions: Directions, amounts, seed: int, n: int = 8) -> np.ndarray:
    """uint8 mosaic of ``n`` samples (noise of ``seed``), each moved by ``amounts`` (k,) slider units
    along the directions: the same shift for every sample, so the row shows what the shift does."""
    amounts = np.asarray(amounts, dtype=np.float32).reshape(-1)
    if len(amounts) != len(directions.vectors) or not np.isfinite(amounts).all():
        raise ValueError(f"Give {len(directions.vectors)} finite slider values.")
    device = model_device(model)
    model.eval()
    z = sample_noise(n, model.noise_dim, seed=seed, device=device)
    shift = (amounts * directions.scale) @ directions.vectors  # (D,)
    return mosaic(to_uint8(model(z + torch.as_tensor(shift, device=device)).cpu()), ncols=n)


@torch.no_grad()
def atlas(model: nn.Module, directions: Directions, seed: int, steps: int = 7, reach: float = 2.0) -> np.ndarray:
    """uint8 mosaic: row j walks one sample along direction j from -reach to +reach units."""
    device = model_device(model)
    model.eval()
    z = sample_noise(1, model.noise_dim, seed=seed, device=device)  # (1, D)
    t = torch.linspace(-reach, reach, steps, device=device)
    vectors = torch.as_tensor(directions.vectors * directions.scale[:, None], device=device)  # (k, D)
    walk = z + t.view(1, steps, 1) * vectors.unsqueeze(1)  # (k, steps, D)
    return mosaic(to_uint8(model(walk.reshape(-1, model.noise_dim)).cpu()), ncols=steps)
