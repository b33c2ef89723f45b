"""The PC microphone through sounddevice (PortAudio), 16 kHz mono int16 by default."""

from __future__ import annotations

import queue

import numpy as np

from studio.devices.sources import DeviceError, StreamInfo


def load_sounddevice():
    """sounddevice, or a one-line DeviceError when PortAudio is missing."""
    try:
        import sounddevice
    except OSError as e:  # raised at import when libportaudio is absent
        raise DeviceError(f"microphone: PortAudio is not installed ({e}); install libportaudio2") from None
    except ImportError:
        raise DeviceError("microphone: the sounddevice package is not installed") from None
    return sounddevice


def input_devices() -> list[dict]:
    sd = load_sounddevice()
    try:
        devices = sd.query_devices()
    except Exception as e:  # PortAudio errors have their own types
        raise DeviceError(f"microphone: cannot list audio devices ({e})") from None
    return [dict(d, index=i) for i, d in enumerate(devices) if d.get("max_input_channels", 0) > 0]


class MicSource:
    def __init__(self, device: int | str | None = None, rate_hz: int = 16000, channels: int = 1,
                 block_ms: float = 20.0) -> None:
        self.device = device
        self.rate = int(rate_hz)
        self.channels = channels
        self.block = max(1, int(self.rate * block_ms / 1000))
        self.info: StreamInfo | None = None
        self._queue: queue.Queue[np.ndarray] = queue.Queue()
        self._stream = None
        self.overflows = 0

    def _callback(self, indata, frames, time_info, status) -> None:
        if status and status.input_overflow:
            self.overflows += 1
        self._queue.put(indata.copy())

    def open(self) -> StreamInfo:
        sd = load_sounddevice()
        if not input_devices():
            raise DeviceError("microphone: no audio input device found")
        name = "default input" if self.device is None else str(self.device)
        try:
            self._stream = sd.InputStream(device=self.device, samplerate=self.rate, channels=self.channels,
                                          dtype="int16", blocksize=self.block, callback=self._callback)
            self._stream.start()
        except Exception as e:
            raise DeviceError(f"microphone {name}: cannot record at {self.rate} Hz ({e})") from None
        axes = ["audio"] if self.channels == 1 else [f"audio{i}" for i in range(self.channels)]
        self.info = StreamInfo("audio", axes, ["wav"] * self.channels, float(self.rate), f"mic:{name}")
        return self.info

    def read(self, timeout: float = 0.05) -> np.ndarray:
        blocks = []
        try:
            blocks.append(self._queue.get(timeout=timeout))
            while True:
                blocks.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        if not blocks:
            return np.zeros((0, self.channels), np.int16)
        return np.concatenate(blocks)

    def counters(self) -> dict[str, int]:
        return {"overflows": self.overflows}

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
