"""HTTP plumbing of the remote engines: one client, error classes, Retry-After, audio values, doctor probes."""

from __future__ import annotations

import base64
import binascii
import email.utils
import json
import os
import struct
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from tui_tts.audio.probe import AudioError, inspect_audio
from tui_tts.engines.base import (
    BadOutputError,
    Check,
    ChunkRejectedError,
    FatalError,
    RateLimitedError,
    RetryableError,
)
from tui_tts.engines.redaction import redact, register_secret
from tui_tts.models import AudioFacts

# httpx's default is 5 s for every phase; a TTS request for a long chunk can take far longer to answer.
CONNECT_TIMEOUT = 10.0
WRITE_TIMEOUT = 30.0
RETRY_AFTER_CAP = 300.0
WAV_PLACEHOLDER_SIZE = 0x7FFF0000  # data sizes from here up are "unknown length" placeholders, not real sizes


def make_client(
    base_url: str = "", headers: Mapping[str, str] | None = None, read_timeout: float = 60.0
) -> httpx.AsyncClient:
    """A client of a run: httpx's API over aiohttp's pool (engines/transport.py), keep-alive, a long read timeout.

    The pool has no connection cap: the scheduler bounds how many requests are in flight, and that bound can change
    during a run (`+`), so a cap fixed at start would quietly queue requests in the pool.
    """
    from tui_tts.engines.transport import PooledTransport  # aiohttp loads only for a remote engine

    return httpx.AsyncClient(
        base_url=base_url,
        headers=dict(headers or {}),
        timeout=httpx.Timeout(connect=CONNECT_TIMEOUT, read=read_timeout, write=WRITE_TIMEOUT, pool=None),
        transport=PooledTransport(),
        follow_redirects=True,
    )


def is_local_url(url: str) -> bool:
    """True for servers on this machine (no API key needed for them)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")


def api_key_from(env_name: str, base_url: str, service: str) -> str | None:
    """Read the key from the environment. Missing is an error except for a local server."""
    key = os.environ.get(env_name, "").strip()
    if key:
        register_secret(key)
        return key
    if is_local_url(base_url):
        return None
    raise FatalError(f"no API key for {service}: set the environment variable {env_name}")


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Retry-After as seconds (delay-seconds or an HTTP date, RFC 9110), or retry-after-ms; None if absent or odd."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return min(RETRY_AFTER_CAP, max(0.0, float(raw_ms) / 1000))
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return min(RETRY_AFTER_CAP, max(0.0, float(raw)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return min(RETRY_AFTER_CAP, max(0.0, when.timestamp() - time.time()))


def short_body(response: httpx.Response, limit: int = 200) -> str:
    """A response body fit for one line of an error message, keys cut out before it is shortened."""
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    text = redact(" ".join(text.split()))
    return text[:limit] + ("..." if len(text) > limit else "")


def raise_for_transport(exc: httpx.TransportError, what: str) -> None:
    """Connection resets, timeouts and protocol errors are passing failures."""
    kind = type(exc).__name__
    error = RetryableError(f"{what}: {kind}{': ' + str(exc) if str(exc) else ''}", overload=True)
    error.unreachable = error.no_answer = True
    error.refused = isinstance(exc, httpx.ConnectError)
    raise error from None


def _sent_a_key(response: httpx.Response) -> bool:
    try:
        return "authorization" in response.request.headers
    except RuntimeError:  # a response made by hand, without its request: assume the key went
        return True


def classify_status(response: httpx.Response, what: str, service: str) -> None:
    """Map an HTTP error status onto the engine error taxonomy. Returns quietly for 2xx."""
    code = response.status_code
    if code < 400:
        return
    if code in (401, 403):
        if not _sent_a_key(response):  # a local address goes without a key unless its environment variable is set
            raise FatalError(f"{service} wants an API key (HTTP {code}) on {what} and none was sent: set the "
                             "environment variable that api_key_env names")  # fmt: skip
        raise FatalError(f"{service} refused the API key (HTTP {code}) on {what}; check the key and its permissions")
    if code == 429:
        raise RateLimitedError(f"{what}: HTTP 429 rate limited", retry_after_seconds(response.headers))
    if code >= 500 or code in (408, 409, 425):
        error = RetryableError(f"{what}: HTTP {code} {short_body(response)}".rstrip(), overload=True)
        error.unreachable = code >= 500
        raise error
    if code in (400, 413, 422):  # about this request's content: other chunks may well succeed
        raise ChunkRejectedError(f"{what}: HTTP {code} {short_body(response)}".rstrip())
    if code == 404:
        raise FatalError(f"{what}: HTTP 404 not found at {response.request.url}; check the endpoint in the config")
    raise FatalError(f"{what}: HTTP {code} {short_body(response)}".rstrip())


def dig(value: Any, dot_path: str) -> Any:
    """Follow a dot path (e.g. 'result.audio.data' or 'items.0.audio') into JSON; None if it is not there."""
    for part in [p for p in dot_path.split(".") if p]:
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


async def audio_from_value(value: Any, downloader: httpx.AsyncClient) -> bytes:
    """Audio bytes from base64, a data: URI, or an http(s) URL. Raises BadOutputError."""
    if not isinstance(value, str) or not value.strip():
        raise BadOutputError(f"expected audio as base64, a data: URI or a URL, got {type(value).__name__}")
    text = value.strip()
    if text.startswith(("http://", "https://")):
        try:
            response = await downloader.get(text)
        except httpx.TransportError as exc:
            raise RetryableError(f"downloading the audio failed: {type(exc).__name__}") from None
        if response.status_code >= 400:
            raise BadOutputError(f"downloading the audio failed: HTTP {response.status_code}")
        return response.content
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if ";base64" not in header:
            raise BadOutputError("a data: URI without base64 encoding")
    try:
        return base64.b64decode(text, validate=True)  # the usual case: one line, nothing to strip (no copy)
    except (binascii.Error, ValueError):
        pass
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BadOutputError("the audio is not valid base64") from None


def validated_audio(data: bytes, source: str) -> tuple[bytes, AudioFacts]:
    """Audio must decode, be whole and not be empty before a chunk counts as done."""
    shortfall = wav_shortfall(data)
    if shortfall is not None:
        declared, arrived = shortfall
        raise BadOutputError(f"{source} returned truncated audio: the WAV declares {declared} bytes of samples, "
                             f"{arrived} arrived")  # fmt: skip
    try:
        return inspect_audio(data)
    except AudioError as exc:
        raise BadOutputError(f"{source} returned unusable audio: {exc}") from None


def wav_shortfall(data: bytes) -> tuple[int, int] | None:
    """(declared, arrived) sample bytes of a WAV cut short; None if whole, not WAV, or sized by a placeholder.

    Streaming servers write 0 or 0xFFFFFFFF-like sizes before they know the length: those mean "to the end".
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        if chunk_id == b"data":
            arrived = len(data) - offset - 8
            placeholder = size == 0 or size >= WAV_PLACEHOLDER_SIZE
            return (size, arrived) if not placeholder and size > arrived else None
        offset += 8 + size + (size & 1)
    return None


def key_check(env_name: str) -> Check:
    """`doctor`: whether the API key's variable is set (never the key)."""
    return Check("api key", True, f"${env_name} is {'set' if os.environ.get(env_name) else 'not set (local)'}")


async def probe(url: str, label: str, key_env: str, missing_route_ok: bool = False) -> Check:
    """`doctor`: GET a URL with the key, and say what came back. A 404 is fine only when `missing_route_ok`."""
    key = os.environ.get(key_env, "")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.get(url, headers=headers)
    except httpx.TransportError as exc:
        return Check(label, False, f"GET {url}: {type(exc).__name__} (is it running? is the URL right?)")
    code = response.status_code
    if code in (401, 403):
        return Check(label, False, f"GET {url}: HTTP {code}: the API key was refused")
    if code == 404:
        return Check(label, missing_route_ok, f"GET {url}: HTTP 404 (no such route or endpoint)")
    if code >= 400:
        return Check(label, False, f"GET {url}: HTTP {code}")
    return Check(label, True, f"GET {url}: HTTP {code} {response.text[:120]}")


def fill_template(template: Any, text: str) -> Any:
    """A job input: every string containing {text} gets the chunk's text; all else passes through as JSON."""
    if isinstance(template, str):
        return template.replace("{text}", text) if "{text}" in template else template
    if isinstance(template, dict):
        return {key: fill_template(value, text) for key, value in template.items()}
    if isinstance(template, list):
        return [fill_template(value, text) for value in template]
    return template


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    """The answer's JSON object; a RetryableError when it is not one (garbage says nothing about the job)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RetryableError(f"{what}: the answer is not JSON (HTTP {response.status_code})") from None
    if not isinstance(body, dict):
        raise RetryableError(f"{what}: the answer is not a JSON object")
    return body


def age_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def one_line(value: object, limit: int = 200) -> str:
    """A value on one line, keys cut from it, at most `limit` characters."""
    text = redact(" ".join(str(value).split()))  # before shortening: a cut key would no longer match
    return text[:limit] + ("..." if len(text) > limit else "")
