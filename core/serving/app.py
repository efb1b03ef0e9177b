"""The HTTP API's routes: POST /v1/predict (faces and their classes in pictures), GET /v1/model, GET /healthz, and
the OpenAPI schema with its docs page (assets served from the package, nothing fetched from elsewhere).

Every answer other than a success is JSON {"message": ..., "status": ...}; a fault in the server is logged here
and answered 500 without its traceback.
"""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Literal

import numpy as np
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from python_multipart.multipart import parse_options_header
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from core.models.inference import DEFAULT_VIEWS, VIEWS
from core.prediction.pictures import FacePrediction, FacePredictor
from core.serving.batching import MAX_WAIT_SECONDS, FaceBatcher
from core.serving.limits import (InFlight, Limits, Refusal, body_over_limit, bounded_receive, declared_length,
                                 kept_tail, names_this_machine, token_matches)
from core.storage.safe_files import MAX_FILE_BYTES
from core.vision.faces import PHOTO, find_and_crop, no_face_reason
from core.vision.imaging import ImageError, read_image

LOG = logging.getLogger("core.serving")
PICTURE_BODY = {"type": "string", "format": "binary"}
REQUEST_BODY = {"requestBody": {"required": True, "description": "one picture as the body, or several as "
                                "multipart files (any field name); formats are told by content", "content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "files": {"type": "array", "items": PICTURE_BODY}}}},
    "image/jpeg": {"schema": PICTURE_BODY}, "image/png": {"schema": PICTURE_BODY},
    "application/octet-stream": {"schema": PICTURE_BODY}}}}


class Face(BaseModel):
    box: list[int]  # x, y, width, height in the picture's pixels (after EXIF rotation)
    emotion: str  # the most probable of the model's classes
    confidence: float
    probabilities: dict[str, float]  # every class of the model, by its own name


class Picture(BaseModel):
    name: str  # the multipart file's name, or "body"
    faces: list[Face]  # largest first
    no_face: str | None = None  # why no face was found, when none was


class Prediction(BaseModel):
    pictures: list[Picture]


class Problem(BaseModel):
    message: str
    status: int


ERRORS = {status: {"model": Problem} for status in (400, 401, 408, 413, 422, 503, 504)}


def create_app(predictor: FacePredictor, limits: Limits = Limits(), token: str | None = None,
               cors_origins: tuple[str, ...] = (), workers: int = 2, batch_wait: float = MAX_WAIT_SECONDS) -> FastAPI:
    """The API over a loaded predictor. token: every /v1 route asks for it as a bearer token (None: loopback
    use, no sign-in); cors_origins: the browser origins allowed to call it (none: CORS off); workers: threads
    decoding pictures and finding faces; batch_wait: seconds a face waits for others to share a network call."""
    batcher = FaceBatcher(predictor.classify_faces, max_wait=batch_wait)
    face_finders = ThreadPoolExecutor(workers, thread_name_prefix="faces")
    in_flight = InFlight(limits.max_in_flight)

    @asynccontextmanager
    async def lifespan(_app):
        batcher.start()
        yield
        await batcher.stop()
        face_finders.shutdown(wait=True, cancel_futures=True)

    app = FastAPIOffline(title="FER Studio API", version="1", lifespan=lifespan, redoc_url=None,
                         description="Faces found and classified by one model, as the Predict page does. "
                                     "Errors are JSON {message, status}.")
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    _answer_errors_as_json(app)
    bearer = HTTPBearer(auto_error=False, description="the server's FER_API_TOKEN, where it has one")

    def signed_in(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token and not token_matches(credentials.credentials if credentials else None, token):
            raise Refusal(401, "a valid token is needed: send 'Authorization: Bearer <FER_API_TOKEN>'",
                          {"WWW-Authenticate": "Bearer"})
        if not token and not names_this_machine(request.headers.get("host")):  # a page rebinding its domain
            raise Refusal(403, "this server has no token and answers requests to this machine only (Host: "
                               "127.0.0.1, localhost or [::1])")

    @app.get("/healthz", summary="Whether the server answers (for probes; no token asked)")
    async def health() -> dict:
        return {"status": "ok", "in_flight": in_flight.count, "network_calls": batcher.calls,
                "faces_classified": batcher.faces}

    app.add_api_route("/healthz", health, methods=["HEAD"], include_in_schema=False)  # probes that send HEAD

    @app.get("/v1/model", dependencies=[Depends(signed_in)], responses=ERRORS,
             summary="The model served: its classes, its card's scores, its runtime")
    async def model() -> dict:
        return model_description(predictor)

    @app.post("/v1/predict", dependencies=[Depends(signed_in)], response_model=Prediction, responses=ERRORS,
              openapi_extra=REQUEST_BODY, summary="Every face in each picture, with each class's probability")
    async def predict(request: Request,
                      views: Literal[VIEWS] = Query(
                          DEFAULT_VIEWS, description="test-time views averaged: the face; + its mirror; "
                                                     "+ both shifted 2 px (10 pictures a face, the default)"),
                      largest_only: bool = Query(False, description="only the largest face of each picture")):
        in_flight.enter()
        try:
            async with asyncio.timeout(limits.request_seconds):
                return await _predict(request, views, largest_only)
        except TimeoutError:
            raise Refusal(504, f"not answered within {limits.request_seconds:g} s, the most a request may take: "
                               "send fewer or smaller pictures") from None
        finally:
            in_flight.leave()

    async def _predict(request: Request, views: str, largest_only: bool) -> dict:
        async with AsyncExitStack() as received:
            uploads = await _read_pictures(request, limits, received)
            loop = asyncio.get_running_loop()
            found = await asyncio.gather(*(loop.run_in_executor(face_finders, _faces_in, name, upload, largest_only)
                                           for name, upload in uploads))
        crops = np.concatenate([crops for _, crops, _ in found])
        probabilities = await batcher.classify(crops, views) if len(crops) else crops
        pictures, start = [], 0
        for (name, _), (boxes, _, reason) in zip(uploads, found):
            faces = [FacePrediction(box, probabilities[start + i], predictor.classes).as_dict()
                     for i, box in enumerate(boxes)]
            pictures.append({"name": name, "faces": faces, "no_face": reason})
            start += len(boxes)
        return {"pictures": pictures}

    return app


def model_description(predictor: FacePredictor) -> dict:
    """What GET /v1/model says: classes, runtime, default views, the card's network and its scores."""
    card = predictor.card
    scores = {split: {key: card[split][key] for key in ("images", "accuracy", "macro_f1", "views", "per_class")
                      if key in card[split]}
              for split in ("validation", "test") if isinstance(card.get(split), dict)}
    return {"classes": predictor.classes, "runtime": predictor.runtime, "views": predictor.views,
            "architecture": card.get("architecture"), "parameters": card.get("parameters"),
            "finished": card.get("finished"), "scores": scores}


async def _read_pictures(request: Request, limits: Limits,
                         received: AsyncExitStack) -> list[tuple[str, bytes | UploadFile]]:
    """The pictures a request sends, each (name, bytes or an uploaded file), none decoded yet: the body
    bounded as it arrives, at most limits.max_pictures of them; uploaded files are removed when `received`
    closes."""
    media_type, options = parse_options_header(request.headers.get("content-type"))  # lower-cased
    multipart = media_type == b"multipart/form-data"
    limit = limits.max_body_bytes if multipart else min(limits.max_body_bytes, MAX_FILE_BYTES)  # one picture
    over_limit = body_over_limit(limit) if limit == limits.max_body_bytes else \
        f"the picture is over {MAX_FILE_BYTES // 2**20} MB, the most a picture may be"
    length = declared_length(request.headers)
    if length is not None and length > limit:
        raise Refusal(413, over_limit)
    receive = bounded_receive(request.receive, limit, limits.idle_seconds, over_limit)
    if multipart:
        closing = b"--" + options.get(b"boundary", b"") + b"--"
        receive, tail = kept_tail(receive, len(closing) + 4)
        form = await received.enter_async_context(Request(request.scope, receive).form(
            max_files=limits.max_pictures, max_fields=limits.max_pictures))
        if not tail().rstrip(b"\r\n").endswith(closing):  # the parser takes a cut body for a shorter one
            raise Refusal(400, "malformed multipart body: it ends before its closing boundary (cut off?)")
        uploads = [(value.filename or key, value) for key, value in form.multi_items() if isinstance(value, UploadFile)]
    else:
        body = await Request(request.scope, receive).body()
        uploads = [("body", body)] if body else []
    if not uploads:
        raise Refusal(400, "no picture: send one as the body (Content-Type: image/jpeg, ...) or several as "
                           "multipart files")
    return uploads


def _faces_in(name: str, upload: bytes | UploadFile, largest_only: bool) -> tuple[list, np.ndarray, str | None]:
    """Boxes and 48x48 crops of the faces in one picture (decoded here, in a worker thread), and why none was
    found when none was; a picture that cannot be read is refused (422) by its name."""
    size = len(upload) if isinstance(upload, bytes) else upload.size or 0
    try:
        if size > MAX_FILE_BYTES:  # said with its own size (a read stops one byte past the bound)
            raise ImageError(f"{size / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB a picture may be")
        picture = read_image(upload if isinstance(upload, bytes) else upload.file.read(MAX_FILE_BYTES + 1), "RGB")
    except ImageError as error:
        raise Refusal(422, f"{name}: {error}") from None
    boxes, crops = find_and_crop(picture, PHOTO)
    if largest_only:
        boxes, crops = boxes[:1], crops[:1]
    return boxes, crops, None if boxes else no_face_reason(picture)


def _answer_errors_as_json(app: FastAPI) -> None:
    """Every refusal and fault as JSON {message, status}."""

    def problem(status: int, message: str, headers: dict | None = None) -> JSONResponse:
        return JSONResponse({"message": message, "status": status}, status, headers)

    @app.exception_handler(Refusal)
    async def refused(_request, error: Refusal):
        return problem(error.status, error.message, error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, error: StarletteHTTPException):
        return problem(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, error: RequestValidationError):
        reasons = ["{}: {}".format(".".join(str(part) for part in item["loc"][1:]), item["msg"])
                   for item in error.errors()]
        return problem(422, "; ".join(reasons))

    @app.exception_handler(ClientDisconnect)
    async def disconnected(_request, _error):
        return problem(400, "the client disconnected before sending the whole request")

    @app.exception_handler(Exception)
    async def fault(request, error: Exception):
        LOG.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return problem(500, "the server failed to answer this request (its log says why)")
