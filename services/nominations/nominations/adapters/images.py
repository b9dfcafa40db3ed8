"""Reading an uploaded photo's size from its header with Pillow, without decoding its pixels."""

from __future__ import annotations

import io
import warnings

from PIL import Image


def photo_pixels(content: bytes) -> int | None:
    """Width × height of a JPEG or PNG, or None when Pillow cannot read it as one (or refuses it as a
    decompression bomb itself). Only the header is read: an 8000×8000 image costs nothing here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we apply our own, lower cap
            with Image.open(io.BytesIO(content), formats=("JPEG", "PNG")) as image:
                width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return int(width) * int(height)
