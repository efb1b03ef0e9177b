"""The HTTP API under load, on loopback: requests per second and p50/p95/p99 latency for 1, 4 and 16 concurrent
clients sending one-face photos to `python -m core serve` (1 client: one request at a time), the faces each
network call classified (the batching), against `python -m core predict` run once per photo; then the server's
resident memory before and after many requests: 10,000 of a face crop each (faces found in the photos, cut out
at 96x96: the whole HTTP path, decoding and classification, without face finding, which would take hours here),
then some hundreds of the photos.

The photos: ../shared/photos with one face each (all but couple.jpg), shrunk to 640 pixels on the long side as
an app would send them, as JPEG. The clients are threads of this process, on the same cores as the server.
Usage: .venv/bin/python bench/serve.py [--model models/default] [--requests 48] [--memory-requests 10000]
                                       [--memory-photos 400] [--cli-photos 3]
"""

import argparse
import io
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PHOTOS = Path("../shared/photos")  # relative to the project root
MORE_THAN_ONE_FACE = {"couple.jpg"}
LONG_SIDE = 640


def one_face_photos() -> list[tuple[str, bytes]]:
    folder = PROJECT_ROOT / PHOTOS
    if not folder.is_dir():
        sys.exit(f"the photos are not at {PHOTOS} (relative to the project)")
    photos = []
    for path in sorted(folder.glob("*.jpg")):
        if path.name in MORE_THAN_ONE_FACE:
            continue
        image = Image.open(path).convert("RGB")
        image.thumbnail((LONG_SIDE, LONG_SIDE))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        photos.append((path.name, buffer.getvalue()))
    return photos


def start_server(model: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "core", "serve", model, "--port", "0"], cwd=PROJECT_ROOT,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if found := re.search(r"running on (http://127\.0\.0\.1:\d+)", line):
            threading.Thread(target=lambda: process.stderr.read(), daemon=True).start()  # keep the pipe drained
            return process, found.group(1)
    sys.exit(f"the server did not start (exit {process.wait()})")


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used (user and system): what a request costs, whatever else shares the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(url: str, photos: list[tuple[str, bytes]], clients: int, requests: int, pid: int) -> dict:
    """`requests` POST /v1/predict from `clients` threads (each its own connection); latencies in ms, and the
    server's CPU time per request."""
    latencies, errors, faces = [], Counter(), []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        with httpx.Client(base_url=url, timeout=120) as session:
            for index in counter:  # the shared iterator hands each request to one client
                name, data = photos[index % len(photos)]
                start = time.perf_counter()
                response = session.post("/v1/predict", content=data, headers={"Content-Type": "image/jpeg"})
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                        faces.append(len(response.json()["pictures"][0]["faces"]))
                    else:
                        errors[response.status_code] += 1

    health, cpu = httpx.get(f"{url}/healthz").json(), cpu_seconds(pid)
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    seconds = time.perf_counter() - start
    after, cpu = httpx.get(f"{url}/healthz").json(), cpu_seconds(pid) - cpu
    calls = after["network_calls"] - health["network_calls"]
    classified = after["faces_classified"] - health["faces_classified"]
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else (latencies or [float("nan")]) * 99
    return {"clients": clients, "requests": requests, "errors": dict(errors), "seconds": seconds,
            "per_second": len(latencies) / seconds, "p50": quantiles[49], "p95": quantiles[94], "p99": quantiles[98],
            "faces_per_call": classified / max(calls, 1), "faces_found": sum(faces) / max(len(faces), 1),
            "cpu_ms": 1000 * cpu / requests}


def errors(row: dict) -> str:
    return ", ".join(f"{count}x {status}" for status, count in row["errors"].items()) or "0"


def face_crops(url: str, photos: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Each photo's face as the server found it, cut out and shrunk to 96x96 (taken whole as a face crop)."""
    crops = []
    for name, data in photos:
        [face, *_] = httpx.post(f"{url}/v1/predict", content=data, timeout=120).json()["pictures"][0]["faces"]
        x, y, width, height = face["box"]
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).crop((x, y, x + width, y + height)).resize((96, 96)).save(buffer, "JPEG")
        crops.append((name, buffer.getvalue()))
    return crops


def command_per_photo(model: str, photos: list[tuple[str, bytes]], count: int, folder: Path) -> tuple[list, list]:
    """Seconds of `python -m core predict MODEL photo.jpg --json`, one process per photo: wall clock, and CPU."""
    times, cpu = [], []
    for name, data in photos[:count]:
        path = folder / name
        path.write_bytes(data)
        start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "core", "predict", model, str(path), "--json"], cwd=PROJECT_ROOT,
                       check=True, capture_output=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime)
    return times, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--requests", type=int, default=48, help="requests at each number of clients")
    parser.add_argument("--memory-requests", type=int, default=10_000, help="face crops sent between RSS readings")
    parser.add_argument("--memory-photos", type=int, default=400, help="photos sent between RSS readings")
    parser.add_argument("--cli-photos", type=int, default=3, help="photos through `python -m core predict`")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    photos = one_face_photos()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; {len(photos)} one-face photos, "
          f"{LONG_SIDE} px long side, {statistics.mean(len(d) for _, d in photos) / 1024:.0f} kB mean; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    process, url = start_server(args.model)
    try:
        load(url, photos, 4, 8, process.pid)  # warm-up: each face-finding thread loads its detector
        print("| clients | requests | errors | req/s | p50 ms | p95 ms | p99 ms | server CPU ms a request | "
              "faces per network call |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for clients in (1, 4, 16):
            row = load(url, photos, clients, max(args.requests, 2 * clients), process.pid)
            print(f"| {clients} | {row['requests']} | {errors(row)} | {row['per_second']:.2f} | {row['p50']:.0f} | "
                  f"{row['p95']:.0f} | {row['p99']:.0f} | {row['cpu_ms']:.0f} | {row['faces_per_call']:.2f} |",
                  flush=True)
        with tempfile.TemporaryDirectory() as folder:
            wall, cpu = command_per_photo(args.model, photos, args.cli_photos, Path(folder))
        print(f"`python -m core predict` per photo ({len(wall)} photos): {statistics.mean(wall):.1f} s wall, "
              f"{statistics.mean(cpu):.1f} s CPU each", flush=True)
        crops = face_crops(url, photos)
        for name, sample, count in (("face crops", crops, args.memory_requests),
                                    ("photos", photos, args.memory_photos)):
            started, readings, failed, rows = time.perf_counter(), [resident_mb(process.pid)], Counter(), []
            for _ in range(4):
                rows.append(load(url, sample, 16, count // 4, process.pid))
                failed.update(rows[-1]["errors"])
                readings.append(resident_mb(process.pid))
            print(f"resident memory over {count} requests of {name} (16 clients, "
                  f"{time.perf_counter() - started:.0f} s, errors: {dict(failed) or 0}): "
                  + " -> ".join(f"{mb:.0f}" for mb in readings) + " MB; last quarter: "
                  f"{rows[-1]['per_second']:.1f} req/s, p50 {rows[-1]['p50']:.0f} ms, p99 {rows[-1]['p99']:.0f} ms, "
                  f"{rows[-1]['cpu_ms']:.0f} CPU ms a request, {rows[-1]['faces_per_call']:.2f} faces per network call",
                  flush=True)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        process.terminate()
        process.wait(60)


if __name__ == "__main__":
    main()
