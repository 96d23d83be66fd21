"""Disk cache for trained models, so a restart of the app is instant.

- Location: ``$DLE_CACHE_DIR``, else ``<repo>/.cache/checkpoints``.
- Key: the topic, the Config class and a hash of the Config's fields (``version`` included).
- Writes are atomic: a temp file in the same folder, flushed and fsynced, then ``os.replace``.
  A kill mid-write leaves the old file (and at worst a stray ``*.tmp`` that is ignored).
- Loads use ``torch.load(weights_only=True)``: only tensors and plain containers are accepted,
  so a tampered file cannot run code. A truncated, empty or garbage file is deleted and the model
  is retrained, never a crash.
- Shipped defaults: ``assets/checkpoints/<key>.pt`` is read (never written) before training, for
  models whose default training is too slow for a good first view on 2 CPU cores. They are made by
  ``python -m core.make_checkpoints`` and stored in fp16.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from core.training import OnStep, freeze

ENV_VAR = "DLE_CACHE_DIR"
REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DIR = REPO_ROOT / "assets" / "checkpoints"

# What a damaged checkpoint raises on load (seen with torch 2.14): truncated -> RuntimeError,
# empty -> EOFError, garbage -> UnpicklingError, a refused global -> UnpicklingError.
CORRUPT_ERRORS = (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, KeyError, OSError)
# A temp file older than this is left over from a killed write (a live write takes seconds).
STRAY_TEMP_AGE_S = 600


def cache_dir() -> Path:
    """The writable checkpoint folder (created on first use, not at import)."""
    root = Path(os.environ.get(ENV_VAR) or REPO_ROOT / ".cache" / "checkpoints")
    root.mkdir(parents=True, exist_ok=True)
    return root


def config_key(cfg) -> str:
    """A stable file stem for a Config: ``<module>-<Class>-<hash of its fields>``."""
    fields = json.dumps(dataclasses.asdict(cfg), sort_keys=True, default=str)
    digest = hashlib.sha256(fields.encode()).hexdigest()[:16]
    topic = type(cfg).__module__.rsplit(".", 1)[-1]
    return f"{topic}-{type(cfg).__name__}-{digest}"


# Shipped checkpoints store big weight matrices as int8 with one fp16 scale per output row
# (a DCGAN generator: 14.7 MB in fp16 -> ~7 MB); small tensors stay fp16.
QUANTIZE_MIN_ELEMENTS = 65_536
_Q8, _SCALE = ".__int8", ".__row_scale"


def compress_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """fp16 for every float tensor; per-row int8 for large weight matrices (bundled defaults)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not value.is_floating_point():
            out[key] = value
        elif value.dim() >= 2 and value.numel() >= QUANTIZE_MIN_ELEMENTS:
            rows = value.float().reshape(value.shape[0], -1)  # (out_features, everything else)
            scale = rows.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 127.0
            out[key + _Q8] = torch.round(rows / scale).to(torch.int8).reshape(value.shape)
            out[key + _SCALE] = scale.squeeze(1).half()
        else:
            out[key] = value.half()
    return out


def expand_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Undo :func:`compress_state` (a plain state dict passes through unchanged)."""
    out = {}
    for key, value in state.items():
        if key.endswith(_SCALE):
            continue
        if key.endswith(_Q8):
            name = key[: -len(_Q8)]
            scale = state[name + _SCALE].float()
            out[name] = (value.float().reshape(value.shape[0], -1) * scale[:, None]).reshape(value.shape)
        else:
            out[key] = value
    return out


def save_checkpoint(path: Path, payload: dict, *, half: bool = False) -> None:
    """Atomically write ``payload`` (state dicts, floats, strings, lists) to ``path``.

    ``half=True`` (bundled defaults) stores the state dict compressed: see :func:`compress_state`.
    """
    if half:
        payload = {**payload, "state_dict": compress_state(payload["state_dict"])}
    payload = {**payload, "torch_version": str(torch.__version__)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _remove_stray_temps(path)


def _remove_stray_temps(path: Path) -> None:
    """Delete old ``<name>.*.tmp`` files of killed writes; recent ones may be another writer's."""
    cutoff = time.time() - STRAY_TEMP_AGE_S
    for stray in path.parent.glob(f"{path.name}.*.tmp"):
        try:
            if stray.stat().st_mtime < cutoff:
                stray.unlink()
        except OSError:
            pass


def load_checkpoint(path: Path, *, delete_corrupt: bool = True) -> dict | None:
    """The payload at ``path``; None when there is no usable file (absent, or corrupt and removed)."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or "state_dict" not in payload:
            raise ValueError("not a checkpoint payload")
        payload["state_dict"] = expand_state(payload["state_dict"])
        return payload
    except Exception:  # an untrusted file may fail in many ways (CORRUPT_ERRORS and
        # more: text makes the weights-only unpickler raise IndexError/KeyError); all mean "unusable"
        if delete_corrupt:
            path.unlink(missing_ok=True)
        return None


def load_or_train(
    cfg,
    build_model: Callable[[object], nn.Module],
    train: Callable[..., tuple[nn.Module, list]],
    *,
    on_step: OnStep | None = None,
    device: torch.device | None = None,
    use_bundled: bool = True,
) -> tuple[nn.Module, list, str]:
    """The model for ``cfg`` from the disk cache, the shipped defaults, or a fresh training.

    Returns ``(model, history, source)`` with source in {"disk cache", "bundled", "trained"}; the
    model is frozen (eval, no grads). A stopped training is returned but not saved, so the next
    request trains again to completion.
    """
    key = config_key(cfg)
    candidates = [(cache_dir() / f"{key}.pt", "disk cache", True)]
    if use_bundled:
        candidates.append((BUNDLED_DIR / f"{key}.pt", "bundled", False))
    for path, source, writable in candidates:
        payload = load_checkpoint(path, delete_corrupt=writable)
        if payload is None:
            continue
        model = build_model(cfg)
        try:
            model.load_state_dict(payload["state_dict"])
        except (RuntimeError, KeyError):  # shape mismatch: an old file for a changed model
            if writable:
                path.unlink(missing_ok=True)
            continue
        if device is not None:
            model = model.to(device)
        return freeze(model), list(payload.get("history", [])), source

    stopped = False

    def watch(step: int, metrics: dict[str, float]):
        nonlocal stopped
        if on_step is not None and on_step(step, metrics):
            stopped = True
            return True
        return None

    model, history = train(cfg, on_step=watch)
    if not stopped:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        save_checkpoint(cache_dir() / f"{key}.pt", {"state_dict": state, "history": list(history)})
    return freeze(model), history, "trained"
