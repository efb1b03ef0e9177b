"""Where a run trains and with what: the processor, its flags and whether the backend computes on it (or on
JAX's GPU), and the Keras backend's version, for the run's card and its precision."""

import os
import platform
from pathlib import Path

import keras


def cpuinfo_lines(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The lines of /proc/cpuinfo (none where it is missing or unreadable)."""
    try:
        return cpuinfo.read_text(errors="replace").splitlines()
    except OSError:
        return []


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags, e.g. {"avx512f", "avx512_bf16", ...} (empty where unknown)."""
    lines = cpuinfo_lines(cpuinfo)
    return {flag for line in lines if line.startswith("flags") for flag in line.partition(":")[2].split()}


def training_on_cpu() -> bool:
    """Whether Keras's backend computes on the CPU (tensorflow-cpu always does; JAX where it sees no GPU)."""
    if keras.backend.backend() == "jax":
        import jax
        return jax.default_backend() == "cpu"
    return True


def hardware() -> str:
    """Where the epochs run: "AMD EPYC 7B13, 2 CPU cores", or the GPU first when JAX has one."""
    names = [line.split(":", 1)[1].strip() for line in cpuinfo_lines() if line.startswith("model name")]
    cpu = f"{names[0] if names else platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"
    if not training_on_cpu():
        import jax
        return f"{jax.devices()[0].device_kind} GPU with {cpu}"
    return cpu


def backend_version() -> str:
    """The Keras backend and its version, e.g. "tensorflow 2.21.0" or "jax 0.11.2"."""
    backend = keras.backend.backend()
    try:
        return f"{backend} {__import__(backend).__version__}"
    except ImportError:
        return backend
