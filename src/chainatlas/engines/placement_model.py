"""The learned layer of placement: where the rules run out, a small model decides between a firm's candidate
segments (every segment some of its words speak for, `Classifier.segment_views`, weak words included) and "off the
chain".

Why it looks like this:
- One decision per candidate (is the firm on this segment?), boosted trees over the rules' own view of the
  segment (its score, each field's term, the revenue share behind it, whether the rules place it) and hashed
  character n-grams of the firm's product lines and of the lines that name the segment: "消费类锂电池" and "三元前驱体"
  read differently from "动力电池" even when the same keyword hit. A firm is placed on every candidate the model
  gives at least `threshold`, strongest first; below it on all, the firm is off the chain.
- The fitted model is plain numbers in a JSON file beside its chain (`chains/<id>.model.json`), never a pickle
  (loading a pickle runs code); inference is numpy only, so the app and `classify` need no scikit-learn (training
  does: services/placement/training.py, `chainatlas placement train`).
- Features are a function of what the batch engine keys a firm by (name, scope and industry hits; the product list
  when one of its lines has a hit; the GB/T code), so firms sharing that signature get the same decision and the
  batch engine places exactly as `Classifier.classify` does. Tokens hash with zlib.crc32, stable across processes
  (Python's hash() is salted per process).
- A row's score is summed tree by tree in the same order whatever the batch holds: one firm alone and the same
  firm in a million get the same probability to the last bit.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # numpy is imported where a model is loaded or applied: the rules alone never load it (0.04 s)
    import numpy as np

FORMAT = "chainatlas-placement-model/2"
SUFFIX = ".model.json"
NGRAMS = (2, 3)
_BLOCK = 8192  # rows scored at a time (a dense block of the used columns)
# A firm whose primary rule placement scores this much (rounded as placements are) keeps the rules' placements: the
# model agrees with them on nearly all such firms (cross-validated on the labelled set, deciding them too changed
# accuracy by < 0.01), and skipping them keeps a registry's bulk of clear-cut firms on the compiled path.
RULES_DECIDE_FROM = 2.0


def dense_names(fields: Sequence[str]) -> tuple[str, ...]:
    """The rules' view of a candidate segment, column by column (the model file lists them; a model of other
    columns is refused): scores and ranks, each field's term with strong words and with weak ones too, shares."""
    return ("score", "log_score", "placed_by_rules", "primary_by_rules", "share_of_best", "rank", "candidates",
            *fields, *(f + "_all" for f in fields), "prior", "strong_share", "line_share", "only_weak",
            "strong_words", "weak_words", "supplies_other", "supplied_by_other", "given_share")


class ModelFileError(ValueError):
    """A model file that cannot be used (wrong format, other features than this code computes)."""


class FirmView(NamedTuple):
    """What the learned layer sees of one firm: its candidates, the rules' placements among them, the effective
    shares of its product lines and the lines themselves (empty when no line has a hit: see the module doc)."""

    candidates: Sequence  # of classify.Candidate
    ruled: Sequence[tuple[float, int, int, list]]  # the rules' (score, segment, target, evidence), best first
    shares: Sequence[float]
    lines: Sequence[tuple[str, float | None]]


@dataclass(frozen=True)
class ChainTerms:
    """What of the chain the features name: segment ids by segment index, word spellings, supply edges."""

    fields: Sequence[str]  # the engine's fields (classify.FIELDS), in the order of a candidate's parts
    segment_ids: Sequence[str]  # by node index: the id of the node's segment
    spelling: Sequence[str]
    supplies: dict[int, set[int]]
    threshold: float  # the rules' placing score
    placeholder_share: float  # the effective share of a placeholder product line (classify.PLACEHOLDER_SHARE)


@dataclass(frozen=True)
class Tree:
    """One regression tree as arrays by node: the column it splits on (-1 at a leaf), the threshold (a row goes
    left where its value ≤ threshold, compared as float32 as scikit-learn does), its children, its leaf value."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    depth: int


@dataclass
class PlacementModel:
    """Gradient-boosted trees over the columns of `Featurizer` (its `dense` rule columns, then `buckets` hashed
    tokens): log-odds = init + learning_rate × the sum of the trees' leaf values; a candidate is placed from
    probability `threshold`."""

    dense: tuple[str, ...]
    buckets: int
    init: float
    learning_rate: float
    trees: list[Tree]
    threshold: float
    chain_id: str
    chain_sha256: str

    def __post_init__(self) -> None:
        import numpy as np
        # Only the columns some tree splits on are ever looked at: a batch becomes a dense matrix of those.
        used = sorted({int(f) for t in self.trees for f in t.feature if f >= 0})
        self._used = np.asarray(used, dtype=np.int64)
        slot = {col: k for k, col in enumerate(used)}
        # All trees' nodes in one set of arrays (node ids offset per tree), a leaf pointing to itself on both
        # sides, so every tree of a block of rows steps down together: one gather per level, not per tree.
        offsets = np.cumsum([0] + [len(t.feature) for t in self.trees])
        self._roots = offsets[:-1].astype(np.int64)
        self._depth = max((t.depth for t in self.trees), default=0)
        nodes = [(np.where(t.left >= 0, t.left + o, np.arange(len(t.left)) + o),
                  np.where(t.right >= 0, t.right + o, np.arange(len(t.right)) + o)) for t, o in zip(self.trees, offsets)]
        self._left = np.concatenate([l for l, _ in nodes]) if nodes else np.zeros(0, dtype=np.int64)
        self._right = np.concatenate([r for _, r in nodes]) if nodes else np.zeros(0, dtype=np.int64)
        self._slots = np.asarray([slot.get(int(f), 0) for t in self.trees for f in t.feature], dtype=np.int64)
        self._thresholds = np.concatenate([t.threshold for t in self.trees]) if nodes else np.zeros(0)
        self._values = np.concatenate([t.value for t in self.trees]) if nodes else np.zeros(0)

    @classmethod
    def load(cls, path: Path) -> PlacementModel:
        import numpy as np
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"挂链模型文件 {path} 无法读取：{exc} (placement model file unreadable)") from exc
        if data.get("format") != FORMAT or tuple(data.get("ngrams", ())) != NGRAMS:
            raise stale(path)
        trees = [Tree(np.asarray(t["feature"], dtype=np.int64), np.asarray(t["threshold"], dtype=np.float64),
                      np.asarray(t["left"], dtype=np.int64), np.asarray(t["right"], dtype=np.int64),
                      np.asarray(t["value"], dtype=np.float64), int(t["depth"])) for t in data["trees"]]
        return cls(tuple(data["dense"]), int(data["buckets"]), float(data["init"]), float(data["learning_rate"]),
                   trees, float(data["threshold"]), str(data["chain"]), str(data.get("chain_sha256", "")))

    def to_json(self, extra: dict | None = None) -> str:
        data = {
            "format": FORMAT, "chain": self.chain_id, "chain_sha256": self.chain_sha256, "dense": list(self.dense),
            "ngrams": list(NGRAMS), "buckets": self.buckets, "threshold": self.threshold, "init": self.init,
            "learning_rate": self.learning_rate,
            "trees": [{"depth": t.depth, "feature": t.feature.tolist(), "threshold": t.threshold.tolist(),
                       "left": t.left.tolist(), "right": t.right.tolist(), "value": t.value.tolist()}
                      for t in self.trees],
            **(extra or {}),
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"

    def used_columns(self) -> np.ndarray:
        """The columns some tree splits on: the only ones a featurizer for this model needs to fill."""
        return self._used

    def probabilities(self, rows: Rows) -> np.ndarray:
        """The probability of each row (candidate) being a segment of its firm. Each row's sum runs tree by tree
        in the same order whatever else is in the batch, so a firm alone and in a batch get the same bits."""
        import numpy as np
        slot = np.full(len(self.dense) + self.buckets, -1, dtype=np.int64)
        slot[self._used] = np.arange(len(self._used))
        at = slot[rows.index]
        keep = at >= 0
        row, at, value = rows.row[keep], at[keep], rows.value[keep]
        width = max(1, len(self._used))
        z = np.full(rows.count, self.init)
        # a dense matrix of the used columns, a block of rows at a time (rows come in order)
        bounds = np.searchsorted(row, np.arange(0, rows.count + _BLOCK, _BLOCK))
        for b, start in enumerate(range(0, rows.count, _BLOCK)):
            n = min(_BLOCK, rows.count - start)
            lo, hi = bounds[b], bounds[b + 1]
            # colliding tokens add up, as the sparse matrix of training adds them
            cells = np.bincount((row[lo:hi] - start) * width + at[lo:hi], weights=value[lo:hi], minlength=n * width)
            z[start:start + n] += self._trees_sum(cells.reshape(n, width).astype(np.float32))
        return 1.0 / (1.0 + np.exp(-z))

    def _trees_sum(self, values: np.ndarray) -> np.ndarray:
        """learning_rate × the sum of every tree's leaf value, for a block of rows (float32 column values)."""
        import numpy as np
        n = values.shape[0]
        node = np.broadcast_to(self._roots, (n, len(self._roots)))
        rows = np.arange(n)[:, None]
        for _ in range(self._depth):
            left = values[rows, self._slots[node]] <= self._thresholds[node]
            node = np.where(left, self._left[node], self._right[node])
        leaves = self.learning_rate * self._values[node]
        total = np.zeros(n)
        for t in range(leaves.shape[1]):  # tree by tree, the same order for every row whatever the block
            total += leaves[:, t]
        return total


@dataclass
class Rows:
    """Candidates as a sparse matrix in coordinate form: row, column index, value of every non-zero entry."""

    row: np.ndarray
    index: np.ndarray
    value: np.ndarray
    count: int


def stale(path: Path | str) -> ModelFileError:
    return ModelFileError(f"挂链模型文件 {path} 与本版程序的特征不符，请用 chainatlas placement train 重新训练"
                          f" (model file format or features differ from this version)")


def model_path(chain_path: str | Path) -> Path:
    """Where a chain's model lives: beside its file, `<id>.model.json`."""
    path = Path(chain_path)
    return path.with_name(path.stem + SUFFIX)


def chain_digest(chain_path: str | Path) -> str:
    return hashlib.sha256(Path(chain_path).read_bytes()).hexdigest()


_LOADED: dict[tuple[str, float], PlacementModel] = {}


def load_for_chain(chain_path: str | Path) -> PlacementModel | None:
    """The model beside a chain file, None when it has none (the rules then place alone); cached by mtime."""
    if not str(chain_path):  # a chain built in memory has no file beside it
        return None
    path = model_path(chain_path)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    key = (str(path), mtime)
    model = _LOADED.get(key)
    if model is None:
        model = _LOADED[key] = PlacementModel.load(path)
    return model


def _ngrams(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    return [text[i:i + n] for n in NGRAMS for i in range(len(text) - n + 1)]


class Featurizer:
    """Candidate rows of firms (`dense_names` columns, then hashed tokens), for one chain and one bucket count."""

    def __init__(self, terms: ChainTerms, buckets: int, used: np.ndarray | None = None):
        """used: the token columns a model splits on (`PlacementModel.used_columns`); the others are left out of
        the rows (training fills every column)."""
        self.terms = terms
        self.buckets = buckets
        self.dense = dense_names(terms.fields)
        self._used: set[int] | None = None if used is None else {int(c) for c in used}
        self._tokens: dict[str, int] = {}  # token → column
        self._line_grams: dict[tuple[str, str], tuple[int, ...]] = {}  # (prefix, product line) → n-gram columns
        self._words: dict[tuple[int, int, int, str], tuple[int, int]] = {}  # see `_word_columns`

    def column(self, token: str) -> int:
        """The token's column, -1 for one the model does not use."""
        col = self._tokens.get(token)
        if col is None:
            if len(self._tokens) > 1_000_000:
                self._tokens.clear()
            col = len(self.dense) + zlib.crc32(token.encode("utf-8")) % self.buckets
            col = self._tokens[token] = col if self._used is None or col in self._used else -1
        return col

    def _word_columns(self, fld: int, strong: int, wi: int, segment: str) -> tuple[int, int]:
        """The columns of a hit's word, and of the word for this segment: a generic word names several segments,
        which one it speaks for is learned per segment."""
        key = (fld, strong, wi, segment)
        cols = self._words.get(key)
        if cols is None:
            word = self.terms.spelling[wi]
            cols = self._words[key] = (self.column(f"w{fld}{strong}:{word}"), self.column(f"x{fld}:{segment}:{word}"))
        return cols

    def _grams(self, prefix: str, line: str) -> tuple[int, ...]:
        """The columns of a product line's n-grams, as evidence of a segment ("e:") or as firm context ("p:")."""
        cols = self._line_grams.get((prefix, line))
        if cols is None:
            if len(self._line_grams) > 1_000_000:
                self._line_grams.clear()
            cols = self._line_grams[prefix, line] = tuple(sorted({self.column(prefix + g) for g in _ngrams(line)}
                                                                 - {-1}))
        return cols

    def rows(self, firms: Sequence[FirmView]) -> tuple[Rows, list[int]]:
        """(the candidate rows of all firms, the number of rows of each firm)."""
        import numpy as np
        rows: list[int] = []
        index: list[int] = []
        value: list[float] = []
        per_firm: list[int] = []
        r = 0
        for firm in firms:
            per_firm.append(len(firm.candidates))
            for cols, vals in self._firm(firm):
                rows.extend([r] * len(cols))
                index.extend(cols)
                value.extend(vals)
                r += 1
        return Rows(np.asarray(rows, dtype=np.int64), np.asarray(index, dtype=np.int64),
                    np.asarray(value, dtype=np.float64), r), per_firm

    def _firm(self, firm: FirmView) -> list[tuple[list[int], list[float]]]:
        terms = self.terms
        cands = firm.candidates
        ruled_rank = {seg: k for k, (_, seg, _, _) in enumerate(firm.ruled)}
        best = max(c.score for c in cands) or 1.0
        order = {c.seg: k for k, c in enumerate(sorted(cands, key=lambda c: (-c.score, c.seg)))}
        segs = {c.seg for c in cands}
        # firm context: the n-grams of all its product lines, as one group normalised by its size
        firm_cols = sorted({col for line, _ in firm.lines for col in self._grams("p:", line)})
        out = []
        for c in cands:
            strong_share = line_share = given_share = 0.0
            strong_words: set[int] = set()
            weak_words: set[int] = set()
            segment = terms.segment_ids[c.seg]
            tokens: set[int] = {self.column("s:" + segment)}
            line_cols: set[int] = set()
            for fld, part in enumerate(c.parts):
                if part is None:
                    continue
                strong_lines: set[int] = set()
                for _, item, wi, _, strong in part.hits:
                    (strong_words if strong else weak_words).add(wi)
                    tokens.update(self._word_columns(fld, strong, wi, segment))
                    if fld == 1:
                        line_share = max(line_share, firm.shares[item])
                        given = firm.lines[item][1] if firm.lines else None
                        if given is not None and given > 0.001:  # a real share, not an extract's placeholder
                            given_share = max(given_share, given)
                        if strong:
                            strong_lines.add(item)
                        if firm.lines:
                            line_cols.update(self._grams("e:", firm.lines[item][0]))
                strong_share += sum(firm.shares[i] for i in strong_lines)
            weak_words -= strong_words
            tokens.discard(-1)
            dense = [
                c.score, math.log1p(c.score), float(c.seg in ruled_rank), float(ruled_rank.get(c.seg) == 0),
                c.score / best, float(order[c.seg]), float(len(cands)),
                *(p.strong if p is not None else 0.0 for p in c.parts),
                *(p.all if p is not None else 0.0 for p in c.parts),
                c.prior, min(1.0, strong_share), line_share, float(not strong_words), float(len(strong_words)),
                float(len(weak_words)), float(bool(terms.supplies.get(c.seg, set()) & (segs - {c.seg}))),
                float(any(c.seg in terms.supplies.get(o, ()) for o in segs if o != c.seg)), given_share,
            ]
            cols = list(range(len(self.dense))) + sorted(tokens)
            vals = dense + [1.0] * len(tokens)
            if line_cols:
                w = 1.0 / math.sqrt(len(line_cols))
                cols += sorted(line_cols)
                vals += [w] * len(line_cols)
            if firm_cols:
                w = 1.0 / math.sqrt(len(firm_cols))
                cols += firm_cols
                vals += [w] * len(firm_cols)
            out.append((cols, vals))
        return out


def rules_decide(view: FirmView) -> bool:
    """Whether the rules' placements of a firm stand without the model (see RULES_DECIDE_FROM)."""
    return bool(view.ruled) and round(view.ruled[0][0], 3) >= RULES_DECIDE_FROM


def placeable(firm: FirmView, candidate, placeholder_share: float) -> bool:
    """Whether the model may place a firm on a candidate segment: not on product lines with a placeholder share
    alone (an extract's 0.001 for a minor line never places a firm, issue 20), whatever it has learned."""
    for fld, part in enumerate(candidate.parts):
        if part is not None and (fld != 1 or any(firm.shares[h[1]] != placeholder_share for h in part.hits)):
            return True
    return False


def decide(model: PlacementModel, featurizer: Featurizer, firms: Sequence[FirmView]
           ) -> list[list[tuple[float, int]]]:
    """Per firm: (probability, candidate position) of each candidate placed, most probable first (ties: segment
    order), vectorised over the batch."""
    import numpy as np
    rows, per_firm = featurizer.rows(firms)
    prob = model.probabilities(rows)
    out: list[list[tuple[float, int]]] = []
    start = 0
    placeholder = featurizer.terms.placeholder_share
    for firm, n in zip(firms, per_firm):
        p = prob[start:start + n]
        chosen = [(float(p[k]), k) for k in np.flatnonzero(p >= model.threshold)
                  if placeable(firm, firm.candidates[k], placeholder)]
        chosen.sort(key=lambda t: (-t[0], firm.candidates[t[1]].seg))
        out.append(chosen)
        start += n
    return out
