"""What the HTTP API accepts and from whom: loopback unless a token guards it, bytes, pictures, time and requests
in flight bounded, each refusal a status and a one-line message."""

import asyncio
import hmac
import ipaddress
import time
from dataclasses import dataclass

from core.storage.uploads import MAX_FILES, MAX_TOTAL_MB

TOKEN_VARIABLE = "FER_API_TOKEN"
MIN_TOKEN_CHARS = 16  # a shorter token is refused at start (token_urlsafe(32) gives 43)
MAX_IN_FLIGHT = 32  # requests at once; beyond: 503 with Retry-After (16 clients measured without one, bench/serve.py)
REQUEST_SECONDS = 60.0  # a request still unanswered after this is answered 504
IDLE_SECONDS = 10.0  # a body that stops arriving for this long is answered 408 (it holds a place in flight)
# ... and past those first seconds, a body must have come at this rate on average (a phone on a slow network sends
# ten times as much): a client trickling a byte every few seconds gives its place back then, not at the time limit.
MIN_BYTES_PER_SECOND = 16 * 1024
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")  # what a request to this machine names as its Host
RETRY_AFTER_SECONDS = 1


class Refusal(Exception):
    """A request the API refuses: its HTTP status, a one-line message and any headers to send."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass(frozen=True)
class Limits:
    """The bounds of one server: a request's body (bytes), its pictures, the requests in flight at once, the
    seconds a request may take and a body may pause. Defaults: an upload batch's bounds (core.storage.uploads)."""

    max_body_bytes: int = MAX_TOTAL_MB * 2**20
    max_pictures: int = MAX_FILES
    max_in_flight: int = MAX_IN_FLIGHT
    request_seconds: float = REQUEST_SECONDS
    idle_seconds: float = IDLE_SECONDS


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches ("127.0.0.1", "::1", "localhost").

    Example: is_loopback("0.0.0.0") -> False
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse (ValueError) to serve beyond this machine without a token to ask every caller for, and a token
    shorter than MIN_TOKEN_CHARS anywhere."""
    if not is_loopback(host) and not token:
        raise ValueError(f"serving on {host} reaches other machines: set {TOKEN_VARIABLE} to a long random secret "
                         f"that callers send as 'Authorization: Bearer ...', or serve on 127.0.0.1")
    if token and len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"{TOKEN_VARIABLE} is {len(token)} characters, too few to keep anyone out: use at least "
                         f"{MIN_TOKEN_CHARS}, for example python -c 'import secrets; print(secrets.token_urlsafe(32))'")


def names_this_machine(host_header: str | None) -> bool:
    """Whether a request's Host header names this machine (a loopback address or localhost, any port): a web
    page that rebinds its own domain to 127.0.0.1 sends its domain, and a server without a token refuses it.

    Example: names_this_machine("localhost:8000") -> True; names_this_machine("evil.example:8000") -> False
    """
    host = (host_header or "").strip().lower()
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") and "]:" in host else host
    return name in LOOPBACK_NAMES or is_loopback(name.strip("[]"))


def token_matches(sent: str | None, token: str) -> bool:
    """Whether a bearer token sent equals the server's, compared in constant time."""
    return sent is not None and hmac.compare_digest(sent.encode(), token.encode())


class InFlight:
    """Requests being answered now, at most `limit`; used from the event loop's one thread only."""

    def __init__(self, limit: int):
        self.limit, self.count = limit, 0

    def enter(self) -> None:
        """Count one more request, or refuse it (503, Retry-After) when `limit` are being answered."""
        if self.count >= self.limit:
            raise Refusal(503, f"busy: {self.limit} requests are being answered; retry in a moment",
                          {"Retry-After": str(RETRY_AFTER_SECONDS)})
        self.count += 1

    def leave(self) -> None:
        self.count -= 1


def declared_length(headers) -> int | None:
    """The Content-Length a request declares, or None; a malformed one is refused (400)."""
    value = headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise Refusal(400, "malformed Content-Length header")
    return int(value)


def bounded_receive(receive, limit: int, idle_seconds: float, over_limit: str = "", clock=time.monotonic):
    """An ASGI receive that refuses a body past `limit` bytes as it arrives, whatever its Content-Length said (a
    chunked body has none): 413 (over_limit: what to say); and one that stops arriving for idle_seconds (a stalled
    client), or after them has come at under MIN_BYTES_PER_SECOND on average (a trickling one): 408."""
    received, started = 0, None

    async def receive_bounded():
        nonlocal received, started
        started = clock() if started is None else started
        try:
            async with asyncio.timeout(idle_seconds):
                message = await receive()
        except TimeoutError:
            raise Refusal(408, f"the request's body stopped arriving: nothing came for {idle_seconds:g} s") from None
        received += len(message.get("body", b""))
        if received > limit:
            raise Refusal(413, over_limit or body_over_limit(limit))
        late = clock() - started - idle_seconds
        if late > 0 and received < MIN_BYTES_PER_SECOND * late and message.get("more_body"):
            raise Refusal(408, f"the request's body arrives too slowly: {received} bytes in {late + idle_seconds:.0f} "
                               f"s (at least {MIN_BYTES_PER_SECOND // 1024} KB a second after the first "
                               f"{idle_seconds:g} s)")
        return message

    return receive_bounded


def kept_tail(receive, size: int):
    """An ASGI receive passing the body on unchanged, and a function giving the body's last `size` bytes."""
    tail = b""

    async def receive_keeping_tail():
        nonlocal tail
        message = await receive()
        tail = (tail + message.get("body", b""))[-size:]
        return message

    return receive_keeping_tail, lambda: tail


def body_over_limit(limit: int) -> str:
    return f"the request is over {limit / 2**20:g} MB, the most one request may send"
