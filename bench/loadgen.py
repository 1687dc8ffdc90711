"""A small closed-loop HTTP load generator: N connections, each sending its next request when the last answered.

It measures what a device vendor sees (latency per request and requests per second at a fixed concurrency), from
a second process on the same machine, so the numbers include the client's own cost; that is why every run also
measures a bare-framework floor with the same client: the product's numbers are read against it, not alone.
"""

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    statuses: dict[int, int]
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, wanted: int) -> float:
        # statistics.quantiles with n=100 gives the 1st..99th percentiles ("inclusive": the data are the population).
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[wanted - 1]

    def row(self) -> dict[str, object]:
        return {
            "scenario": self.name,
            "requests": self.requests,
            "req_per_s": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p90_ms": round(self.percentile(90), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(max(self.latencies_ms), 2),
            "statuses": dict(sorted(self.statuses.items())),
        }


async def _run(
    name: str,
    base_url: str,
    paths: Callable[[], Iterator[str]],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
) -> Result:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=10.0) as client:
        deadline = time.perf_counter() + seconds

        async def connection(path_iter: Iterator[str]) -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(next(path_iter))
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(connection(paths()) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, len(latencies), elapsed, statuses, latencies)


def run(
    name: str,
    base_url: str,
    paths: list[str],
    *,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
) -> Result:
    """Send requests for `seconds`, cycling through `paths` (each connection from its own offset)."""
    offsets = itertools.count(0, max(1, len(paths) // max(concurrency, 1)))

    def path_iterator() -> Iterator[str]:
        start = next(offsets) % len(paths)
        return itertools.cycle(paths[start:] + paths[:start])

    return asyncio.run(_run(name, base_url, path_iterator, headers, concurrency, seconds))
