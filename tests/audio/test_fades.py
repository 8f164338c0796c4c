"""Gain curves: equal power, cube-root volume conversion, monotonic ramps."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapsession.audio.fades import (
    amplitude_to_db,
    amplitude_to_vlc_volume,
    clamp_crossfade_s,
    crossfade_gains,
    fade_in_gain,
    fade_out_gain,
    ramp_gain,
    sample_ramp,
    vlc_volume_to_amplitude,
)

fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(fractions)
def test_given_any_point_of_a_crossfade_then_the_summed_power_is_one(fraction: float) -> None:
    outgoing, incoming = crossfade_gains(fraction)

    assert outgoing**2 + incoming**2 == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("fraction", "outgoing", "incoming"),
    [(0.0, 1.0, 0.0), (0.5, math.sqrt(0.5), math.sqrt(0.5)), (1.0, 0.0, 1.0), (-1, 1.0, 0.0)],
)
def test_given_a_fraction_then_gains_follow_the_quarter_wave(
    fraction: float, outgoing: float, incoming: float
) -> None:
    assert crossfade_gains(fraction) == pytest.approx((outgoing, incoming))


def test_given_a_finished_fade_out_then_it_is_exactly_silent() -> None:
    assert fade_out_gain(1.0) == 0.0
    assert fade_out_gain(2.0) == 0.0


@pytest.mark.parametrize(
    ("amplitude", "volume"),
    [(1.0, 100), (0.125, 50), (0.5, 79), (0.0, 0), (-0.3, 0), (2.0, 100), (math.nan, 0)],
)
def test_given_an_amplitude_then_the_libvlc_volume_is_its_cube_root(
    amplitude: float, volume: int
) -> None:
    assert amplitude_to_vlc_volume(amplitude) == volume


@given(st.floats(min_value=0.001, max_value=1.0))
def test_given_an_amplitude_when_converted_and_back_then_within_one_volume_step(
    amplitude: float,
) -> None:
    volume = amplitude_to_vlc_volume(amplitude)

    back = vlc_volume_to_amplitude(volume)

    step_below = vlc_volume_to_amplitude(volume - 1)
    step_above = vlc_volume_to_amplitude(volume + 1)
    assert step_below <= amplitude <= step_above
    assert back == pytest.approx(amplitude, abs=max(back - step_below, step_above - back))


@pytest.mark.parametrize("volume", [0, 1, 37, 50, 99, 100])
def test_given_a_libvlc_volume_when_converted_and_back_then_the_same(volume: int) -> None:
    assert amplitude_to_vlc_volume(vlc_volume_to_amplitude(volume)) == volume


@pytest.mark.parametrize(
    "curve",
    [fade_in_gain, lambda f: ramp_gain(0.2, 0.9, f), lambda f: ramp_gain(0.0, 1.0, f)],
    ids=["fade-in", "resume-from-0.2", "resume-from-0"],
)
@pytest.mark.parametrize(("duration_s", "step_s"), [(6.0, 0.05), (2.0, 0.05), (0.1, 0.05)])
def test_given_a_rising_ramp_when_sampled_then_it_never_falls(
    curve: object, duration_s: float, step_s: float
) -> None:
    samples = sample_ramp(curve, duration_s, step_s)  # type: ignore[arg-type]

    assert samples == sorted(samples)
    assert samples[-1] == pytest.approx(curve(1.0))  # type: ignore[operator]


@pytest.mark.parametrize(
    "curve",
    [fade_out_gain, lambda f: ramp_gain(1.0, 0.0, f), lambda f: ramp_gain(0.7, 0.1, f)],
    ids=["fade-out", "quiet-from-1", "down-from-0.7"],
)
def test_given_a_falling_ramp_when_sampled_then_it_never_rises(curve: object) -> None:
    samples = sample_ramp(curve, 6.0, 0.05)  # type: ignore[arg-type]

    assert samples == sorted(samples, reverse=True)
    assert len(samples) == 121  # 6 s at 50 ms steps, both ends included


def test_given_a_zero_length_ramp_then_only_its_end_value() -> None:
    assert sample_ramp(fade_in_gain, 0.0, 0.05) == [1.0]


def test_given_a_non_positive_step_then_refused() -> None:
    with pytest.raises(ValueError, match="step"):
        sample_ramp(fade_in_gain, 1.0, 0.0)


@pytest.mark.parametrize(
    ("asked_s", "kept_s"), [(6.0, 6.0), (0.0, 0.0), (-3.0, 0.0), (30.0, 12.0), (math.nan, 6.0)]
)
def test_given_a_crossfade_length_then_clamped_to_0_to_12_s(asked_s: float, kept_s: float) -> None:
    assert clamp_crossfade_s(asked_s) == kept_s


@pytest.mark.parametrize(("amplitude", "db"), [(1.0, 0.0), (0.5, -6.0206), (0.125, -18.0618)])
def test_given_an_amplitude_then_its_level_in_db(amplitude: float, db: float) -> None:
    assert amplitude_to_db(amplitude) == pytest.approx(db, abs=1e-3)
    assert amplitude_to_db(0.0) == -math.inf
