"""The HTTP API (`python -m core serve`), started as a real process on a free loopback port and called over HTTP:
faces and probabilities by the model's own class names, sign-in, bounds checked before decoding, the in-flight
limit, SIGTERM with a request in flight; and the batcher that classifies faces of requests together."""

import asyncio
import http.client
import io
import os
import re
import signal
import struct
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from core.evaluation.export import FAST_EXPORT, fast_export
from core.models.store import model_classes, read_card
from core.serving.batching import FaceBatcher
from core.serving.limits import (MIN_BYTES_PER_SECOND, TOKEN_VARIABLE, Refusal, bounded_receive, check_binding,
                                 is_loopback, names_this_machine)
from core.training.config import TrainConfig
from core.training.job import train
from tests.test_own_classes import CLASSES, astronaut_frame, write_own_classes

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "a-long-random-test-token"
STARTUP_SECONDS = 900  # TensorFlow's import and the model's load on two cores shared with training (minutes)
POSTSCRIPT = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n0 0 moveto 9 9 lineto\nfill"


class Server:
    """A `python -m core serve` process on a port of its own choosing; its log is read as it is written."""

    def __init__(self, model: str | Path, *options: str, token: str | None = None):
        env = {key: value for key, value in os.environ.items() if key != TOKEN_VARIABLE}
        env.update({TOKEN_VARIABLE: token} if token else {})
        self.process = subprocess.Popen([sys.executable, "-m", "core", "serve", str(model), "--port", "0", *options],
                                        cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log: list[str] = []
        self.url: str | None = None
        self._ready, self.log_ended = threading.Event(), threading.Event()
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self._ready.wait(STARTUP_SECONDS) or self.url is None:
            self.stop()
            pytest.fail("the server did not start:\n" + "".join(self.log[-30:]))
        self.client = httpx.Client(base_url=self.url, timeout=120,
                                   headers={"Authorization": f"Bearer {token}"} if token else {})

    def _read_log(self) -> None:
        for line in self.process.stderr:  # until the process ends; also drains the pipe so it never blocks
            self.log.append(line)
            if found := re.search(r"running on (http://127\.0\.0\.1:\d+)", line):
                self.url = found.group(1)
                self._ready.set()
        self._ready.set()  # it ended (without serving, if not set before)
        self.log_ended.set()

    def held_request(self, body: bytes, sent: int = 100) -> "HeldRequest":
        return HeldRequest(self, body, sent)

    def in_flight(self) -> int:
        return self.client.get("/healthz").json()["in_flight"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(60)


class HeldRequest:
    """A POST /v1/predict whose body stops after `sent` bytes until finish() sends the rest: a request the
    server is answering for as long as the test likes."""

    def __init__(self, server: Server, body: bytes, sent: int):
        self.connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=120)
        self.connection.putrequest("POST", "/v1/predict")
        for name, value in {**server.client.headers, "Content-Type": "image/jpeg",
                            "Content-Length": str(len(body))}.items():
            if name.lower() in ("authorization", "content-type", "content-length"):
                self.connection.putheader(name, value)
        self.connection.endheaders()
        self.connection.send(body[:sent])
        self.rest = body[sent:]

    def finish(self) -> tuple[int, bytes]:
        self.connection.send(self.rest)
        response = self.connection.getresponse()
        return response.status, response.read()


def wait_until(condition, what: str, attempts: int = 2400) -> None:
    """Ask until the condition holds (each ask a round trip to the server; no fixed sleep)."""
    event = threading.Event()
    for _ in range(attempts):
        if condition():
            return
        event.wait(0.05)
    pytest.fail(f"never happened: {what}")


@contextmanager
def serving(model, *options, token=None):
    server = Server(model, *options, token=token)
    try:
        yield server
    finally:
        server.stop()


def jpeg(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def problem(response: httpx.Response, status: int) -> str:
    """The message of a JSON error answer with this status (and nothing of a traceback)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "status"} and body["status"] == status and body["message"]
    assert "Traceback" not in response.text
    return body["message"]


@pytest.fixture(scope="module")
def shipped():
    """The shipped model behind a token, one request in flight at most, 1 MB a request (a held body may wait)."""
    with serving("models/default", "--max-in-flight", "1", "--max-body-mb", "1", "--idle-timeout", "900",
                 token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def own_model(tmp_path_factory) -> Path:
    """A small model of three classes of one's own (bored, confused, focused): a seed network, two epochs."""
    data = write_own_classes(tmp_path_factory.mktemp("own") / "classroom", people=4, per_person=2)
    run_dir = tmp_path_factory.mktemp("own-runs") / "seed"
    train(run_dir, TrainConfig(data=str(data), arch="seed", epochs=2, batch_size=8, augment=False))
    return run_dir


# --- safe by default ------------------------------------------------------------------------------------------
def test_a_body_trickling_in_is_answered_408_once_its_first_seconds_are_over():
    """A byte every five seconds (a fake clock: nothing waits) holds its place only for the idle bound; a slow
    body that has come whole by then is read."""

    def receiving(messages, times):
        async def receive():
            return messages.pop(0)

        clock = iter(times)
        bounded = bounded_receive(receive, 2**20, idle_seconds=10, clock=lambda: next(clock))

        async def read_all():
            return [await bounded() for _ in range(len(messages))]

        return asyncio.run(read_all())

    trickle = [{"body": b"x", "more_body": True} for _ in range(4)]
    with pytest.raises(Refusal, match="arrives too slowly: 3 bytes in 15 s .at least 16 KB a second"):
        receiving(trickle, [0, 5, 10, 15, 20])
    whole = [{"body": b"x", "more_body": True}, {"body": b"x", "more_body": False}]
    assert len(receiving(whole, [0, 5, 15])) == 2
    steady = [{"body": bytes(MIN_BYTES_PER_SECOND * 5), "more_body": True} for _ in range(4)]
    assert len(receiving(steady, [0, 5, 10, 15, 20])) == 4


def test_a_host_header_names_this_machine_only_for_loopback_names():
    assert all(names_this_machine(host) for host in ("127.0.0.1:8000", "localhost", "LOCALHOST:80", "[::1]:8000"))
    assert not any(names_this_machine(host) for host in ("rebound.example:8000", "127.0.0.1.rebound.example", "",
                                                         None, "0.0.0.0:80"))


def test_only_loopback_addresses_count_as_this_machine():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20") and not is_loopback("example.org")
    check_binding("0.0.0.0", TOKEN)  # with a token it may serve beyond this machine
    with pytest.raises(ValueError, match=TOKEN_VARIABLE):
        check_binding("0.0.0.0", None)
    for host in ("0.0.0.0", "127.0.0.1"):  # a token that short keeps nobody out, wherever it is asked for
        with pytest.raises(ValueError, match=f"{TOKEN_VARIABLE} is 6 characters, too few"):
            check_binding(host, "secret")


def test_bound_beyond_loopback_without_a_token_it_refuses_to_start():
    env = {key: value for key, value in os.environ.items() if key != TOKEN_VARIABLE}
    done = subprocess.run([sys.executable, "-m", "core", "serve", "models/default", "--host", "0.0.0.0", "--port", "0"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert done.returncode == 2 and f"set {TOKEN_VARIABLE}" in done.stderr and "Traceback" not in done.stderr
    assert "running on" not in done.stderr


@pytest.mark.parametrize("option, value", [("--port", "70000"), ("--timeout", "nan"), ("--max-body-mb", "0"),
                                           ("--max-in-flight", "0"), ("--workers", "-1")])
def test_a_limit_out_of_range_is_refused_before_the_model_loads(option, value):
    done = subprocess.run([sys.executable, "-m", "core", "serve", "models/default", option, value], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert done.returncode == 2 and f"argument {option}: {value} is not" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_wrong_or_missing_token_is_401_and_probes_need_none(shipped):
    for headers in ({"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": ""}):
        response = httpx.get(f"{shipped.url}/v1/model", headers=headers)
        assert "token" in problem(response, 401) and response.headers["www-authenticate"] == "Bearer"
        assert "token" in problem(httpx.post(f"{shipped.url}/v1/predict", headers=headers,
                                             content=jpeg(astronaut_frame())), 401)
    assert httpx.get(f"{shipped.url}/healthz").json()["status"] == "ok"
    assert httpx.head(f"{shipped.url}/healthz").status_code == 200  # probes that send HEAD
    assert "access-control-allow-origin" not in shipped.client.get(
        "/v1/model", headers={"Origin": "https://elsewhere.example"}).headers  # CORS off unless origins are listed


# --- the shipped model ----------------------------------------------------------------------------------------
def test_the_shipped_model_names_its_classes_and_runtime(shipped):
    described = shipped.client.get("/v1/model").json()
    card = read_card("models/default")
    assert described["classes"] == model_classes("models/default") == card["classes"]
    assert described["runtime"] == (" ".join(FAST_EXPORT) if fast_export("models/default") else "keras")
    assert described["scores"].get("test", {}).get("accuracy") == (card.get("test") or {}).get("accuracy")


def test_a_photo_as_the_body_gets_its_face_with_every_class(shipped):
    response = shipped.client.post("/v1/predict", content=jpeg(astronaut_frame()),
                                   headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200, response.text
    [picture] = response.json()["pictures"]
    [face] = picture["faces"]
    assert picture["name"] == "body" and picture["no_face"] is None
    assert list(face["probabilities"]) == model_classes("models/default") and abs(sum(face["probabilities"].values()) - 1) < 0.01
    assert face["emotion"] == max(face["probabilities"], key=face["probabilities"].get)
    x, y, width, height = face["box"]
    assert 60 <= x < 90 + 220 and 20 <= y < 60 + 220 and 40 < width < 260 and 40 < height < 260  # the drawn head


def test_several_pictures_as_files_each_answered_by_name_with_the_options(shipped):
    two_faces = np.concatenate([astronaut_frame(), astronaut_frame(scale=110, left=150, top=150)], axis=1)
    blank = np.full((200, 200, 3), 128, np.uint8)
    files = [("files", ("two.jpg", jpeg(two_faces), "image/jpeg")), ("files", ("blank.png", jpeg(blank), "image/png"))]
    every = shipped.client.post("/v1/predict", files=files).json()["pictures"]
    largest = shipped.client.post("/v1/predict", files=files, params={"largest_only": "true", "views": "mirror"})
    assert [picture["name"] for picture in every] == ["two.jpg", "blank.png"]
    assert len(every[0]["faces"]) == 2 and every[1]["faces"] == [] and "no face" in every[1]["no_face"]
    assert largest.status_code == 200 and [len(p["faces"]) for p in largest.json()["pictures"]] == [1, 0]
    assert largest.json()["pictures"][0]["faces"][0]["box"] == every[0]["faces"][0]["box"]
    assert "views" in problem(shipped.client.post("/v1/predict", files=files, params={"views": "many"}), 422)


def test_a_multipart_type_in_capitals_is_read_as_files(shipped):
    answer = shipped.client.post("/v1/predict", content=multipart(("one.jpg", jpeg(astronaut_frame()))),
                                 headers={"Content-Type": "MULTIPART/FORM-DATA; boundary=fer-boundary"})
    assert answer.status_code == 200, answer.text
    assert [(p["name"], len(p["faces"])) for p in answer.json()["pictures"]] == [("one.jpg", 1)]


def bomb() -> bytes:
    """A PNG of 9000x9000 pixels (81 megapixels, over the 64 read) that compresses to about 80 kB."""
    buffer = io.BytesIO()
    Image.new("L", (9000, 9000)).save(buffer, "PNG")
    return buffer.getvalue()


def crafted_tiff() -> bytes:
    """A 120x90 TIFF whose StripOffsets tag claims the RATIONAL type: Pillow's decoder raises a TypeError."""
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (120, 80, 60)).save(buffer, "TIFF")
    data = bytearray(buffer.getvalue())
    directory = struct.unpack_from("<I", data, 4)[0]
    for entry in range(struct.unpack_from("<H", data, directory)[0]):
        at = directory + 2 + 12 * entry
        if struct.unpack_from("<H", data, at)[0] == 273:  # StripOffsets: LONG -> RATIONAL
            struct.pack_into("<H", data, at + 2, 5)
    return bytes(data)


def multipart(*files: tuple[str, bytes], boundary: str = "fer-boundary") -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
             f"Content-Type: image/jpeg\r\n\r\n".encode() + data + b"\r\n" for name, data in files]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


@pytest.mark.parametrize("case, status, words", [
    ("not a picture", 422, "not an image"),
    ("a crafted TIFF", 422, "body: unreadable image"),
    ("a multipart body cut in its second file", 400, "malformed multipart body"),
    ("PostScript named .jpg", 422, "holiday.jpg: not an image"),
    ("a decompression bomb", 422, "too large"),
    ("an empty body", 400, "no picture"),
    ("an empty file", 422, "empty file"),
    ("too many pictures", 400, "Maximum number of files is 100"),
])
def test_bad_input_is_a_clear_4xx_and_the_server_answers_the_next_request(shipped, case, status, words):
    photo = jpeg(astronaut_frame())
    requests = {
        "not a picture": lambda: shipped.client.post("/v1/predict", content=b"hello, world",
                                                     headers={"Content-Type": "image/jpeg"}),
        "a crafted TIFF": lambda: shipped.client.post("/v1/predict", content=crafted_tiff(),
                                                      headers={"Content-Type": "image/tiff"}),
        "a multipart body cut in its second file": lambda: shipped.client.post(
            "/v1/predict", content=multipart(("one.jpg", jpeg(astronaut_frame())), ("two.jpg", photo))[:-1000],
            headers={"Content-Type": "multipart/form-data; boundary=fer-boundary"}),
        "PostScript named .jpg": lambda: shipped.client.post(
            "/v1/predict", files=[("files", ("holiday.jpg", POSTSCRIPT, "image/jpeg"))]),
        "a decompression bomb": lambda: shipped.client.post("/v1/predict", content=bomb()),
        "an empty body": lambda: shipped.client.post("/v1/predict", content=b""),
        "an empty file": lambda: shipped.client.post("/v1/predict", files=[("files", ("a.jpg", b"", "image/jpeg"))]),
        "too many pictures": lambda: shipped.client.post(
            "/v1/predict", files=[("files", (f"{n}.jpg", b"x", "image/jpeg")) for n in range(101)]),
    }
    assert words in problem(requests[case](), status)
    assert shipped.in_flight() == 0
    answer = shipped.client.post("/v1/predict", content=jpeg(astronaut_frame()))
    assert answer.status_code == 200 and len(answer.json()["pictures"][0]["faces"]) == 1


def test_a_body_over_the_limit_is_refused_as_soon_as_it_is_known_and_the_server_answers_the_next(shipped):
    """Declared by its Content-Length (nothing read), or counted as it arrives (chunked). Each client sends no
    more than the server reads before refusing, so that closing the connection loses nothing of the answer."""
    declared = http.client.HTTPConnection(shipped.url.removeprefix("http://"), timeout=60)
    declared.putrequest("POST", "/v1/predict")
    declared.putheader("Authorization", f"Bearer {TOKEN}")
    declared.putheader("Content-Length", str(64 * 2**20))  # declared, never sent
    declared.endheaders()
    response = declared.getresponse()
    assert response.status == 413 and b"over 1 MB" in response.read()
    chunked = http.client.HTTPConnection(shipped.url.removeprefix("http://"), timeout=60)
    chunked.putrequest("POST", "/v1/predict")
    chunked.putheader("Authorization", f"Bearer {TOKEN}")
    chunked.putheader("Transfer-Encoding", "chunked")  # no length said: counted as it arrives
    chunked.endheaders()
    size = 2**20 + 1
    chunked.send(b"%x\r\n" % size + bytes(size))  # one byte over: the last byte read is the one refused
    response = chunked.getresponse()
    assert response.status == 413 and b"over 1 MB" in response.read()
    assert shipped.client.post("/v1/predict", content=jpeg(astronaut_frame())).status_code == 200


def test_beyond_the_in_flight_limit_it_answers_503_with_retry_after(shipped):
    held = shipped.held_request(jpeg(astronaut_frame()))
    wait_until(lambda: shipped.in_flight() == 1, "the held request is being answered")
    busy = shipped.client.post("/v1/predict", content=jpeg(astronaut_frame()))
    assert "busy" in problem(busy, 503) and busy.headers["retry-after"] == "1"
    status, body = held.finish()
    assert status == 200 and b'"faces":[{' in body
    assert shipped.client.post("/v1/predict", content=jpeg(astronaut_frame())).status_code == 200


def test_a_request_past_the_time_limit_is_answered_504_and_frees_its_place(own_model):
    """The held request's body never completes, so no machine can answer it within the limit: the server's own
    timer answers it 504 and frees its place."""
    with serving(own_model, "--timeout", "1") as server:
        held = server.held_request(jpeg(astronaut_frame()))
        response = held.connection.getresponse()  # without the rest of the body
        assert response.status == 504 and b"not answered within 1 s" in response.read()
        wait_until(lambda: server.in_flight() == 0, "the timed-out request left its place")
        assert server.client.get("/v1/model").status_code == 200


def test_a_body_that_stops_arriving_is_answered_408_and_frees_its_place(own_model):
    with serving(own_model, "--idle-timeout", "1") as server:
        held = server.held_request(jpeg(astronaut_frame()))
        response = held.connection.getresponse()  # without the rest of the body
        assert response.status == 408 and b"stopped arriving: nothing came for 1 s" in response.read()
        wait_until(lambda: server.in_flight() == 0, "the stalled request left its place")
        assert server.client.post("/v1/predict", content=jpeg(astronaut_frame())).status_code == 200


# --- a model of one's own classes -----------------------------------------------------------------------------
def test_a_model_of_own_classes_answers_by_their_names_and_lists_allowed_origins(own_model):
    """Also, without a token: a request naming another host (a web page that rebound its domain to this machine)
    is refused, and one picture as the body is bounded at a picture's 64 MB, not at the request's 200."""
    origin = "https://app.example"
    with serving(own_model, "--cors-origin", origin) as server:
        described = server.client.get("/v1/model", headers={"Origin": origin})
        response = server.client.post("/v1/predict", files=[("files", ("me.jpg", jpeg(astronaut_frame())))])
        rebound = server.client.get("/v1/model", headers={"Host": "rebound.example:8000"})
        named = server.client.get("/v1/model", headers={"Host": "localhost:8000"})
        declared = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=60)
        declared.putrequest("POST", "/v1/predict")
        declared.putheader("Content-Type", "image/png")
        declared.putheader("Content-Length", str(65 * 2**20))  # declared, never sent
        declared.endheaders()
        oversized = declared.getresponse()
        assert oversized.status == 413 and b"the picture is over 64 MB" in oversized.read()
        declared.close()
    assert described.json()["classes"] == list(CLASSES) and described.headers["access-control-allow-origin"] == origin
    [face] = response.json()["pictures"][0]["faces"]
    assert list(face["probabilities"]) == list(CLASSES) and face["emotion"] in CLASSES
    assert "answers requests to this machine only" in problem(rebound, 403) and named.status_code == 200


def test_sigterm_lets_the_request_in_flight_finish_then_exits(own_model):
    with serving(own_model, "--idle-timeout", "900") as server:
        held = server.held_request(jpeg(astronaut_frame()))
        wait_until(lambda: server.in_flight() == 1, "the held request is being answered")
        server.process.send_signal(signal.SIGTERM)
        wait_until(lambda: any("Shutting down" in line for line in server.log), "the server began to shut down")
        status, body = held.finish()
        assert status == 200 and all(name.encode() in body for name in CLASSES)
        assert server.process.wait(60) == -signal.SIGTERM  # uvicorn ends by the signal it stopped for
        assert server.log_ended.wait(60) and "Finished server process" in server.log[-1]


# --- batching -------------------------------------------------------------------------------------------------
def test_faces_of_requests_waiting_together_share_one_network_call():
    calls, first_call_started, release = [], threading.Event(), threading.Event()

    def classify(faces: np.ndarray, views: str) -> np.ndarray:
        calls.append((len(faces), views))
        if len(calls) == 1:
            first_call_started.set()
            release.wait(30)  # the network is busy while the other requests arrive
        return np.stack([faces.reshape(len(faces), -1)[:, 0], np.full(len(faces), len(calls))], axis=1)

    async def requests() -> list[np.ndarray]:
        batcher = FaceBatcher(classify, max_faces=64, max_wait=0)
        batcher.start()
        first = asyncio.ensure_future(batcher.classify(np.full((1, 48, 48), 1, np.uint8), "shifted"))
        await asyncio.get_running_loop().run_in_executor(None, first_call_started.wait, 30)
        others = [asyncio.ensure_future(batcher.classify(np.full((count, 48, 48), value, np.uint8), views))
                  for count, value, views in ((2, 2, "shifted"), (3, 3, "shifted"), (1, 4, "mirror"))]
        await asyncio.sleep(0)  # every request is waiting now
        release.set()
        answers = await asyncio.gather(first, *others)
        await batcher.stop()
        return answers

    answers = asyncio.run(requests())
    assert calls == [(1, "shifted"), (5, "shifted"), (1, "mirror")]  # three requests, two calls, by views
    assert [answer[:, 0].tolist() for answer in answers] == [[1], [2, 2], [3, 3, 3], [4]]  # each its own faces
    assert [answer[:, 1].tolist() for answer in answers] == [[1], [2, 2], [2, 2, 2], [3]]
