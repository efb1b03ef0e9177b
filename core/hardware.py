"""Where a run trains and with what: the processor (and JAX's GPU) and the Keras backend's version, for its card."""

import os
import platform
from pathlib import Path

import keras


def hardware() -> str:
    """Where the epochs run: "AMD EPYC 7B13, 2 CPU cores", or the GPU first when JAX has one."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        name = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        name = platform.processor() or platform.machine()
    cpu = f"{name}, {os.cpu_count()} CPU cores"
    if keras.backend.backend() == "jax":
        import jax
        device = jax.devices()[0]
        if device.platform != "cpu":
            return f"{device.device_kind} GPU with {cpu}"
    return cpu


def backend_version() -> str:
    """The Keras backend and its version, e.g. "tensorflow 2.21.0" or "jax 0.11.2"."""
    backend = keras.backend.backend()
    try:
        return f"{backend} {__import__(backend).__version__}"
    except ImportError:
        return backend
