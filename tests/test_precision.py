"""The automatic training precision: mixed bfloat16 only on a CPU with native bfloat16 instructions."""

from pathlib import Path

from core.hardware import cpu_flags, training_on_cpu
from core.precision import automatic_precision

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


def test_bfloat16_only_where_the_cpu_does_it_natively_and_training_runs_there():
    assert automatic_precision({"avx512f", "avx512_bf16"}, on_cpu=True) == "mixed_bfloat16"
    assert automatic_precision({"amx_bf16", "amx_tile"}, on_cpu=True) == "mixed_bfloat16"
    assert automatic_precision({"avx512f", "avx2"}, on_cpu=True) == "float32"  # emulated bfloat16 is slower
    assert automatic_precision({"avx512_bf16"}, on_cpu=False) == "float32"  # a GPU: not measured there
    assert training_on_cpu()  # tensorflow-cpu
    expected = "mixed_bfloat16" if cpu_flags(Path("/proc/cpuinfo")) & {"avx512_bf16", "amx_bf16"} else "float32"
    assert automatic_precision() == expected
