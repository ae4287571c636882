"""Demo evidence (issue 11 item 9): small but real files — a JPEG scene
photo, a PNG sketch and a short WAV interview recording — made in code and
stored through the same upload service as the tus endpoint (declared
SHA-256, hashed while received, sniffed, audited), so the demo's case
pages, AV counts (记录-4) and e-case files (记录-3) hold what an officer's
phone would have sent.

The project's demo loader (``sanxiang/demo.py``) calls ``upload_demo_file``
for each step that needs AV; nothing here knows the demo's cases.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
from datetime import datetime

from sanxiang.cases.models import Case

from . import services
from .models import Device, EvidenceItem


def scene_jpeg(*, seed: int = 1, width: int = 320, height: int = 240) -> bytes:
    """A small valid JPEG: a shelf of coloured boxes under a grey ceiling,
    different for each ``seed`` (so each photo has its own SHA-256)."""
    from PIL import Image, ImageDraw  # Pillow comes with fpdf2 (a dependency)

    img = Image.new("RGB", (width, height), (214, 210, 200))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, width, height // 5], fill=(160, 160, 165))
    for row in range(3):
        y = height // 4 + row * (height // 4)
        draw.rectangle([10, y + 40, width - 10, y + 46], fill=(120, 90, 60))  # shelf
        for col in range(6):
            shade = (seed * 37 + row * 53 + col * 29) % 200
            x = 16 + col * ((width - 32) // 6)
            draw.rectangle([x, y + 5, x + 36, y + 40], fill=(55 + shade, 180 - shade // 2, 90 + (shade * 3) % 150))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()


def sketch_png(*, seed: int = 1, width: int = 240, height: int = 160) -> bytes:
    """A small valid PNG (a floor-plan sketch of the premises)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle([8, 8, width - 8, height - 8], outline=(0, 0, 0), width=3)
    draw.line([width // 2, 8, width // 2, height - 40 - seed % 20], fill=(0, 0, 0), width=2)
    draw.rectangle([20, 20, 70 + seed % 30, 60], outline=(200, 0, 0), width=2)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def interview_wav(*, seconds: float = 1.5, seed: int = 1, rate: int = 8000) -> bytes:
    """A short valid WAV (PCM, 8 kHz mono, 16 bit): a tone that stands in
    for a recorded inquiry."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        pitch = 300 + (seed % 7) * 40
        frames = b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * pitch * i / rate)))
                          for i in range(int(seconds * rate)))
        w.writeframes(frames)
    return out.getvalue()


def upload_demo_file(*, actor, case, step, data: bytes, filename: str, captured_at: datetime, place: str = "",
                     duration: float | None = None, device: Device | None = None) -> EvidenceItem:
    """Store ``data`` as evidence of ``step`` through the upload service
    (create, one chunk, complete: the path of a tus upload), as ``actor``
    (an officer of the case or its head)."""
    metadata = {"sha256": hashlib.sha256(data).hexdigest(), "case": str(case.pk), "step": str(step.pk),
                "captured_at": captured_at.isoformat(), "filename": filename, "place": place}
    if duration is not None:
        metadata["duration"] = f"{duration:.1f}"
    if device is not None:
        metadata["device"] = device.serial
    upload = services.create_upload(actor=actor, cases=Case.objects.filter(pk=case.pk), length=len(data),
                                    metadata=metadata)
    upload = services.receive_upload_chunk(upload=upload, offset=0, stream=io.BytesIO(data), content_length=len(data),
                                           checksum=None)
    return upload.evidence


def ensure_device(*, actor, agency, serial: str, model: str, officer, valid_from) -> Device:
    """A body-worn camera (执法记录仪) of the agency handed to ``officer``
    from ``valid_from``; kept as it is when the serial is registered."""
    device = Device.objects.filter(serial=serial).first()
    if device is None:
        device = services.register_device(actor=actor, agency=agency, serial=serial, model=model)
        services.assign_device(actor=actor, device=device, officer=officer, valid_from=valid_from)
    return device
