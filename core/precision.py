"""The compute precision of a training run: mixed bfloat16 on CPUs that do bfloat16 natively, where it
was measured faster at equal accuracy (docs/benchmarks.md), float32 elsewhere."""

from pathlib import Path

PRECISIONS = ("float32", "mixed_bfloat16")
NATIVE_BFLOAT16 = {"avx512_bf16", "amx_bf16"}  # /proc/cpuinfo flags of x86 CPUs with bfloat16 instructions


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo is missing or unreadable)."""
    try:
        lines = cpuinfo.read_text(errors="replace").splitlines()
    except OSError:
        return set()
    return {flag for line in lines if line.startswith("flags") for flag in line.partition(":")[2].split()}


def training_on_cpu() -> bool:
    """Whether Keras's backend computes on the CPU (tensorflow-cpu always does; JAX where it sees no GPU)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.default_backend() == "cpu"
    return True


def automatic_precision(flags: set[str] | None = None, on_cpu: bool | None = None) -> str:
    """mixed_bfloat16 when training runs on a CPU with native bfloat16, else float32."""
    flags = cpu_flags() if flags is None else flags
    on_cpu = training_on_cpu() if on_cpu is None else on_cpu
    return "mixed_bfloat16" if on_cpu and flags & NATIVE_BFLOAT16 else "float32"
