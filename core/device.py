"""Where tensors live: one decision for the whole app (CUDA, else MPS, else CPU).

Set ``DLE_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) to override the automatic choice, e.g. to
compare a GPU run with the CPU on the same machine.
"""

from __future__ import annotations

import os
import platform

import torch

ENV_VAR = "DLE_DEVICE"


def get_device() -> torch.device:
    """The device every model and tensor is moved to, once, before training starts."""
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced:
        device = torch.device(forced)  # raises RuntimeError on a name torch does not know
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{ENV_VAR}={forced} but CUDA is not available on this machine")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(f"{ENV_VAR}={forced} but MPS is not available on this machine")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device | None = None) -> dict[str, str]:
    """A short, human description of the compute device for the app's badge."""
    device = device or get_device()
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        kind = "CUDA"
    elif device.type == "mps":
        name, kind = "Apple GPU", "MPS"
    else:
        name = platform.processor() or platform.machine() or "CPU"
        kind = "CPU"
    return {
        "kind": kind,
        "name": name,
        "torch": str(torch.__version__),
        "threads": str(torch.get_num_threads()),
    }


def model_device(model: torch.nn.Module) -> torch.device:
    """Where a model's weights live. Inputs are moved there, never the model: a cached model is
    shared by every session and must not be moved by one of them."""
    return next(model.parameters()).device
