"""Faces of requests that arrive together, classified together: one network call for all of them.

A request hands its faces to FaceBatcher.classify and waits. The batcher takes the first waiting request, then
any others that arrive within `max_wait` seconds (or are already waiting, as they are while the network works
on the previous call), up to `max_faces`, and classifies each views mode's faces in one call on its own thread.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

MAX_FACES = 64  # faces a network call (core.models.inference splits larger calls by its own BATCH_SIZE)
MAX_WAIT_SECONDS = 0.002  # how long the first face waits for others; bench/serve.py measures the effect

Classify = Callable[[np.ndarray, str], np.ndarray]  # (N, 48, 48) uint8 faces, views -> (N, classes)


@dataclass
class _Waiting:
    faces: np.ndarray
    views: str
    answer: asyncio.Future = field(repr=False)


class FaceBatcher:
    """Classifies faces from many requests in shared network calls (start it inside the running event loop).

    Example: probabilities = await batcher.classify(crops, "shifted")
    """

    def __init__(self, classify: Classify, max_faces: int = MAX_FACES, max_wait: float = MAX_WAIT_SECONDS):
        self._classify, self.max_faces, self.max_wait = classify, max_faces, max_wait
        self._queue: asyncio.Queue[_Waiting] | None = None
        self._task: asyncio.Task | None = None
        self._network = ThreadPoolExecutor(1, thread_name_prefix="network")  # off the event loop, one call at a time
        self.calls = 0  # network calls made, and the faces they classified: faces / calls is the batch size
        self.faces = 0

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._serve())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._network.shutdown(wait=True)

    async def classify(self, faces: np.ndarray, views: str) -> np.ndarray:
        """(N, classes) probabilities for (N, 48, 48) faces, classified with the faces of other requests."""
        waiting = _Waiting(faces, views, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(waiting)
        return await waiting.answer

    async def _serve(self) -> None:
        while True:
            batch = await self._gather()
            for views in dict.fromkeys(waiting.views for waiting in batch):
                await self._answer([waiting for waiting in batch if waiting.views == views], views)

    async def _gather(self) -> list[_Waiting]:
        """The first waiting request and those that join it within max_wait, up to max_faces faces."""
        batch = [await self._queue.get()]
        count = len(batch[0].faces)
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while count < self.max_faces:
            try:
                if self._queue.empty():
                    left = deadline - asyncio.get_running_loop().time()
                    waiting = await asyncio.wait_for(self._queue.get(), left) if left > 0 else None
                else:
                    waiting = self._queue.get_nowait()
            except TimeoutError:
                waiting = None
            if waiting is None:
                break
            batch.append(waiting)
            count += len(waiting.faces)
        return [waiting for waiting in batch if not waiting.answer.done()]  # a request given up meanwhile: skipped

    async def _answer(self, batch: list[_Waiting], views: str) -> None:
        if not batch:
            return
        faces = np.concatenate([waiting.faces for waiting in batch])
        try:
            probabilities = await asyncio.get_running_loop().run_in_executor(self._network, self._classify, faces,
                                                                             views)
        except Exception as error:  # each request answers its own error
            for waiting in batch:
                if not waiting.answer.done():
                    waiting.answer.set_exception(error)
            return
        self.calls, self.faces = self.calls + 1, self.faces + len(faces)
        start = 0
        for waiting in batch:
            if not waiting.answer.done():
                waiting.answer.set_result(probabilities[start:start + len(waiting.faces)])
            start += len(waiting.faces)
