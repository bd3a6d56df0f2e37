"""The floor for orchestration: a minimal aiohttp client against the emulator, in a process of its own.

`python bench/floor.py URL BOOK OUT_DIR MODE CONCURRENCY`: one chunk per line of BOOK, C tasks, each POSTs
/run (then polls /status) or /runsync, base64-decodes `output.audio_base64` and writes the file. No store, no retries,
no events: what any client must spend. bench/orchestration.py measures ours beside it.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from pathlib import Path

import aiohttp


async def one(session: aiohttp.ClientSession, url: str, mode: str, text: str, target: Path) -> None:
    if mode == "runsync":
        async with session.post(f"{url}/runsync?wait=60000", json={"input": {"text": text}}) as response:
            body = await response.json()
    else:
        async with session.post(f"{url}/run", json={"input": {"text": text}}) as response:
            body = await response.json()
        await asyncio.sleep(0.25)
    while body.get("status") != "COMPLETED":
        async with session.get(f"{url}/status/{body['id']}") as response:
            body = await response.json()
        if body.get("status") != "COMPLETED":
            await asyncio.sleep(0.1)
    target.write_bytes(base64.b64decode(body["output"]["audio_base64"]))


async def main(url: str, book: Path, out_dir: Path, mode: str, concurrency: int) -> None:
    texts = [line for line in book.read_text(encoding="utf-8").splitlines() if line]
    out_dir.mkdir(parents=True, exist_ok=True)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(len(texts)):
        queue.put_nowait(number)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            number = queue.get_nowait()
            await one(session, url, mode, texts[number], out_dir / f"{number:06d}.wav")

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], int(sys.argv[5])))
