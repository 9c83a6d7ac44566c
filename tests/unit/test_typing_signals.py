"""Typing indicators, outgoing (AC-16..AC-19) and incoming (AC-20, AC-21, edge 12)."""

from core.typing_signals import TypingDisplay, TypingSender


class TestTypingSenderAC16toAC19:
    def test_first_keystroke_sends_true_AC16(self):
        assert TypingSender().on_input(10.0) == [True]

    def test_true_is_sent_at_most_once_every_3_seconds_AC17(self):
        s = TypingSender()
        sent = {t: s.on_input(t) for t in [0.0, 0.5, 1.0, 2.0, 2.999, 3.0, 4.0, 5.9, 6.0]}
        assert sent == {
            0.0: [True], 0.5: [], 1.0: [], 2.0: [], 2.999: [],
            3.0: [True], 4.0: [], 5.9: [], 6.0: [True],
        }

    def test_debounce_counts_from_the_last_true_not_the_last_keystroke_AC17(self):
        s = TypingSender()
        s.on_input(0.0)
        s.on_input(2.5)
        assert s.on_input(3.0) == [True]

    def test_false_after_3_seconds_idle_AC18(self):
        s = TypingSender()
        s.on_input(0.0)
        s.on_input(1.0)
        assert s.tick(3.999) == []
        assert s.tick(4.0) == [False]
        assert s.tick(5.0) == []  # said once

    def test_next_wakeup_is_idle_deadline_of_last_keystroke(self):
        s = TypingSender()
        assert s.next_wakeup() is None
        s.on_input(0.0)
        assert s.next_wakeup() == 3.0
        s.on_input(1.25)
        assert s.next_wakeup() == 4.25
        s.tick(4.25)
        assert s.next_wakeup() is None

    def test_false_immediately_when_message_sent_AC19(self):
        s = TypingSender()
        s.on_input(0.0)
        assert s.on_message_sent(0.4) == [False]
        assert s.tick(10.0) == []  # no second False after the idle time
        assert s.next_wakeup() is None

    def test_message_sent_without_typing_sends_nothing(self):
        s = TypingSender()
        assert s.on_message_sent(1.0) == []
        s.on_input(2.0)
        s.tick(5.0)
        assert s.on_message_sent(6.0) == []  # the idle False was already sent

    def test_typing_after_send_starts_a_new_episode_at_once(self):
        s = TypingSender()
        s.on_input(0.0)
        s.on_message_sent(1.0)
        assert s.on_input(1.5) == [True]
        assert s.on_input(2.0) == []

    def test_typing_after_idle_false_says_true_again(self):
        s = TypingSender()
        s.on_input(0.0)
        assert s.tick(3.0) == [False]
        assert s.on_input(3.5) == [True]

    def test_missed_tick_then_input_restarts_the_episode(self):
        # a background tab may throttle timers: the idle False never went out
        s = TypingSender()
        s.on_input(0.0)
        assert s.on_input(10.0) == [True]
        assert s.next_wakeup() == 13.0

    def test_custom_periods(self):
        s = TypingSender(debounce=1, idle=2)
        assert [s.on_input(t) for t in (0, 0.5, 1, 1.5)] == [[True], [], [True], []]
        assert s.tick(3.4) == []
        assert s.tick(3.5) == [False]

    def test_reset_forgets_state_without_sending(self):
        s = TypingSender()
        s.on_input(0.0)
        assert s.reset() is None
        assert s.is_typing is False
        assert s.tick(100.0) == []
        assert s.on_input(0.1) == [True]


class TestTypingDisplayAC20AC21:
    def test_indicator_true_shows_the_typer_AC20(self):
        d = TypingDisplay()
        assert d.on_indicator(7, True, 0.0) is True
        assert d.typing_user_ids() == [7]
        assert d.visible is True

    def test_repeat_true_is_not_a_visibility_change(self):
        d = TypingDisplay()
        d.on_indicator(7, True, 0.0)
        assert d.on_indicator(7, True, 2.0) is False
        assert d.typing_user_ids() == [7]

    def test_indicator_false_hides_at_once(self):
        d = TypingDisplay()
        d.on_indicator(7, True, 0.0)
        assert d.on_indicator(7, False, 1.0) is True
        assert d.typing_user_ids() == []
        assert d.on_indicator(7, False, 1.5) is False

    def test_auto_hides_exactly_4_seconds_after_last_update_AC21(self):
        d = TypingDisplay()
        d.on_indicator(7, True, 10.0)
        assert d.tick(13.999) is False
        assert d.typing_user_ids() == [7]
        assert d.tick(14.0) is True
        assert d.typing_user_ids() == []

    def test_each_update_restarts_the_safety_timeout_AC21(self):
        d = TypingDisplay()
        d.on_indicator(7, True, 0.0)
        d.on_indicator(7, True, 3.0)
        assert d.tick(4.0) is False
        assert d.next_wakeup() == 7.0
        assert d.tick(7.0) is True

    def test_connection_drop_after_typing_true_times_out_edge12(self):
        d = TypingDisplay()
        d.on_indicator(7, True, 100.0)
        # no further frames ever arrive
        assert d.next_wakeup() == 104.0
        assert d.tick(104.0) is True
        assert d.next_wakeup() is None

    def test_message_from_typer_hides_indicator(self):
        d = TypingDisplay()
        d.on_indicator(7, True, 0.0)
        assert d.on_message_from(7) is True
        assert d.typing_user_ids() == []
        assert d.on_message_from(7) is False

    def test_message_from_someone_else_keeps_indicator(self):
        d = TypingDisplay()
        d.on_indicator(7, True, 0.0)
        assert d.on_message_from(8) is False
        assert d.typing_user_ids() == [7]

    def test_several_typers_time_out_independently_in_start_order(self):
        d = TypingDisplay()
        d.on_indicator(8, True, 0.0)
        d.on_indicator(7, True, 1.0)
        assert d.typing_user_ids() == [8, 7]
        assert d.next_wakeup() == 4.0
        assert d.tick(4.0) is True
        assert d.typing_user_ids() == [7]
        assert d.next_wakeup() == 5.0

    def test_own_user_id_is_never_shown(self):
        d = TypingDisplay(self_user_id=1)
        assert d.on_indicator(1, True, 0.0) is False
        assert d.typing_user_ids() == []

    def test_malformed_indicator_is_ignored(self):
        d = TypingDisplay()
        assert d.on_indicator("7", True, 0.0) is False
        assert d.on_indicator(True, True, 0.0) is False
        assert d.on_indicator(None, True, 0.0) is False
        assert d.on_indicator(7, "yes", 0.0) is False
        assert d.on_indicator(7, 1, 0.0) is False
        assert d.typing_user_ids() == []

    def test_reset_hides_everyone(self):
        d = TypingDisplay()
        d.on_indicator(7, True, 0.0)
        assert d.reset() is True
        assert d.reset() is False
        assert d.next_wakeup() is None

    def test_custom_timeout(self):
        d = TypingDisplay(timeout=1.5)
        d.on_indicator(7, True, 0.0)
        assert d.tick(1.4) is False
        assert d.tick(1.5) is True
