"""A lone frame is handled at once; a burst is gathered for the next animation frame."""
from core.frame_batcher import FrameBatcher


def test_a_lone_frame_is_handled_at_once():
    batcher = FrameBatcher(burst_gap=0.004)
    assert batcher.arrive("a", 10.0) == ["a"]
    assert batcher.arrive("b", 10.050) == ["b"]   # 50 ms later: alone again
    assert not batcher.waiting


def test_frames_closer_than_the_gap_are_queued_in_order():
    batcher = FrameBatcher(burst_gap=0.004)
    assert batcher.arrive(1, 10.0) == [1]
    assert batcher.arrive(2, 10.001) == []
    assert batcher.arrive(3, 10.002) == []
    assert batcher.waiting
    assert batcher.flush() == [2, 3]
    assert not batcher.waiting
    assert batcher.flush() == []


def test_once_something_waits_later_frames_queue_behind_it_even_after_a_pause():
    batcher = FrameBatcher(burst_gap=0.004)
    batcher.arrive(1, 10.0)
    batcher.arrive(2, 10.001)
    # 20 ms later, before the flush: handling it now would overtake frame 2.
    assert batcher.arrive(3, 10.021) == []
    assert batcher.flush() == [2, 3]
    assert batcher.arrive(4, 10.100) == [4]


def test_a_steady_stream_of_one_per_50_ms_is_never_queued():
    batcher = FrameBatcher(burst_gap=0.004)
    handled = [f for i in range(100) for f in batcher.arrive(i, 10.0 + i * 0.05)]
    assert handled == list(range(100))


def test_a_burst_of_2000_is_one_frame_at_once_and_the_rest_in_flushes():
    batcher = FrameBatcher(burst_gap=0.004)
    handled, flushes = [], 0
    for i in range(2000):
        now = 10.0 + i * 0.0012
        handled += batcher.arrive(i, now)
        if i % 14 == 13:               # an animation frame every ~16.7 ms
            handled += batcher.flush()
            flushes += 1
    handled += batcher.flush()
    assert handled == list(range(2000))
    assert flushes == 142


def test_clear_drops_what_waits():
    batcher = FrameBatcher(burst_gap=0.004)
    batcher.arrive(1, 10.0)
    batcher.arrive(2, 10.001)
    batcher.clear()
    assert not batcher.waiting
    assert batcher.flush() == []


def test_frames_held_outside_join_the_queue_in_order_behind_what_waits():
    batcher = FrameBatcher(burst_gap=0.004)
    assert batcher.arrive(1, 10.0) == [1]
    assert batcher.arrive(2, 10.001) == [] and batcher.waiting   # the page may hold from here
    batcher.add_held([3, 4, 5], 10.010)
    assert batcher.flush() == [2, 3, 4, 5]
    batcher.add_held([], 99.0)                                    # nothing held: nothing changes
    assert not batcher.waiting and batcher.flush() == []


def test_the_newest_held_frame_counts_for_the_gap():
    """A frame 2 ms after the last held one is still the burst (queued), though 12 ms
    passed since the last frame Python itself saw; 10 ms after it, it stands alone."""
    batcher = FrameBatcher(burst_gap=0.004)
    batcher.arrive(1, 10.0)
    batcher.arrive(2, 10.001)
    batcher.add_held([3], 10.011)
    assert batcher.flush() == [2, 3]
    assert batcher.arrive(4, 10.013) == []
    assert batcher.flush() == [4]
    batcher.add_held([5], 10.020)
    assert batcher.flush() == [5]
    assert batcher.arrive(6, 10.030) == [6]
