"""AC-5: the reconnect delays are exactly 1, 2, 4, 8, 16 s, five of them."""
import pytest

from core.backoff import reconnect_delay


def test_ac5_delays_are_1_2_4_8_16():
    assert [reconnect_delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_ac5_delay_is_capped_at_16():
    assert reconnect_delay(6) == 16.0
    assert reconnect_delay(1000) == 16.0


@pytest.mark.parametrize("bad", [0, -1])
def test_attempt_counts_from_one(bad):
    with pytest.raises(ValueError):
        reconnect_delay(bad)


@pytest.mark.parametrize("bad", [True, 1.0, "1", None])
def test_attempt_must_be_an_int(bad):
    with pytest.raises(TypeError):
        reconnect_delay(bad)
