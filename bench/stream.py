"""Benchmark: streaming from the fake Responses server, and what reusing one WebSocket buys.

Measured in one run, printed, never asserted (timings vary with the machine; ratios against a baseline
measured in the same run are what to compare):

(a)  20,000 text deltas read by a bare ``websockets`` client: send one ``response.create`` frame, count
     frames until ``response.completed`` (a substring test, no JSON parsing) — the baseline;
(a2) the same bare client parsing each frame with ``json.loads``, for information;
(b)  our transport: ``TurnSession.stream`` yielding parsed events over WebSocket; ratio b/a (target ≥ 0.7);
(b2) the same over HTTP SSE, for information;
(c)  10 turns × 3 requests on one thread over WebSocket (prewarm on, as by default): handshakes (target 1)
     and prewarms (target 1: only the thread's first turn is prewarmed, as in Codex);
(d)  time to first event of a follow-up on the reused WebSocket vs a fresh HTTP request (and a fresh
     WebSocket, handshake included), medians.

Rates count the server's frames from the first one received to ``response.completed``, so the fake's
rendering of the response is excluded and every reader is measured over the same frames. Each rate is given
twice: per second of wall time (what a user sees, capped by whichever process is slower — often the fake,
which caps every reader alike) and per second of the client process's CPU time (what the client could
sustain against an infinitely fast server; the fairer comparison of the clients). Every client offers
permessage-deflate, as Codex does. For (a), (b), (b2) and (d) the fake runs in its own process so that it
shares no CPU time (or GIL) with the client measured; for (c) it runs in process, so that its own
handshake count can be read.

Usage: ``.venv/bin/python bench/stream.py [--deltas N] [--runs N] [--ttfe-runs N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from codex_lsp.model import ModelClient, ModelSettings, OutputItemDone, Prompt, websocket_url
from codex_lsp.testing import (
    FakeResponsesServer,
    ResponseIds,
    Script,
    Step,
    loopback_settings,
    render_response,
)

KEY = "bench-key"
Reader = Callable[[str], Awaitable[tuple[float, float]]]


def user(text: str) -> dict[str, Any]:
    """A user message input item."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def delta_step(deltas: int) -> Step:
    """A response made of ``deltas`` one-character text deltas."""
    return Step.model_validate({"output": [{"type": "message", "text": "x" * deltas}], "chunk_size": 1})


def frames_per_response(step: Step) -> tuple[int, int]:
    """How many frames, and how many of them text deltas, the fake sends for ``step``."""
    events, _ = render_response(step, "resp_x", "gpt-5.5", ResponseIds())
    return len(events), sum(1 for e in events if e["type"] == "response.output_text.delta")


def settings(base_url: str, *, websockets: bool) -> ModelSettings:
    """Settings pointing at the fake, with a key, as a user's config would give them."""
    return loopback_settings(base_url, websockets=websockets, api_key=KEY)


@asynccontextmanager
async def fake_process(script: Script) -> AsyncIterator[str]:
    """Serve ``script`` from a separate process; yield its base URL."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.json"
        path.write_text(script.model_dump_json(), encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "codex_lsp.testing.fake_responses",
            str(path),
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            yield line.decode().strip()
        finally:
            process.terminate()
            await process.wait()


# -- (a) / (b): streaming rates ------------------------------------------------------------------------


@dataclass
class Clock:
    """Wall and CPU time of one read, from the first frame to ``response.completed``.

    The wall rate is what a user sees, but it is capped by whichever process is slower, and the fake
    often is. The CPU rate (frames per second of the client's own CPU time; waiting costs none) is what
    the client could sustain against an infinitely fast server, so it compares the clients themselves.
    """

    wall: float = 0.0
    cpu: float = 0.0

    def start(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def rates(self, frames: int) -> tuple[float, float]:
        """(wall rate, CPU rate) in frames/s; the first frame only starts the clock."""
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        return (frames - 1) / wall, (frames - 1) / max(cpu, 1e-9)


async def bare_rates(base_url: str, frames: int, *, parse: bool) -> tuple[float, float]:
    """Rates of a bare websockets client."""
    frame = {"type": "response.create", "model": "gpt-5.5", "input": [user("stream")], "stream": True}
    url = websocket_url(base_url, {})
    clock = Clock()
    async with connect(url, additional_headers={"authorization": f"Bearer {KEY}"}, max_size=None) as ws:
        await ws.send(json.dumps(frame))
        count = 0
        while True:
            message = await ws.recv()
            if count == 0:
                clock.start()
            count += 1
            done = (
                json.loads(message)["type"] == "response.completed"
                if parse
                else '"response.completed"' in message[:40]
            )
            if done:
                rates = clock.rates(count)
                break
    if count != frames:
        raise RuntimeError(f"expected {frames} frames, read {count}")
    return rates


async def our_rates(base_url: str, frames: int, expected: int, *, websockets: bool) -> tuple[float, float]:
    """Rates of ``TurnSession.stream`` turning the same frames into parsed events."""
    clock = Clock()
    async with ModelClient(settings(base_url, websockets=websockets), prewarm=False) as client:
        deltas = 0
        async for event in client.new_turn().stream(Prompt(input=[user("stream")])):
            if event.type == "response.created":
                clock.start()
            elif event.type == "response.output_text.delta":
                deltas += 1
            elif event.type == "response.completed":
                rates = clock.rates(frames)
    if deltas != expected:
        raise RuntimeError(f"expected {expected} deltas, got {deltas}")
    return rates


async def stream_rates(deltas: int, runs: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) samples of every reader, the readers interleaved run by run."""
    step = delta_step(deltas)
    frames, deltas_sent = frames_per_response(step)
    readers: dict[str, Reader] = {
        "a": lambda url: bare_rates(url, frames, parse=False),
        "a2": lambda url: bare_rates(url, frames, parse=True),
        "b": lambda url: our_rates(url, frames, deltas_sent, websockets=True),
        "b2": lambda url: our_rates(url, frames, deltas_sent, websockets=False),
    }
    script = Script.model_validate({"turns": [{"requests": [step] * ((runs + 1) * len(readers))}]})
    samples: dict[str, list[tuple[float, float]]] = {kind: [] for kind in readers}
    async with fake_process(script) as base_url:
        for run in range(runs + 1):
            for kind, read in readers.items():
                sample = await read(base_url)
                if run:  # the first round warms up both processes
                    samples[kind].append(sample)
    return samples


# -- (c): handshakes over 10 turns × 3 requests ------------------------------------------------------------


async def handshakes(turns: int, requests: int) -> tuple[int, int, int, int, int]:
    """(client handshakes, server handshakes, generating requests, prewarms, chained requests)."""
    call = {"output": [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "true"}}]}
    steps = [*[call] * (requests - 1), {"output": [{"type": "message", "text": "done"}]}]
    script = Script.model_validate({"turns": [{"requests": steps}] * turns})
    async with (
        FakeResponsesServer(script) as fake,
        ModelClient(settings(fake.base_url, websockets=True)) as client,
    ):
        history: list[dict[str, Any]] = []
        for turn in range(turns):
            session = client.new_turn()
            history.append(user(f"turn {turn}"))
            for _ in range(requests):
                async for event in session.stream(Prompt(input=list(history))):
                    if isinstance(event, OutputItemDone):
                        history.append(event.item.as_input())
                        if event.item.type == "function_call":
                            output = {"type": "function_call_output", "call_id": event.item.call_id}
                            history.append({**output, "output": "ok"})
        generating = fake.generating_requests()
        prewarms = len(fake.requests) - len(generating)
        chained = sum(1 for r in fake.requests if "previous_response_id" in r.body)
        return client.handshake_count, len(fake.handshakes), len(generating), prewarms, chained


# -- (d): time to first event ----------------------------------------------------------------------------


async def first_event_ms(session_stream: AsyncIterator[Any]) -> float:
    """Milliseconds until ``session_stream`` yields, then drain it."""
    started = time.perf_counter()
    elapsed = 0.0
    async for _ in session_stream:
        if not elapsed:
            elapsed = (time.perf_counter() - started) * 1000
    return elapsed


async def ttfe(runs: int) -> dict[str, list[float]]:
    """Follow-up on the reused WebSocket, fresh HTTP request, fresh WebSocket (handshake included)."""
    samples: dict[str, list[float]] = {"ws follow-up": [], "http fresh": [], "ws fresh": []}
    async with fake_process(Script()) as base_url:  # every answer is the short "script exhausted" one
        async with ModelClient(settings(base_url, websockets=True), prewarm=False) as ws_client:
            for run in range(runs + 1):
                session = ws_client.new_turn()
                history = [user(f"run {run}")]
                async for event in session.stream(Prompt(input=history)):
                    if isinstance(event, OutputItemDone):
                        history.append(event.item.as_input())
                history.append(user("and then?"))
                sample = await first_event_ms(session.stream(Prompt(input=history)))
                if run:
                    samples["ws follow-up"].append(sample)
        async with ModelClient(settings(base_url, websockets=False)) as http_client:
            for run in range(runs + 1):
                prompt = Prompt(input=[user(f"run {run}"), user("and then?")])
                sample = await first_event_ms(http_client.new_turn().stream(prompt))
                if run:
                    samples["http fresh"].append(sample)
        for run in range(runs + 1):
            async with ModelClient(settings(base_url, websockets=True), prewarm=False) as fresh:
                sample = await first_event_ms(fresh.new_turn().stream(Prompt(input=[user(f"run {run}")])))
            if run:
                samples["ws fresh"].append(sample)
    return samples


def print_rates(samples: dict[str, list[tuple[float, float]]]) -> None:
    labels = {
        "a": "(a)  bare websockets client, no parsing",
        "a2": "(a2) bare websockets client + json.loads",
        "b": "(b)  codex-lsp TurnSession.stream, WebSocket",
        "b2": "(b2) codex-lsp TurnSession.stream, HTTP SSE",
    }
    wall = {kind: statistics.median(s[0] for s in values) for kind, values in samples.items()}
    cpu = {kind: statistics.median(s[1] for s in values) for kind, values in samples.items()}
    print(f"  {'':<46} {'wall':>10}           {'client CPU':>10}")
    for kind, label in labels.items():
        print(f"  {label:<46} {wall[kind]:>10,.0f} events/s  {cpu[kind]:>10,.0f} events/CPU-s")
    print(f"  ratio b/a  = {wall['b'] / wall['a']:.2f} wall, {cpu['b'] / cpu['a']:.2f} CPU  (target >= 0.7)")
    print(f"  ratio b/a2 = {wall['b'] / wall['a2']:.2f} wall, {cpu['b'] / cpu['a2']:.2f} CPU")
    print(f"  ratio b2/a = {wall['b2'] / wall['a']:.2f} wall, {cpu['b2'] / cpu['a']:.2f} CPU")


async def bench(deltas: int, runs: int, ttfe_runs: int) -> None:
    print(f"stream: {deltas:,} text deltas per response, medians of {runs} runs, fake in its own process")
    print_rates(await stream_rates(deltas, runs))

    client_hs, server_hs, generating, prewarms, chained = await handshakes(10, 3)
    print(f"(c)  10 turns x 3 requests over WebSocket (prewarm on): {generating} requests,")
    print(f"     handshakes: {client_hs} (server saw {server_hs}; target 1); prewarms: {prewarms} (target 1)")
    print(f"     requests chained on the previous response: {chained} of {generating + prewarms}")

    times = await ttfe(ttfe_runs)
    print(f"(d)  time to first event, median of {ttfe_runs}:")
    for label, values in times.items():
        print(f"     {label:<14} {statistics.median(values):7.2f} ms")
    follow_up, http = statistics.median(times["ws follow-up"]), statistics.median(times["http fresh"])
    print(f"     reused WebSocket follow-up / fresh HTTP = {follow_up / http:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deltas", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--ttfe-runs", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(bench(args.deltas, args.runs, args.ttfe_runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
