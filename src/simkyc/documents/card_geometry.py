"""The ID-1 card's geometry (ISO/IEC 7810: 85.60 x 53.98 mm, corner radius 3.18 mm) at the
resolution a found card is flattened to: the reader's frame, which the specimen generator
(`simkyc.synth.specimen`) draws its cards in too."""

from __future__ import annotations

PX_PER_MM = 12.0
CARD_SIZE = (round(85.6 * PX_PER_MM), round(54.0 * PX_PER_MM))  # (1027, 648) width, height
CORNER_RADIUS = round(3.18 * PX_PER_MM)
