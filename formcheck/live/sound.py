"""Sounds for live coaching: a short tone per rep (another for a faulty rep), spoken cues.

Nothing here is required: tones play through `aplay` (ALSA) or `paplay` (PulseAudio) and
speech through `espeak-ng` (or `espeak`) when they are installed; otherwise, and with
`--mute`, every call does nothing. Players run as child processes that are never waited
for, so a slow sound device can never hold up the coaching loop.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 22_050
# A good rep: one bright short beep. A faulty rep: two lower beeps (audibly different
# without looking at the screen).
GOOD_TONE = ((880.0, 0.12),)
FAULT_TONE = ((330.0, 0.12), (0.0, 0.06), (330.0, 0.18))
# Words per minute for the spoken cues: a little slower than espeak's default (175),
# clearer over the noise of a workout.
SPEECH_WPM = 160


def tone_wav(path: Path, notes: tuple[tuple[float, float], ...], volume: float = 0.4) -> Path:
    """Write a mono 16-bit WAV of (frequency Hz, duration s) notes; 0 Hz is silence.

    Each note fades in and out over 10 ms so that it does not click.
    """
    chunks = []
    for freq, dur in notes:
        n = int(SAMPLE_RATE_HZ * dur)
        t = np.arange(n) / SAMPLE_RATE_HZ
        wave_ = np.sin(2 * np.pi * freq * t) if freq > 0 else np.zeros(n)
        ramp = min(n // 2, int(0.01 * SAMPLE_RATE_HZ))
        if ramp:
            env = np.ones(n)
            env[:ramp] = np.linspace(0, 1, ramp)
            env[-ramp:] = np.linspace(1, 0, ramp)
            wave_ = wave_ * env
        chunks.append(wave_)
    samples = (np.concatenate(chunks) * volume * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE_HZ)
        w.writeframes(samples.tobytes())
    return path


class Sound:
    """Tones and speech for the live loop; silent when `mute` or when no player exists.

    Args:
        mute: never make a sound.
        speak: speak cues (when a text-to-speech engine is installed).
    """

    def __init__(self, mute: bool = False, speak: bool = True) -> None:
        self.player = None if mute else (shutil.which("aplay") or shutil.which("paplay"))
        tts = shutil.which("espeak-ng") or shutil.which("espeak")
        self.tts = None if mute or not speak else tts
        self._procs: list[subprocess.Popen[bytes]] = []
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._good: Path | None = None
        self._fault: Path | None = None
        if self.player:
            self._dir = tempfile.TemporaryDirectory(prefix="formcheck-sound-")
            self._good = tone_wav(Path(self._dir.name) / "good.wav", GOOD_TONE)
            self._fault = tone_wav(Path(self._dir.name) / "fault.wav", FAULT_TONE)
        self._last_speech = -1e9

    def _spawn(self, args: list[str]) -> None:
        self._procs = [p for p in self._procs if p.poll() is None]
        try:
            self._procs.append(
                subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        except OSError as exc:  # the player vanished or cannot start: stay quiet from now on
            log.info("sound disabled: %s", exc)
            self.player = self.tts = None

    def rep(self, fault: bool) -> None:
        """The tone for a completed rep (`fault`: the other one)."""
        wav = self._fault if fault else self._good
        if self.player and wav is not None:
            args = (
                [self.player, "-q", str(wav)]
                if self.player.endswith("aplay")
                else [self.player, str(wav)]
            )
            self._spawn(args)

    def say(self, text: str, min_gap_s: float = 0.0) -> bool:
        """Speak `text` unless muted or spoken less than `min_gap_s` ago; True if spoken."""
        now = time.monotonic()
        if not self.tts or not text or now - self._last_speech < min_gap_s:
            return False
        self._last_speech = now
        self._spawn([self.tts, "-s", str(SPEECH_WPM), text])
        return True

    def close(self) -> None:
        """Let sounds that are still playing finish briefly, then stop them; remove the WAVs."""
        deadline = time.monotonic() + 1.0
        for p in self._procs:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._procs.clear()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
