#!/usr/bin/env python3
"""Synthesize kapsession's bundled demo music and the phase playlists that use it.

Calm, licence-clean material made here from nothing but sine tones and noise: slow pads,
drones with gentle beating, rubbed singing-bowl-like tones and soft noise washes. Every track
fades in and out over several seconds, has no sudden onsets inside (bowls swell in over
1.5 s or more) and peaks at -12 dBFS. Rendered with the `sox` command (which writes Ogg
Vorbis), mono 22.05 kHz at Vorbis quality 1, so the whole set stays a few MB.

Run from anywhere:  python3 assets/music/make_music.py
Options: --out DIR (default: this folder), --playlists DIR (default: ../../playlists),
--only NAME (one track), --check (only measure existing files). Needs sox (apt install sox).
Deterministic: the same script and sox version give the same audio.
"""

from __future__ import annotations

import argparse
import array
import itertools
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RATE_HZ = 22050
VORBIS_QUALITY = 1
PEAK_DBFS = -12.0
FADE_IN_S = 6.0
FADE_OUT_S = 8.0
SEED = 20261126
HERE = Path(__file__).resolve().parent

NOTE_INDEX = {"C": -9, "D": -7, "E": -5, "F": -4, "G": -2, "A": 0, "B": 2}


def hz(note: str) -> float:
    """Equal-tempered frequency of a note name like 'A2', 'F#3', 'Bb1' (A4 = 440 Hz)."""
    letter, rest = note[0], note[1:]
    semitone = NOTE_INDEX[letter]
    while rest and rest[0] in "#b":
        semitone += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    return 440.0 * 2 ** ((semitone + 12 * (int(rest) - 4)) / 12)


# --- the tracks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pad:
    """Chords held `segment_s` each, overlapping by `overlap_s`, as detuned sine pairs."""

    chords: tuple[tuple[str, ...], ...]
    segment_s: float = 45.0
    overlap_s: float = 14.0
    level: float = 1.0
    brightness: float = 0.25  # level of the octave partial relative to the fundamental


@dataclass(frozen=True)
class Drone:
    """Static low notes with slow beating (detune) and slow swells (tremolo)."""

    notes: tuple[str, ...]
    level: float = 1.0
    beat_hz: float = 0.15


@dataclass(frozen=True)
class Wash:
    """Filtered noise swelling slowly, like distant surf or wind."""

    color: str = "brownnoise"  # or pinknoise
    lowpass_hz: float = 500.0
    swell_hz: float = 0.07
    level: float = 0.5


@dataclass(frozen=True)
class Bowls:
    """Rubbed singing-bowl tones: inharmonic partials, soft swell-in, long decay."""

    notes: tuple[str, ...]
    every_s: tuple[float, float] = (18.0, 30.0)  # random gap range between bowls
    ring_s: float = 26.0
    level: float = 0.8


@dataclass(frozen=True)
class Track:
    name: str
    title: str
    length_s: float
    layers: tuple[Pad | Drone | Wash | Bowls, ...]
    reverb: tuple[int, int, int] = (60, 50, 100)  # reverberance %, HF damping %, room scale %


TRACKS: tuple[Track, ...] = (
    Track(
        "arrival-warm-pad",
        "Warm Pad",
        270,
        (
            Pad((("D3", "A3", "F#4"), ("B2", "F#3", "D4"), ("G2", "D3", "B3"), ("D3", "A3", "E4"))),
            Wash("pinknoise", 1400, 0.05, 0.18),
        ),
    ),
    Track(
        "arrival-open-fifths",
        "Open Fifths",
        240,
        (
            Drone(("A2", "E3", "B3"), 0.9, 0.12),
            Bowls(("E5", "A4", "B4"), (24.0, 36.0), 22.0, 0.35),
            Wash("pinknoise", 900, 0.06, 0.15),
        ),
    ),
    Track(
        "intention-still-water",
        "Still Water",
        300,
        (Wash("brownnoise", 450, 0.075, 1.0), Drone(("G2", "D3"), 0.45, 0.1)),
        reverb=(40, 60, 80),
    ),
    Track(
        "intention-low-bowls",
        "Low Bowls",
        270,
        (Bowls(("G3", "C4", "D4", "G3"), (17.0, 26.0), 28.0, 1.0), Drone(("C2", "G2"), 0.35, 0.08)),
        reverb=(75, 50, 100),
    ),
    Track(
        "onset-deep-drone",
        "Deep Drone",
        330,
        (Drone(("F1", "C2", "F2", "C3"), 1.0, 0.1), Wash("brownnoise", 300, 0.045, 0.6)),
        reverb=(70, 60, 100),
    ),
    Track(
        "peak-wide-field",
        "Wide Field",
        360,
        (
            Drone(("D2", "A2", "E3"), 1.0, 0.09),
            Bowls(("D3", "A3"), (40.0, 60.0), 34.0, 0.6),
            Wash("brownnoise", 350, 0.035, 0.4),
        ),
        reverb=(85, 50, 100),
    ),
    Track(
        "peak-bowls-in-space",
        "Bowls in Space",
        300,
        (
            Bowls(("C3", "G3", "D3", "F3"), (14.0, 24.0), 32.0, 1.0),
            Drone(("C2", "G2"), 0.3, 0.07),
            Wash("brownnoise", 400, 0.04, 0.3),
        ),
        reverb=(90, 50, 100),
    ),
    Track(
        "reentry-dawn-pad",
        "Dawn Pad",
        300,
        (
            Pad(
                (
                    ("E3", "B3", "G#4"),
                    ("C#3", "G#3", "E4"),
                    ("A2", "E3", "C#4"),
                    ("B2", "F#3", "D#4"),
                ),
                50.0,
                16.0,
                1.0,
                0.35,
            ),
            Wash("pinknoise", 1800, 0.05, 0.15),
        ),
    ),
    Track(
        "integration-soft-light",
        "Soft Light",
        300,
        (
            Pad((("C3", "G3", "E4"), ("A2", "E3", "C4"), ("F2", "C3", "A3"), ("G2", "D3", "B3"))),
            Bowls(("G4", "C5"), (35.0, 50.0), 20.0, 0.3),
            Wash("pinknoise", 1200, 0.05, 0.15),
        ),
    ),
)

# Phase -> (target minutes, tracks to cycle through until the target is reached)
PLAYLISTS: dict[str, tuple[int, tuple[str, ...]]] = {
    "arrival": (20, ("arrival-warm-pad", "arrival-open-fifths", "intention-still-water")),
    "intention": (20, ("intention-still-water", "intention-low-bowls", "arrival-open-fifths")),
    "onset": (25, ("onset-deep-drone", "intention-low-bowls", "peak-wide-field")),
    "peak": (35, ("peak-wide-field", "peak-bowls-in-space", "onset-deep-drone")),
    "reentry": (30, ("reentry-dawn-pad", "peak-bowls-in-space", "integration-soft-light")),
    "integration": (
        50,
        ("integration-soft-light", "reentry-dawn-pad", "arrival-warm-pad", "intention-low-bowls"),
    ),
}


# --- rendering with sox --------------------------------------------------------------------


def sox(*args: str) -> None:
    subprocess.run(["sox", "-R", "-V1", *args], check=True)


class Renderer:
    """Renders layers into float WAV files in a scratch folder, then mixes them."""

    def __init__(self, scratch: Path, rng: random.Random) -> None:
        self.scratch = scratch
        self.rng = rng
        self.count = 0

    def new_file(self) -> Path:
        self.count += 1
        return self.scratch / f"part{self.count:04d}.wav"

    def tone(
        self,
        freq_hz: float,
        length_s: float,
        level: float,
        *,
        start_s: float = 0.0,
        fade_in_s: float,
        fade_out_s: float,
        swell_hz: float,
        swell_pct: float,
        fade_shape: str = "h",
    ) -> tuple[Path, float]:
        out = self.new_file()
        sox(
            *("-n", "-r", str(RATE_HZ), "-c", "1", "-b", "32", "-e", "floating-point", str(out)),
            *("synth", f"{length_s:.3f}", "sine", f"{freq_hz:.4f}"),
            *("tremolo", f"{swell_hz:.4f}", f"{swell_pct:.1f}"),
            *("fade", fade_shape, f"{fade_in_s:.3f}", f"{length_s:.3f}", f"{fade_out_s:.3f}"),
            *("pad", f"{start_s:.3f}"),
        )
        return out, level

    def pad(self, layer: Pad, length_s: float) -> list[tuple[Path, float]]:
        parts = []
        start_s = 0.0
        index = 0
        while start_s < length_s:
            chord = layer.chords[index % len(layer.chords)]
            seg_s = min(layer.segment_s + layer.overlap_s, length_s - start_s)
            for note in chord:
                base = hz(note)
                for freq, gain in (
                    (base, 1.0),
                    (base * 1.0035, 0.8),  # ~6 cents sharp: a slow chorus-like beating
                    (base * 2.0, layer.brightness),
                ):
                    parts.append(
                        self.tone(
                            freq,
                            seg_s,
                            layer.level * gain / len(chord),
                            start_s=start_s,
                            fade_in_s=min(layer.overlap_s, seg_s / 2),
                            fade_out_s=min(layer.overlap_s, seg_s / 2),
                            swell_hz=self.rng.uniform(0.03, 0.09),
                            swell_pct=self.rng.uniform(15, 35),
                        )
                    )
            start_s += layer.segment_s
            index += 1
        return parts

    def drone(self, layer: Drone, length_s: float) -> list[tuple[Path, float]]:
        parts = []
        for rank, note in enumerate(layer.notes):
            base = hz(note)
            weight = layer.level / (1 + 0.5 * rank) / len(layer.notes) * 2
            for freq in (base, base + layer.beat_hz * (1 + 0.3 * rank)):
                parts.append(
                    self.tone(
                        freq,
                        length_s,
                        weight * 0.6,
                        fade_in_s=10.0,
                        fade_out_s=10.0,
                        swell_hz=self.rng.uniform(0.02, 0.06),
                        swell_pct=self.rng.uniform(20, 45),
                    )
                )
        return parts

    def wash(self, layer: Wash, length_s: float) -> list[tuple[Path, float]]:
        out = self.new_file()
        sox(
            *("-n", "-r", str(RATE_HZ), "-c", "1", "-b", "32", "-e", "floating-point", str(out)),
            *("synth", f"{length_s:.3f}", layer.color),
            *("gain", "-6", "highpass", "50", "lowpass", f"{layer.lowpass_hz:.0f}"),
            *("lowpass", f"{layer.lowpass_hz:.0f}"),
            *("tremolo", f"{layer.swell_hz:.4f}", "75"),
            *("fade", "h", "12", f"{length_s:.3f}", "12"),
        )
        return [(out, layer.level)]

    def bowls(self, layer: Bowls, length_s: float) -> list[tuple[Path, float]]:
        # partial ratios and levels of a medium singing bowl; higher partials die sooner
        partials = ((1.0, 1.0, 1.0), (2.71, 0.45, 0.7), (5.12, 0.18, 0.45), (8.39, 0.07, 0.3))
        parts = []
        at_s = self.rng.uniform(*layer.every_s) / 2
        index = 0
        while at_s + 8 < length_s:
            base = hz(layer.notes[index % len(layer.notes)]) * self.rng.uniform(0.995, 1.005)
            ring_s = min(layer.ring_s * self.rng.uniform(0.85, 1.15), length_s - at_s)
            for ratio, gain, ring_share in partials:
                tone_s = max(4.0, ring_s * ring_share)
                parts.append(
                    self.tone(
                        base * ratio,
                        tone_s,
                        layer.level * gain * 0.5,
                        start_s=at_s,
                        fade_in_s=min(1.8, tone_s / 3),
                        fade_out_s=tone_s - min(1.8, tone_s / 3),
                        swell_hz=self.rng.uniform(0.6, 1.6),  # the bowl's wobble
                        swell_pct=self.rng.uniform(20, 40),
                        fade_shape="q",
                    )
                )
            at_s += self.rng.uniform(*layer.every_s)
            index += 1
        return parts

    def mix(self, parts: Sequence[tuple[Path, float]], out: Path) -> None:
        """Mix many parts in batches (sox opens every input at once)."""
        batch: list[tuple[Path, float]] = list(parts)
        while len(batch) > 1:
            merged = []
            for start in range(0, len(batch), 32):
                group = batch[start : start + 32]
                if len(group) == 1:
                    merged.append(group[0])
                    continue
                target = self.new_file()
                inputs = [arg for path, gain in group for arg in ("-v", f"{gain:.5f}", str(path))]
                sox("-m", *inputs, "-b", "32", "-e", "floating-point", str(target))
                merged.append((target, 1.0))
            batch = merged
        path, gain = batch[0]
        sox("-v", f"{gain:.5f}", str(path), "-b", "32", "-e", "floating-point", str(out))


def render_track(track: Track, out_dir: Path, index: int) -> Path:
    rng = random.Random(SEED + index)
    with tempfile.TemporaryDirectory(prefix="kapsession-music-") as scratch_name:
        renderer = Renderer(Path(scratch_name), rng)
        parts: list[tuple[Path, float]] = []
        for layer in track.layers:
            if isinstance(layer, Pad):
                parts += renderer.pad(layer, track.length_s)
            elif isinstance(layer, Drone):
                parts += renderer.drone(layer, track.length_s)
            elif isinstance(layer, Wash):
                parts += renderer.wash(layer, track.length_s)
            else:
                parts += renderer.bowls(layer, track.length_s)
        # keep the sum well below full scale before reverb; the level is set at the end
        parts = [(path, gain * 0.12) for path, gain in parts]
        dry = Path(scratch_name) / "dry.wav"
        renderer.mix(parts, dry)
        out = out_dir / f"{track.name}.ogg"
        wet = Path(scratch_name) / "wet.wav"
        reverberance, damping, room = track.reverb
        sox(
            str(dry),
            *("-b", "32", "-e", "floating-point", str(wet)),
            *("reverb", str(reverberance), str(damping), str(room)),
            *("highpass", "30", "lowpass", "6000"),
            *("trim", "0", f"{track.length_s:.3f}"),
            *("fade", "h", f"{FADE_IN_S}", f"{track.length_s:.3f}", f"{FADE_OUT_S}"),
        )
        # a separate pass: `gain -n` after `reverb` in one chain misses the peak by ~1.5 dB
        sox(
            str(wet),
            *("--comment", f"TITLE={track.title}"),
            *("--add-comment", "ARTIST=kapsession demo music"),
            *("--add-comment", "LICENSE=CC0 1.0 (public domain dedication)"),
            *("--add-comment", "DESCRIPTION=synthesized by assets/music/make_music.py"),
            *("-r", str(RATE_HZ), "-c", "1", "-C", str(VORBIS_QUALITY), str(out)),
            *("gain", "-n", f"{PEAK_DBFS}"),
        )
    return out


# --- checking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    length_s: float
    peak_dbfs: float
    first_second_dbfs: float
    last_second_dbfs: float
    largest_rise_db: float  # between consecutive 250 ms windows, over the -60 dBFS floor


def measure(path: Path) -> Measured:
    """Decode with sox and measure level, fades and the steepest onset."""
    raw = subprocess.run(
        ["sox", str(path), "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-"],
        check=True,
        capture_output=True,
    ).stdout
    samples = array.array("h")
    samples.frombytes(raw[: len(raw) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    rate = _sample_rate(path)
    window = rate // 4
    levels = []
    for start in range(0, len(samples) - window + 1, window):
        chunk = samples[start : start + window]
        rms = math.sqrt(sum(x * x for x in chunk) / window) / 32768
        levels.append(max(-120.0, 20 * math.log10(rms)) if rms > 0 else -120.0)
    peak = max(abs(min(samples)), abs(max(samples))) / 32768
    rises = [b - max(a, -60.0) for a, b in itertools.pairwise(levels) if b > -60.0]

    def loudest_db(chunk: list[float]) -> float:
        return max(chunk) if chunk else -120.0

    return Measured(
        len(samples) / rate,
        20 * math.log10(peak) if peak else -120.0,
        loudest_db(levels[:4]),
        loudest_db(levels[-4:]),
        max(rises, default=0.0),
    )


def _sample_rate(path: Path) -> int:
    return int(subprocess.run(["soxi", "-r", str(path)], check=True, capture_output=True).stdout)


def write_playlists(out_dir: Path, playlists_dir: Path, durations_s: dict[str, float]) -> None:
    titles = {track.name: track.title for track in TRACKS}
    music_rel = Path(os.path.relpath(out_dir, playlists_dir))
    for phase, (target_min, names) in PLAYLISTS.items():
        lines = ["#EXTM3U", f"#PLAYLIST:kapsession demo music — {phase}"]
        total_s = 0.0
        turn = 0
        while total_s < target_min * 60:
            name = names[turn % len(names)]
            seconds = durations_s[name]
            lines.append(f"#EXTINF:{round(seconds)},kapsession demo music - {titles[name]}")
            lines.append(f"{music_rel.as_posix()}/{name}.ogg")
            total_s += seconds
            turn += 1
        (playlists_dir / f"{phase}.m3u8").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{phase}.m3u8: {turn} entries, {total_s / 60:.1f} min (target {target_min})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--playlists", type=Path, default=HERE.parent.parent / "playlists")
    parser.add_argument("--only", help="render one track by name")
    parser.add_argument("--check", action="store_true", help="only measure existing files")
    args = parser.parse_args()
    if shutil.which("sox") is None:
        print("make_music.py needs sox: sudo apt-get install sox", file=sys.stderr)
        return 2
    out_dir = args.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    durations_s: dict[str, float] = {}
    total_bytes = 0
    for index, track in enumerate(TRACKS):
        path = out_dir / f"{track.name}.ogg"
        if args.only not in (None, track.name):
            continue
        if not args.check:
            render_track(track, out_dir, index)
        m = measure(path)
        durations_s[track.name] = m.length_s
        size = path.stat().st_size
        total_bytes += size
        print(
            f"{path.name}: {m.length_s:.0f} s, {size / 1e6:.2f} MB, peak {m.peak_dbfs:.1f} dBFS, "
            f"start {m.first_second_dbfs:.0f} dBFS, end {m.last_second_dbfs:.0f} dBFS, "
            f"largest rise {m.largest_rise_db:.1f} dB/250 ms"
        )
    print(f"total {total_bytes / 1e6:.2f} MB, {sum(durations_s.values()) / 60:.1f} min")
    if args.only is None and not args.check:
        args.playlists.mkdir(parents=True, exist_ok=True)
        write_playlists(out_dir, args.playlists.resolve(), durations_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
