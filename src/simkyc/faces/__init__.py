"""The face-verification engine: decode, detect, quality, align, embed, match."""
