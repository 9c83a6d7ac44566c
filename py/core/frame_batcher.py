"""Handle a lone WebSocket frame at once; gather a burst and handle it once per frame.

Every frame handled on its own pays the same fixed costs: entering Python, a
cache update and notification, a conversation-list update, a check of what is
visible. For a message that comes alone that is right: it must reach the screen
in the task that received it (p99 under one frame). In a burst (2,000 messages
as fast as the server can send) those fixed costs are most of the work, so
frames that arrive less than `burst_gap` seconds after the previous one are
queued and handed over together at the next animation frame, where one cache
update and one render cover them all.

Order is kept: once something is queued, every later frame queues behind it
until the queue is flushed. Time is an input.

While something waits (`waiting`), the browser side need not even call in for each
frame: it may keep later frames itself and hand them over at the flush (`add_held`,
with the newest one's arrival time, which counts for the gap like any arrival).

    batcher = FrameBatcher()
    ready = batcher.arrive(frame, now)      # [] -> queued: ask for a flush
    ...
    frames = batcher.flush()                # at the next animation frame
"""
from __future__ import annotations

from typing import Any, List, Optional

BURST_GAP = 0.004  # seconds: closer than this to the previous frame counts as a burst


class FrameBatcher:
    def __init__(self, burst_gap: float = BURST_GAP) -> None:
        self.burst_gap = burst_gap
        self._queue: List[Any] = []
        self._last_at: Optional[float] = None

    @property
    def waiting(self) -> bool:
        """True while frames wait for a flush."""
        return bool(self._queue)

    def arrive(self, frame: Any, now: float) -> List[Any]:
        """The frames to handle now: [frame], or [] when it was queued."""
        in_burst = self._last_at is not None and now - self._last_at < self.burst_gap
        self._last_at = now
        if self._queue or in_burst:
            self._queue.append(frame)
            return []
        return [frame]

    def add_held(self, frames: List[Any], last_at: float) -> None:
        """Frames kept outside while this queue waited join it behind what is queued, in
        order; the newest arrived at `last_at`, so a frame just after the flush still
        counts as part of the burst."""
        if frames:
            self._queue.extend(frames)
            self._last_at = last_at

    def flush(self) -> List[Any]:
        """Everything queued, in arrival order; the queue is then empty."""
        frames, self._queue = self._queue, []
        return frames

    def clear(self) -> None:
        """Drop what waits (the socket was stopped on purpose)."""
        self._queue = []
