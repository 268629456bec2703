"""The evaluation side of the overlap check, indexed once, and the matching of training rows
against it in batches.

The evaluation suite is the small side (thousands of items), the training set the large one
(hundreds of thousands of rows), so only the evaluation items are held in memory: a map from
each item's normalized-text key, from each of its word-run hashes and from each of its media
fingerprints to the items that have it. Training rows stream past in batches; nothing of a
training row is kept after its batch except the rows that matched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

from eval_anything.core.content import TextPart
from eval_anything.core.sample import Sample
from eval_anything.overlap import media as fp
from eval_anything.overlap.report import MAX_ROWS_PER_ITEM, REASON_ORDER
from eval_anything.overlap.text import hash64, item_run_hashes, run_hashes, text_key, words
from eval_anything.overlap.train_rows import TrainRow

ItemKey = tuple[str, int]  # (task, index of the item in its task)


@dataclass
class Hits:
    """Per item: how many training rows matched and the first few, each with its reason."""

    count: dict[ItemKey, int] = field(default_factory=lambda: defaultdict(int))
    rows: dict[ItemKey, list[tuple[str, int, str]]] = field(
        default_factory=lambda: defaultdict(list))
    seen: set[tuple[ItemKey, str, int]] = field(default_factory=set)
    reasons: dict[ItemKey, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, item: ItemKey, file: str, row: int, reason: str) -> None:
        self.reasons[item].add(reason)
        if (item, file, row) in self.seen:
            return
        self.seen.add((item, file, row))
        self.count[item] += 1
        if len(self.rows[item]) < MAX_ROWS_PER_ITEM:
            self.rows[item].append((file, row, reason))

    def strongest(self, item: ItemKey) -> str:
        return min(self.reasons[item], key=REASON_ORDER.index)


class EvalIndex:
    """Texts and media of evaluation items, keyed for the three overlap rules."""

    def __init__(self, samples: Mapping[str, Sequence[Sample]], ngram: int = 13) -> None:
        if ngram < 1:
            raise ValueError("ngram must be at least 1")
        self.ngram = ngram
        self.vocab: dict[str, int] = {}
        self.exact: dict[int, list[ItemKey]] = defaultdict(list)
        #: per run length: run hash -> items (length ``ngram``, and each shorter item's length)
        self.runs: dict[int, dict[int, list[ItemKey]]] = defaultdict(lambda: defaultdict(list))
        self.media_bytes: dict[str, list[ItemKey]] = defaultdict(list)
        self.media_content: dict[str, list[ItemKey]] = defaultdict(list)
        self.shapes: set[tuple[Any, ...]] = set()
        self.has_video = False
        for task, items in samples.items():
            for i, sample in enumerate(items):
                self._add(task, i, sample)
        self._sorted = {k: np.fromiter(d.keys(), dtype=np.uint64, count=len(d))
                        for k, d in self.runs.items()}
        for arr in self._sorted.values():
            arr.sort()

    def _add(self, task: str, i: int, sample: Sample) -> None:
        key = (task, i)
        ws = words(sample.text)
        if ws:
            self.exact[text_key(ws)].append(key)
            values = [self.vocab.setdefault(w, hash64(w) | 1) for w in ws]
            k = min(self.ngram, len(ws))  # an item shorter than the run length: compared whole
            for h in item_run_hashes(values, k):
                if key not in self.runs[k][h]:
                    self.runs[k][h].append(key)
        for part in sample.input:
            if isinstance(part, TextPart):
                continue
            self.media_bytes[fp.bytes_key(part)].append(key)
            shape = fp.shape_key(part)
            if shape is not None:
                self.shapes.add(shape)
            self.has_video = self.has_video or part.type == "video"
            self.media_content[fp.decoded_key(part)].append(key)

    # ------------------------------------------------------------------ the training side

    def match(self, batch: Sequence[TrainRow], hits: Hits) -> None:
        """Record every item a row of ``batch`` overlaps."""
        self._match_texts(batch, hits)
        if self.media_bytes:
            for tr in batch:
                for ref in tr.media:
                    self._match_media(tr, ref.part, hits)

    def _match_texts(self, batch: Sequence[TrainRow], hits: Hits) -> None:
        vals: list[int] = []
        lengths: list[int] = []
        owners: list[TrainRow] = []
        get = self.vocab.get
        for tr in batch:
            for text in tr.texts:
                ws = words(text)
                if not ws:
                    continue
                for item in self.exact.get(text_key(ws), ()):
                    hits.add(item, tr.file, tr.row, "same_text")
                owners.append(tr)
                lengths.append(len(ws))
                vals.extend(map(get, ws, repeat(0, len(ws))))  # 0: no item has it (values odd)
        if not vals or not self.runs:
            return
        v_arr = np.asarray(vals, dtype=np.uint64)
        k_arr = v_arr != 0
        d_arr = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        for k, table in self.runs.items():
            starts, hashes = run_hashes(v_arr, k_arr, d_arr, k)
            keys = self._sorted[k]
            pos = np.searchsorted(keys, hashes)
            pos[pos == len(keys)] = 0
            found = keys[pos] == hashes
            for s, h in zip(starts[found], hashes[found], strict=True):
                tr = owners[int(d_arr[int(s)])]
                for item in table[int(h)]:
                    hits.add(item, tr.file, tr.row, "shared_word_run")

    def _match_media(self, tr: TrainRow, part: Any, hits: Hits) -> None:
        same = self.media_bytes.get(fp.bytes_key(part), [])
        for item in same:
            hits.add(item, tr.file, tr.row, "same_media_bytes")
        if part.type == "video" and not self.has_video:
            return
        if part.type != "video" and fp.shape_key(part) not in self.shapes:
            return
        for item in self.media_content.get(fp.decoded_key(part), ()):
            if item not in same:
                hits.add(item, tr.file, tr.row, "same_media_content")
