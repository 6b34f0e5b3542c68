"""The gate worker: reader → debounce → still → spool → uplink, plus a heartbeat every minute.

Blocking parts run in named threads (``reader``, ``camera``, which also JPEG-encodes) or through
``asyncio.to_thread`` (spool writes). Passages enter the spool in the order their tags were read, even
though each waits up to half a second for the frames after it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime

from core.wire import Heartbeat
from gates import __version__
from gates.camera import Camera, Still
from gates.config import GateConfig
from gates.debounce import Debouncer
from gates.reader import Reader
from gates.spool import Spool
from gates.uplink import Uplink, http_client

log = logging.getLogger(__name__)


class GateWorker:
    def __init__(self, config: GateConfig) -> None:
        self.config = config
        self.spool = Spool(config.spool.path, config.server.gate_key.get_secret_value())
        self.camera = Camera(config.camera) if config.camera.enabled else None
        self._debouncer = Debouncer(config.serial.quiet_seconds)
        self._reads: asyncio.Queue[tuple[str, float, float]] = asyncio.Queue()
        self._previous: asyncio.Future[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.reader: Reader | None = None
        self.uplink: Uplink | None = None

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()

        def on_tag(tag: str, seen_at: float) -> None:  # in the reader thread
            loop.call_soon_threadsafe(self._reads.put_nowait, (tag, seen_at, time.monotonic()))

        self.reader = Reader(self.config.serial, on_tag)
        async with http_client(self.config.server) as client:
            self.uplink = Uplink(self.config.server, self.spool, client)
            self.reader.start()
            if self.camera:
                self.camera.start()
            tasks = [
                asyncio.create_task(self.uplink.run(stop), name="uplink"),
                asyncio.create_task(self._heartbeats(stop), name="heartbeat"),
                asyncio.create_task(self._detections(stop), name="detections"),
            ]
            log.info(
                "gate worker running: reader %s, camera %s, centre %s",
                self.config.serial.port,
                self.config.camera.source,
                self.config.server.url,
            )
            try:
                await stop.wait()
            finally:
                await asyncio.to_thread(self.reader.stop)
                await asyncio.sleep(0)  # reads the reader handed over just before it stopped
                while not self._reads.empty():  # read, but not yet spooled: spool them now
                    self._admit(*self._reads.get_nowait())
                if self._pending:
                    await asyncio.wait(self._pending, timeout=5)
                if self.camera:
                    await asyncio.to_thread(self.camera.stop)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self.spool.close()

    async def _detections(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._admit(*await self._reads.get())

    def _admit(self, tag: str, seen_at: float, monotonic: float) -> None:
        if not self._debouncer.admit(tag, monotonic):
            return
        task = asyncio.create_task(self._spool_passage(tag, seen_at), name=f"passage {tag}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _spool_passage(self, tag: str, seen_at: float) -> None:
        previous, mine = self._previous, asyncio.get_running_loop().create_future()
        self._previous = mine
        try:
            still = await self.camera.still_at(seen_at) if self.camera else Still(None)
            if previous is not None:
                await previous  # keep the spool in the order tags were read
            event_id = uuid.uuid4()
            await asyncio.to_thread(
                self.spool.add,
                event_id,
                tag,
                datetime.fromtimestamp(seen_at, UTC).astimezone(),
                reader=self.config.reader_name,
                photo=still.jpeg,
                photo_missing=still.missing,
            )
            without = " without a photo" if self.camera and not still.jpeg else ""
            log.info("passage %s spooled%s", event_id, without)  # never the tag: it names a child
            assert self.uplink is not None
            self.uplink.wake()
        except Exception:
            log.exception("could not spool a passage")
        finally:
            mine.set_result(None)

    async def heartbeat(self) -> Heartbeat:
        reader = self.reader.status if self.reader else None
        camera = self.camera.status if self.camera else None
        return Heartbeat(
            gate_version=__version__,
            sent_at=datetime.now(UTC),
            reader_alive=bool(reader and reader.alive),
            reader_last_byte_at=(
                datetime.fromtimestamp(reader.last_byte_at, UTC) if reader and reader.last_byte_at else None
            ),
            reader_error=reader.error[:300] if reader and reader.error else None,
            bad_frames=reader.bad_frames if reader else 0,
            camera_alive=camera.alive if camera else None,
            camera_error=camera.error[:300] if camera and camera.error else None,
            spool_depth=await asyncio.to_thread(self.spool.depth),
            spool_rejected=await asyncio.to_thread(self.spool.rejected_count),
        )

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        # The first heartbeat waits (briefly) for the reader to open or fail, so it says which.
        for _ in range(100):
            if self.reader is None or self.reader.status.alive or self.reader.status.error or stop.is_set():
                break
            await asyncio.sleep(0.05)
        while not stop.is_set():
            assert self.uplink is not None
            await self.uplink.heartbeat(await self.heartbeat())
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.config.server.heartbeat_seconds)
            except TimeoutError:
                pass
