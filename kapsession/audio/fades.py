"""Gain curves for fades and crossfades, in amplitude (0.0 silent … 1.0 full).

Ramps are computed in amplitude and converted to libVLC's volume only at the edge, because
libVLC's volume is cubic: volume 50 plays at 0.5³ = 0.125 amplitude (−18 dB), not half.
The crossfade is equal-power (quarter-wave cosine/sine), so the summed power of two
uncorrelated tracks stays constant through the fade: gain_out² + gain_in² = 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

MAX_CROSSFADE_S = 12.0
DEFAULT_CROSSFADE_S = 6.0


def _progress(fraction: float) -> float:
    """Clamp a fade's progress to 0.0 … 1.0."""
    return min(1.0, max(0.0, fraction))


def fade_out_gain(fraction: float) -> float:
    """Outgoing gain at `fraction` (0 … 1) of an equal-power fade: cos(π/2 · fraction)."""
    fraction = _progress(fraction)
    if fraction >= 1.0:
        return 0.0  # cos(π/2) is 6e-17, not 0: a finished fade is silent
    return math.cos(math.pi / 2 * fraction)


def fade_in_gain(fraction: float) -> float:
    """Incoming gain at `fraction` (0 … 1) of an equal-power fade: sin(π/2 · fraction)."""
    return math.sin(math.pi / 2 * _progress(fraction))


def crossfade_gains(fraction: float) -> tuple[float, float]:
    """(outgoing, incoming) amplitudes at `fraction` of an equal-power crossfade."""
    return fade_out_gain(fraction), fade_in_gain(fraction)


def ramp_gain(start: float, end: float, fraction: float) -> float:
    """Gain moving from `start` to `end` along the quarter-wave curve used for fades.

    Fading down follows the cosine, fading up the sine, so a quiet-then-resume pair
    sounds like the two halves of a crossfade.
    """
    fraction = _progress(fraction)
    if end <= start:
        return end + (start - end) * fade_out_gain(fraction)
    return start + (end - start) * fade_in_gain(fraction)


def clamp_crossfade_s(fade_s: float) -> float:
    """Crossfades run 0–12 s; anything outside is clamped rather than refused."""
    if math.isnan(fade_s):
        return DEFAULT_CROSSFADE_S
    return min(MAX_CROSSFADE_S, max(0.0, fade_s))


def amplitude_to_vlc_volume(amplitude: float) -> int:
    """libVLC `audio_set_volume` value (0–100) that plays at `amplitude` (0.0–1.0).

    libVLC (and PulseAudio under it) maps volume v to amplitude (v/100)³, so the inverse is
    a cube root. Out-of-range input is clamped: 100 is the most we ever ask for.
    """
    if math.isnan(amplitude) or amplitude <= 0.0:
        return 0
    return round(100 * math.cbrt(min(1.0, amplitude)))


def vlc_volume_to_amplitude(volume: int) -> float:
    """Amplitude (0.0–1.0) that libVLC plays for `audio_set_volume(volume)`, clamped to 0–100."""
    return (min(100, max(0, volume)) / 100) ** 3


def amplitude_to_db(amplitude: float) -> float:
    """Level in dB relative to full amplitude; −inf for silence."""
    return 20 * math.log10(amplitude) if amplitude > 0 else -math.inf


def sample_ramp(curve: Callable[[float], float], duration_s: float, step_s: float) -> list[float]:
    """`curve` sampled every `step_s` over `duration_s`, always including both ends.

    A zero-length ramp is the curve's end value alone (an instant change).
    """
    if step_s <= 0:
        raise ValueError(f"ramp step must be positive, got {step_s} s")
    if duration_s <= 0:
        return [curve(1.0)]
    steps = max(1, math.ceil(duration_s / step_s))
    return [curve(min(1.0, i * step_s / duration_s)) for i in range(steps + 1)]
