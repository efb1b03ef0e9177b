"""The compute precision of a training run: mixed bfloat16 on CPUs that do bfloat16 natively, where it
was measured faster at equal accuracy (docs/benchmarks.md), float32 elsewhere."""

from core.hardware import cpu_flags, training_on_cpu

PRECISIONS = ("float32", "mixed_bfloat16")
NATIVE_BFLOAT16 = {"avx512_bf16", "amx_bf16"}  # /proc/cpuinfo flags of x86 CPUs with bfloat16 instructions


def automatic_precision(flags: set[str] | None = None, on_cpu: bool | None = None) -> str:
    """mixed_bfloat16 when training runs on a CPU with native bfloat16, else float32."""
    flags = cpu_flags() if flags is None else flags
    on_cpu = training_on_cpu() if on_cpu is None else on_cpu
    return "mixed_bfloat16" if on_cpu and flags & NATIVE_BFLOAT16 else "float32"
