"""Media files: loading, saving and converting images and audio, and video decoding, probing
and writing."""
