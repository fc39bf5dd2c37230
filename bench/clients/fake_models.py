"""Scripted stand-ins for the Anthropic Messages API and the OpenAI Responses API.

Claude Code and Codex only call MCP tools when their model asks for it, and no real model
is reachable here (no API key, no network). These tiny loopback servers play the model:
on the first turn they ask the client to call tokenlean's `search` tool, and on the next
turn they record the tool result the client sends back and end the conversation.

So the client does everything for real (loads its MCP config, starts `tokenlean serve`,
lists its tools, routes the tool call, returns the result); only the model's decision is
scripted. They bind to 127.0.0.1 and answer nothing but these two endpoints.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Recorder:
    """What a fake model saw: one entry per request, plus the tool results it was sent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.tool_results: list[str] = []
        self.errors: list[str] = []

    def note(self, **entry: Any) -> None:
        with self.lock:
            self.requests.append(entry)


class FakeModelServer:
    """Base: a ThreadingHTTPServer on 127.0.0.1:<free port> running in a daemon thread."""

    handler_cls: type[BaseHTTPRequestHandler]

    def __init__(self, query: str) -> None:
        self.query = query
        self.rec = _Recorder()
        outer = self

        class Handler(self.handler_cls):  # type: ignore[misc, valid-type]
            server_ref = outer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeModelServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _BaseHandler(BaseHTTPRequestHandler):
    server_ref: FakeModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep the verifier's output clean
        pass

    def _read_json(self) -> dict[str, Any] | None:
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        enc = (self.headers.get("content-encoding") or "").lower()
        if enc == "gzip":
            import gzip

            raw = gzip.decompress(raw)
        elif enc not in ("", "identity"):
            self.server_ref.rec.errors.append(f"request body in unsupported content-encoding {enc!r}")
            return None
        try:
            return json.loads(raw or b"{}")
        except ValueError as e:
            self.server_ref.rec.errors.append(f"request body is not JSON: {e}")
            return None

    def _send_json(self, obj: Any, status: int = 200) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True

    def _event(self, name: str, data: dict[str, Any]) -> None:
        self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()

    def do_GET(self) -> None:
        self.server_ref.rec.note(method="GET", path=self.path)
        self._send_json({"error": {"type": "not_found", "message": "fake model: not served"}}, 404)


def _text_of(content: Any) -> str:
    """Flatten a tool_result / function_call_output payload to text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            _text_of(c.get("text", c.get("content", ""))) if isinstance(c, dict) else str(c) for c in content
        )
    if isinstance(content, dict):
        return _text_of(content.get("text", content.get("content", "")))
    return str(content)


# --------------------------------------------------------------------------- Anthropic


class _AnthropicHandler(_BaseHandler):
    TOOL = "mcp__tokenlean__search"

    def do_POST(self) -> None:
        rec = self.server_ref.rec
        body = self._read_json()
        if body is None:
            self._send_json(
                {"type": "error", "error": {"type": "invalid_request_error", "message": "bad body"}}, 400
            )
            return
        if "count_tokens" in self.path:
            self._send_json({"input_tokens": 10})
            return
        tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        msgs = body.get("messages") or []
        last = msgs[-1] if msgs else {}
        content = last.get("content") if isinstance(last.get("content"), list) else []
        results = [c for c in content if isinstance(c, dict) and c.get("type") == "tool_result"]
        rec.note(method="POST", path=self.path, tools=tools, tool_results=len(results))
        if results:
            for r in results:
                text = _text_of(r.get("content"))
                rec.tool_results.append(("ERROR: " if r.get("is_error") else "") + text)
            blocks = [{"type": "text", "text": "done"}]
            stop = "end_turn"
        elif self.TOOL in tools:
            blocks = [
                {
                    "type": "tool_use",
                    "id": "toolu_tokenlean_1",
                    "name": self.TOOL,
                    "input": {"query": self.server_ref.query},
                }
            ]
            stop = "tool_use"
        else:  # e.g. a side request (titles, summaries) or tokenlean missing from the tool list
            blocks = [{"type": "text", "text": "tokenlean tool not offered"}]
            stop = "end_turn"
        msg = {
            "id": f"msg_fake_{len(rec.requests)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "fake"),
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5},
        }
        if not body.get("stream"):
            self._send_json(msg)
            return
        self._start_sse()
        self._event(
            "message_start", {"type": "message_start", "message": {**msg, "content": [], "stop_reason": None}}
        )
        for i, b in enumerate(blocks):
            if b["type"] == "text":
                self._event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": i,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
                self._event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "text_delta", "text": b["text"]},
                    },
                )
            else:
                self._event(
                    "content_block_start",
                    {"type": "content_block_start", "index": i, "content_block": {**b, "input": {}}},
                )
                self._event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "input_json_delta", "partial_json": json.dumps(b["input"])},
                    },
                )
            self._event("content_block_stop", {"type": "content_block_stop", "index": i})
        self._event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 5},
            },
        )
        self._event("message_stop", {"type": "message_stop"})


class FakeAnthropic(FakeModelServer):
    """Point Claude Code at it with ANTHROPIC_BASE_URL=<base_url> and any ANTHROPIC_API_KEY."""

    handler_cls = _AnthropicHandler


# --------------------------------------------------------------------------- OpenAI Responses


class _ResponsesHandler(_BaseHandler):
    MAX_WAITS = 8  # turns spent waiting for tokenlean to appear in the tool list

    def do_POST(self) -> None:
        rec = self.server_ref.rec
        body = self._read_json()
        if body is None:
            self._send_json({"error": {"message": "bad body"}}, 400)
            return
        tools = body.get("tools") or []
        # Codex offers each MCP server's tools as one "namespace" tool named mcp__<server>.
        ns = next(
            (t.get("name") for t in tools if isinstance(t, dict) and "tokenlean" in str(t.get("name", ""))),
            None,
        )
        items = [i for i in body.get("input") or [] if isinstance(i, dict)]
        outputs = {
            i.get("call_id"): i.get("output") for i in items if i.get("type", "").endswith("call_output")
        }
        waits = sum(
            1
            for i in items
            if i.get("type") == "function_call" and i.get("name") == "tokenlean_not_ready_yet"
        )
        rec.note(
            method="POST",
            path=self.path,
            tools=[t.get("name") or t.get("type") for t in tools if isinstance(t, dict)],
            has_tokenlean=bool(ns),
        )
        if "call_tokenlean_search" in outputs:
            rec.tool_results.append(_text_of(outputs["call_tokenlean_search"]))
            item: dict[str, Any] = {
                "type": "message",
                "role": "assistant",
                "id": "msg_fake_done",
                "content": [{"type": "output_text", "text": "done"}],
            }
        elif ns:
            item = {
                "type": "function_call",
                "id": "fc_tokenlean_search",
                "call_id": "call_tokenlean_search",
                "namespace": ns,
                "name": "search",
                "arguments": json.dumps({"query": self.server_ref.query}),
            }
        elif waits < self.MAX_WAITS:
            # tokenlean is still starting (Codex does not always wait for MCP servers before
            # the first turn): call a tool that does not exist, which costs one round trip.
            item = {
                "type": "function_call",
                "id": f"fc_wait_{waits}",
                "call_id": f"call_wait_{waits}",
                "name": "tokenlean_not_ready_yet",
                "arguments": "{}",
            }
        else:
            item = {
                "type": "message",
                "role": "assistant",
                "id": "msg_fake_gaveup",
                "content": [{"type": "output_text", "text": "tokenlean tool never offered"}],
            }
        self._start_sse()
        rid = f"resp_fake_{len(rec.requests)}"
        self._event("response.created", {"type": "response.created", "response": {"id": rid}})
        self._event("response.output_item.done", {"type": "response.output_item.done", "item": item})
        usage = {
            "input_tokens": 1,
            "input_tokens_details": None,
            "output_tokens": 1,
            "output_tokens_details": None,
            "total_tokens": 2,
        }
        self._event(
            "response.completed", {"type": "response.completed", "response": {"id": rid, "usage": usage}}
        )


class FakeResponses(FakeModelServer):
    """Point Codex at it with a custom model provider whose base_url is <base_url>/v1."""

    handler_cls = _ResponsesHandler
