"""The automatic training precision: float32 on every machine; mixed bfloat16 an opt-in, paying only on a CPU
with native bfloat16 instructions."""

from pathlib import Path

from core.training.hardware import cpu_flags, training_on_cpu
from core.training.precision import automatic_precision, native_bfloat16

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
flags\t\t: fpu sse2 avx2 avx512f {extra}

processor\t: 1
flags\t\t: fpu sse2 avx2 avx512f {extra}
"""


def test_cpu_flags_are_read_from_cpuinfo_and_missing_file_means_none(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO.format(extra="avx512_bf16"))
    assert {"avx512f", "avx512_bf16"} <= cpu_flags(cpuinfo) and "AuthenticAMD" not in cpu_flags(cpuinfo)
    assert cpu_flags(tmp_path / "nowhere") == set()


def test_auto_is_float32_on_every_machine_so_runs_reproduce_across_cpu_kinds():
    assert automatic_precision() == "float32"  # also here, whatever this CPU's flags (docs/benchmarks.md)


def test_bfloat16_pays_only_where_the_cpu_does_it_natively_and_training_runs_there():
    assert native_bfloat16({"avx512f", "avx512_bf16"}, on_cpu=True)  # AMD EPYC (Zen 4)
    assert native_bfloat16({"amx_bf16", "amx_tile"}, on_cpu=True)  # Intel Xeon with AMX
    assert not native_bfloat16({"avx512f", "avx2"}, on_cpu=True)  # emulated bfloat16 is slower
    assert not native_bfloat16({"avx512_bf16"}, on_cpu=False)  # a GPU: not measured there
    assert training_on_cpu()  # tensorflow-cpu
    assert native_bfloat16() == bool(cpu_flags(Path("/proc/cpuinfo")) & {"avx512_bf16", "amx_bf16"})
