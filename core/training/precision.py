"""The compute precision of a training run. `--precision auto`, the default, is float32 on every machine.

Mixed bfloat16 trains faster on CPUs with native bfloat16 (avx512_bf16 on AMD EPYC, amx_bf16 on Intel Xeon),
but its numerics differ by CPU kind: one command trains a different model on each, and a test comparing a
distributed run with a single-process one passed on AMD and failed on an AMX Xeon (0.71 vs 0.41) until both
ran float32. On FER-2013 its accuracy differed from float32's by less than the seed-to-seed spread
(docs/benchmarks.md, "Does bfloat16 cost accuracy?"), so reproducibility across machines decides:
mixed_bfloat16 is an opt-in (`--precision mixed_bfloat16`), worth it for speed where native_bfloat16()."""

from core.training.hardware import cpu_flags, training_on_cpu

PRECISIONS = ("float32", "mixed_bfloat16")
NATIVE_BFLOAT16 = {"avx512_bf16", "amx_bf16"}  # /proc/cpuinfo flags of x86 CPUs with bfloat16 instructions


def automatic_precision() -> str:
    """What `--precision auto` trains in: float32, whatever the CPU, so a run gives the same numbers on every
    kind of machine (mixed_bfloat16's differ between AVX512-BF16 and AMX)."""
    return "float32"


def native_bfloat16(flags: set[str] | None = None, on_cpu: bool | None = None) -> bool:
    """Whether training here runs on a CPU with native bfloat16 instructions, where the mixed_bfloat16 opt-in
    trains faster (elsewhere bfloat16 is emulated, slower than float32; no GPU has been measured)."""
    flags = cpu_flags() if flags is None else flags
    on_cpu = training_on_cpu() if on_cpu is None else on_cpu
    return bool(on_cpu and flags & NATIVE_BFLOAT16)
