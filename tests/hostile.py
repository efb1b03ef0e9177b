"""Helpers for the hostile-input corpus: run a command in-process, expect one clear line, see what changed."""

import hashlib
from pathlib import Path

from core.cli import main


def command(capsys, *argv) -> tuple[int, str, str]:
    """Run `python -m core ARGV` in this process; return (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit:  # argparse refuses a malformed command line itself
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *argv, match: str) -> str:
    """Run a command that must fail: exit 2 and one error line on stderr naming `match` (after argparse's
    usage line when argparse refused it); return that line."""
    code, out, err = command(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and (len(lines) == 1 or lines[0].startswith("usage:")) and "error: " in lines[-1], (code, out, err)
    assert match in lines[-1], lines[-1]
    assert "Traceback" not in out + err
    return lines[-1]


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under folder -> (content hash, modification time), to show that nothing changed."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(Path(folder).rglob("*")) if p.is_file() and p.name not in (".lock", ".running")}


# A probe's last line: its own peak resident bytes. VmHWM belongs to the process's own memory map; ru_maxrss
# does not, since Linux carries the parent's high-water mark across fork and exec (a 2 GB pytest reads as 2 GB).
PRINT_OWN_PEAK = ("print(next(int(line.split()[1]) * 1024 for line in open('/proc/self/status') "
                  "if line.startswith('VmHWM:')))")
