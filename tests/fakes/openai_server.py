"""A fake OpenAI-compatible chat server on 127.0.0.1, for offline tests of the llm planner.

Replies are scripted: `server.queue(...)` takes answer texts, HTTP status codes, or `Reply`
objects (text or status, after an optional delay, with optional headers). Every request received
is recorded. The same server answers as ollama does (POST /api/chat and /api/generate, the routes
litellm's `ollama_chat/` and `ollama/` providers call; api_base without /v1). With
`rejects_formats={"json_schema"}` a request asking for that `response_format` type gets a 400,
as from a server that does not support it (the reply stays queued).

    with FakeOpenAIServer() as fake:
        fake.queue('{"name": "x"}', 429, Reply('{"name": "y"}', delay=2.0))
        litellm.completion(model="openai/fake-model", api_base=fake.url, api_key="test", ...)
        fake.requests[0].messages[-1]["content"]
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "model_not_found",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "service_unavailable",
}


@dataclass
class Reply:
    """One scripted reply: `content` with HTTP 200, or an error `status`; after `delay` seconds."""

    content: str | None = None
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] | None = None  # e.g. {"retry-after": "1"}; a 429 without gets retry-after 0


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", [])

    @property
    def text(self) -> str:
        """All message contents (or an ollama /api/generate prompt), for `in` assertions."""
        return "\n".join([str(m.get("content", "")) for m in self.messages] + [str(self.body.get("prompt", ""))])


class FakeOpenAIServer:
    """Serves POST /v1/chat/completions and /chat/completions from a queue of replies."""

    def __init__(self, *, rejects_formats: set[str] | frozenset[str] = frozenset()) -> None:
        self.rejects_formats = set(rejects_formats)
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.requests: list[ReceivedRequest] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root(self) -> str:
        """The api_base of an ollama client: http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The api_base to give an OpenAI client: http://127.0.0.1:PORT/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    def queue(self, *replies: str | int | Reply) -> FakeOpenAIServer:
        """Append replies: a str is an answer, an int an HTTP error status, or a `Reply`."""
        with self._lock:
            for r in replies:
                if isinstance(r, Reply):
                    self._replies.append(r)
                elif isinstance(r, int):
                    self._replies.append(Reply(status=r))
                else:
                    self._replies.append(Reply(content=r))
        return self

    @property
    def pending(self) -> int:
        return len(self._replies)

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()  # wake handlers sleeping on a delay
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _next(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.pop(0)
        return Reply(content="fake server: no scripted reply left", status=500)

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                path = self.path.split("?", 1)[0]
                if path not in ("/v1/chat/completions", "/chat/completions", "/api/chat", "/api/generate"):
                    self._send(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
                    return
                server.requests.append(ReceivedRequest(path, {k.lower(): v for k, v in self.headers.items()}, body))
                asked = (body.get("response_format") or {}).get("type") if isinstance(body, dict) else None
                if asked in server.rejects_formats:
                    message = f"response_format type {asked!r} is not supported by this server"
                    self._send(400, {"error": {"message": message, "type": "invalid_request_error", "code": None}})
                    return
                reply = server._next()
                if reply.delay and server._closing.wait(reply.delay):
                    return  # shutting down
                if reply.status != 200:
                    message = reply.content or f"fake error {reply.status}"
                    self._send(
                        reply.status,
                        {
                            "error": {
                                "message": message,
                                "type": ERROR_TYPES.get(reply.status, "error"),
                                "code": ERROR_TYPES.get(reply.status),
                            }
                        },
                        headers=reply.headers or ({"retry-after": "0"} if reply.status == 429 else None),
                    )
                    return
                if path.startswith("/api/"):
                    self._send_ollama(path, body, reply)
                    return
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-fake-{len(server.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "fake-model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                    },
                )

            def _send_ollama(self, path: str, body: dict, reply: Reply) -> None:
                answer: dict[str, Any] = {
                    "model": body.get("model", "fake-model"),
                    "created_at": "2026-01-01T00:00:00Z",
                    "done": True,
                    "done_reason": "stop",
                    "prompt_eval_count": 10,
                    "eval_count": 10,
                }
                if path == "/api/chat":
                    answer["message"] = {"role": "assistant", "content": reply.content}
                else:
                    answer["response"] = reply.content
                self._send(200, answer)

            def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler
