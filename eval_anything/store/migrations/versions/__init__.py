"""One file per schema revision; each is a frozen snapshot, never edited after release."""
