"""AC-18's idle rule on its own: a keystroke that comes `idle` seconds or more after the last
one starts a new typing episode and says True at once, even inside the debounce window."""
from core.typing_signals import TypingSender


def test_a_keystroke_exactly_idle_seconds_after_the_last_says_true_again():
    sender = TypingSender(debounce=10.0, idle=2.0)
    assert sender.on_input(0.0) == [True]
    assert sender.on_input(1.0) == []
    assert sender.on_input(2.75) == []  # 1.75 s after the last keystroke: the same episode
    assert sender.on_input(4.75) == [True]  # exactly 2 s after it: a new one


def test_without_a_pause_the_debounce_alone_decides():
    sender = TypingSender(debounce=10.0, idle=2.0)
    sender.on_input(0.0)
    for now in (1.5, 3.0, 4.5, 6.0, 7.5, 9.0):
        assert sender.on_input(now) == []
    assert sender.on_input(10.0) == [True]
