# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernel of the placement engine: the scan and the placement rules of `classify.Classifier`, on C
arrays, for the batch engine's million-firm runs.

`Classifier` (classify.py) stays the definition: this module reads its compiled tables (words, nodes, supply
edges, constants) and computes exactly what `Classifier._scan` and `Classifier.place` compute, with the same
float operations in the same order, so scores and evidence are equal bit for bit (tests/test_classify_kernel.py
compares both on every text and firm of the test sets). The only rule left to Python is the rare tie between
several equally deep nodes (`Classifier.target`, which depends on set order).

Node sets (a word's nodes, exclusions, supply edges) are bitsets of `nw` 64-bit words per set.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy, strcmp
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.unicode cimport PyUnicode_DecodeUTF8

cdef extern from "Python.h":
    int PyUnicode_KIND(object)
    void* PyUnicode_DATA(object)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t i)
    object PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    int PyUnicode_4BYTE_KIND
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch)
    bint Py_UNICODE_ISDECIMAL(Py_UCS4 ch)
    object PyFloat_FromString(object)
    ctypedef struct PyObject
    double PyOS_string_to_double(const char* s, char** endptr, PyObject* overflow_exception) except? -1.0
    double PyFloat_AsDouble(object) except? -1.0
from libc.math cimport exp
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcmp
from cpython cimport array as carray

import json
import unicodedata
from collections import deque

from array import array

from chainatlas.engines import classify as _rules
from chainatlas.engines.placement_kernel_py import may_change

cdef double STRONG = _rules.STRONG
cdef double WEAK = _rules.WEAK
cdef double THRESHOLD = _rules.THRESHOLD
cdef double FULL_SHARE = _rules.FULL_SHARE
cdef double PLACEHOLDER = _rules.PLACEHOLDER
cdef double SHARE_FLOOR = _rules.SHARE_FLOOR
cdef double PLACEHOLDER_SHARE = _rules.PLACEHOLDER_SHARE
cdef double UNKNOWN_SHARE_ALONE = _rules.UNKNOWN_SHARE_ALONE
cdef enum:
    NF = 5  # fields: name, products, scope, industry, supplied (`classify.FIELDS`)
assert len(_rules.FIELDS) == NF
cdef int SUPPLIED = _rules.SUPPLIED
cdef double[NF] FIELD_WEIGHT
cdef double[NF] FIELD_CAP
for _f, _name in enumerate(_rules.FIELDS):
    FIELD_WEIGHT[_f] = _rules.FIELD_WEIGHT[_name]
    FIELD_CAP[_f] = _rules.FIELD_CAP[_name]
# `_combine` adds the fields' terms products first, then name, scope, industry, supplied.
cdef int[NF] COMBINE_ORDER = [1, 0, 2, 3, 4]


cdef inline bint _charwise(uint32_t c) noexcept nogil:
    """Characters `Classifier._scan` normalises one by one (its _CHARWISE ranges)."""
    return c < 0x80 or 0x3000 <= c <= 0x3002 or 0x4E00 <= c <= 0x9FFF or 0xFF01 <= c <= 0xFF5E


cdef inline uint32_t _normal(uint32_t c) noexcept nogil:
    """NFKC then lower() of one charwise character (full-width forms are ASCII shifted by 0xFEE0)."""
    if 0xFF01 <= c <= 0xFF5E:
        c -= 0xFEE0
    elif c == 0x3000:
        return 0x20
    if 0x41 <= c <= 0x5A:
        return c + 0x20
    return c


cdef inline bint _latin(uint32_t c) noexcept nogil:
    return (0x30 <= c <= 0x39) or (0x41 <= c <= 0x5A) or (0x61 <= c <= 0x7A)


# The Arrow C data interface (arrow.apache.org/docs/format/CDataInterface.html): how `scan_column` reads a polars
# text column's UTF-8 bytes in place, without a Python string per cell.
cdef struct ArrowSchema:
    const char* format
    const char* name
    const char* metadata
    int64_t flags
    int64_t n_children
    ArrowSchema** children
    ArrowSchema* dictionary
    void (*release)(ArrowSchema*) noexcept
    void* private_data

cdef struct ArrowArray:
    int64_t length
    int64_t null_count
    int64_t offset
    int64_t n_buffers
    int64_t n_children
    const void** buffers
    ArrowArray** children
    ArrowArray* dictionary
    void (*release)(ArrowArray*) noexcept
    void* private_data

cdef struct ArrowArrayStream:
    int (*get_schema)(ArrowArrayStream*, ArrowSchema*) noexcept
    int (*get_next)(ArrowArrayStream*, ArrowArray*) noexcept
    const char* (*get_last_error)(ArrowArrayStream*) noexcept
    void (*release)(ArrowArrayStream*) noexcept
    void* private_data

# states of depth up to this get a dense row (nev-icv: 1,183 of 5,415 states, 772 kinds: 1.8 MB)
cdef int DENSE_DEPTH = 2


cdef struct State:
    # one state of the automaton: its edges are edges[lo:hi] (by character), its failure link, and the first state
    # on its output chain (itself when it ends a word; -1 when none does)
    int32_t lo, hi, fail, out

cdef struct Edge:
    uint32_t ch
    int32_t next


cdef struct Hit:
    int fld, item, wi, n, strong, seg
    int line  # product lines and supplied components: the line's place in `Kernel.flat_lines` (for evidence), else -1


cdef struct Slot:
    # one segment a firm has hits on: its hits are bucket[lo:hi]; its field parts (`classify.Part`) by field
    int seg, lo, hi
    double strong[NF]
    double all[NF]
    bint weak[NF]
    bint present[NF]
    bint strong_hit[NF]
    double score
    bint used_weak, placed


cdef class Kernel:
    """The compiled tables of one `Classifier`, and reusable buffers (one kernel per process and thread)."""

    cdef readonly object classifier
    cdef int n_nodes, n_words, nw
    # automaton: BMP codepoint -> state from the root; per state its sorted edges; failure and output links
    cdef int32_t[::1] root, out_word, out_link  # root: by character kind (see kind), the root's edge or -1
    cdef State* states
    cdef Edge* edges
    # the shallow states (numbered first, breadth-first: 0 .. n_dense - 1) have a dense row of next states by
    # character kind, failure links followed: a step from one is one load (dense[state * n_kinds + kind])
    cdef uint16_t* dense
    cdef int n_dense, n_kinds
    cdef unsigned char[::1] separator  # BMP codepoint -> 1 for a phrase separator
    cdef uint16_t[::1] kind  # BMP codepoint -> its number among the words' characters, 0 for one in no word
    cdef object separators  # the set, for characters beyond the BMP
    # words
    cdef int32_t[::1] length, strong_lo, strong_hi, strong_nodes, weak_lo, weak_hi, weak_nodes
    cdef unsigned char[::1] latin_left, latin_right, qualifier, positive, one_segment
    cdef uint64_t[::1] word_nodes, excluded
    # nodes
    cdef int32_t[::1] seg_of
    cdef int32_t[::1] depth
    cdef uint64_t[::1] supplies
    # buffers grown on demand
    cdef uint32_t* text  # the field text being scanned, normalised
    cdef Py_ssize_t text_len, text_cap
    cdef int32_t* stack_end
    cdef int32_t* stack_wi
    cdef int stack_cap
    cdef int32_t* found  # (wi, n, strong) triples of the text being scanned
    cdef int found_len, found_cap
    cdef Hit* hits
    cdef int hits_len, hits_cap
    # the hits by segment (see Slot, _bucket); these buffers are sized with `hits`
    cdef Slot* slots
    cdef int n_slots
    cdef int* hit_slot
    cdef int* bucket
    cdef uint64_t* excl_buf
    cdef double* prior  # by node index: the prior (GB/T code, stock industry) of the firm being placed (0.0: none)
    cdef double* share_buf
    cdef int share_cap
    cdef int* placed_slots  # the slots placed, best first (see _place)
    cdef int* ev  # evidence of one placement: hit indexes (see _evidence)
    cdef int ev_len
    cdef int* node_buf
    # interned hit lists (see scan_ids): a list's (word, node, strong) triples, strong first, are
    # hit_flat[3 * hit_lo[id] : 3 * hit_lo[id + 1]]; id 0 is the empty list. The ids are found by an open-addressing
    # table of C integers (hit_table: id, or 0 for an empty slot; hit_hash: the list's hash): a registry's business
    # scopes are nearly all distinct lists, and a dict of their bytes keys held ≈ 10 MB of Python objects per 200,000
    # rows (2,500 page faults here) and hashed a new bytes object per text.
    cdef object hit_lo, hit_flat, hit_strong
    cdef int32_t* hit_table
    cdef uint64_t* hit_hash
    cdef Py_ssize_t hit_mask
    cdef int32_t* order  # a text's hits in `found`, strong first, as interned
    cdef int order_cap
    # a product cell being read (see _parse_cell): its characters as they are, and its product lines: the product
    # is raw[line_start:line_end], the digits of its share raw[share_start:share_end] (share_start -1: none given;
    # share_percent: in per cent), the hit list id of the product and whether a hit in it is strong
    cdef uint32_t* raw
    cdef Py_ssize_t raw_len, raw_cap
    cdef Py_ssize_t* line_start
    cdef Py_ssize_t* line_end
    cdef Py_ssize_t* share_start
    cdef Py_ssize_t* share_end
    cdef bint* share_percent
    cdef int32_t* line_found
    cdef bint* line_strong
    cdef int n_lines, lines_cap
    # while placing signatures (see place_signatures): views of the interned lists, product lines by product key;
    # a hit's `line` is the line's place in flat_lines, and line_id its id once evidence has named it (-1 before)
    cdef int32_t[::1] hid_lo, hid_hits, key_lo, line_hid, line_id
    cdef double[::1] line_share
    cdef list flat_lines
    # evidence JSON: one text per distinct entry; product lines (product, share as given) by id
    cdef dict fragments, line_ids
    cdef bint csv  # evidence as a CSV field: quoted, its quotes doubled (see __init__)
    cdef bint odd  # the text `_scan_utf8` scanned holds a NUL, U+3000 or U+00A0 (see scan_column)
    cdef list lines

    def __dealloc__(self):
        # (C attributes of an extension type start zeroed: every pointer is NULL until its first realloc)
        free(self.text)
        free(self.hit_table)
        free(self.hit_hash)
        free(self.states)
        free(self.edges)
        free(self.dense)
        free(self.stack_end)
        free(self.stack_wi)
        free(self.found)
        free(self.hits)
        free(self.slots)
        free(self.hit_slot)
        free(self.bucket)
        free(self.placed_slots)
        free(self.ev)
        free(self.node_buf)
        free(self.excl_buf)
        free(self.prior)
        free(self.share_buf)
        free(self.order)
        free(self.raw)
        free(self.line_start)
        free(self.line_end)
        free(self.share_start)
        free(self.share_end)
        free(self.share_percent)
        free(self.line_found)
        free(self.line_strong)

    def __init__(self, classifier, csv=False):
        """csv: `place_signatures` gives each evidence list as the CSV field that minimal quoting writes for its
        JSON (it always holds quotes and commas), escaped once per distinct entry rather than once per row."""
        clf = classifier
        self.classifier = clf
        self.csv = csv
        self.fragments, self.line_ids, self.lines = {}, {}, []
        self.hit_lo, self.hit_flat, self.hit_strong = array("i", [0, 0]), array("i"), array("B", [0])
        self._grow_hit_table(1 << 12)
        self.n_nodes = len(clf.node_ids)
        self.n_words = len(clf.words)
        nw = self.nw = max(1, (self.n_nodes + 63) // 64)
        # The tables of the chain's words and nodes: made once per chain and kept with it, also between processes
        # (the build cache): ≈ 10 ms of every process's start here.
        automaton, words = clf.chain.compiled("kernel tables", lambda: (_automaton([w for w, *_ in clf.words]),
                                                                        _word_tables(clf, nw)))
        self._build_automaton(automaton)
        (self.length, self.latin_left, self.latin_right, self.qualifier, self.one_segment, self.positive,
         self.word_nodes, self.excluded, self.strong_lo, self.strong_hi, self.weak_lo, self.weak_hi,
         self.strong_nodes, self.weak_nodes, self.seg_of, self.depth, self.supplies) = words
        sep = _zeros("B", 0x10000)
        for ch in _rules.PHRASE_SEPARATORS:
            if ord(ch) < 0x10000:
                sep[ord(ch)] = 1
        self.separator = sep
        self.separators = set(_rules.PHRASE_SEPARATORS)
        self.excl_buf = <uint64_t*>malloc(nw * sizeof(uint64_t))
        self.prior = <double*>malloc(max(1, self.n_nodes) * sizeof(double))
        if self.excl_buf == NULL or self.prior == NULL:
            raise MemoryError()
        for n in range(self.n_nodes):
            self.prior[n] = 0.0

    def _build_automaton(self, tables):
        """The automaton's C tables from the Python ones (`_automaton`)."""
        cdef int32_t[::1] lo, hi, chars, nexts, fail, out, link
        cdef Py_ssize_t s, j, n
        self.kind, self.root, lo, hi, chars, nexts, fail, out, link, n_dense = tables
        n = lo.shape[0]
        self.states = <State*>malloc(n * sizeof(State))
        self.edges = <Edge*>malloc(max(1, chars.shape[0]) * sizeof(Edge))
        if self.states == NULL or self.edges == NULL:
            raise MemoryError()
        for s in range(n):
            self.states[s].lo, self.states[s].hi, self.states[s].fail = lo[s], hi[s], fail[s]
            self.states[s].out = s if out[s] >= 0 else link[s]
        for j in range(chars.shape[0]):
            self.edges[j].ch, self.edges[j].next = chars[j], nexts[j]
        self.out_word, self.out_link = out, link
        self._build_dense(n_dense)

    cdef int _build_dense(self, int n_dense) except -1:
        """The dense rows of states 0 .. n_dense - 1 (each one's failure link is shallower, so its row is there)."""
        cdef int s, j, k, n_kinds = len(self.root)
        cdef uint16_t* row
        self.n_kinds = n_kinds
        self.dense = <uint16_t*>malloc(max(1, n_dense * n_kinds) * sizeof(uint16_t))
        if self.dense == NULL:
            raise MemoryError()
        for s in range(n_dense):
            row = self.dense + s * n_kinds
            if s == 0:
                for k in range(n_kinds):
                    row[k] = self.root[k] if self.root[k] >= 0 else 0
            else:
                memcpy(row, self.dense + self.states[s].fail * n_kinds, n_kinds * sizeof(uint16_t))
                for j in range(self.states[s].lo, self.states[s].hi):
                    if self.edges[j].ch < 0x10000:
                        row[self.kind[self.edges[j].ch]] = self.edges[j].next
        self.n_dense = n_dense
        return 0

    # ------------------------------------------------------------------ buffers

    cdef int _grow_found(self, int need) except -1:
        cdef int cap
        if need > self.found_cap:
            cap = max(need, 2 * self.found_cap, 256)
            self.found = <int32_t*>realloc(self.found, 3 * cap * sizeof(int32_t))
            if self.found == NULL:
                raise MemoryError()
            self.found_cap = cap
        return 0

    cdef int _grow_hits(self, int need) except -1:
        cdef int cap
        if need > self.hits_cap:
            cap = max(need, 2 * self.hits_cap, 256)
            self.hits = <Hit*>realloc(self.hits, cap * sizeof(Hit))
            self.slots = <Slot*>realloc(self.slots, cap * sizeof(Slot))
            self.hit_slot = <int*>realloc(self.hit_slot, cap * sizeof(int))
            self.bucket = <int*>realloc(self.bucket, cap * sizeof(int))
            self.placed_slots = <int*>realloc(self.placed_slots, cap * sizeof(int))
            self.ev = <int*>realloc(self.ev, cap * sizeof(int))
            self.node_buf = <int*>realloc(self.node_buf, cap * sizeof(int))
            if (self.hits == NULL or self.slots == NULL or self.hit_slot == NULL or self.bucket == NULL
                    or self.placed_slots == NULL or self.ev == NULL or self.node_buf == NULL):
                raise MemoryError()
            self.hits_cap = cap
        return 0

    # ------------------------------------------------------------------ scanning

    cdef inline int _step(self, int state, uint32_t c) noexcept nogil:
        """The goto edge of `state` on c, or -1: a search of its edges (by character), most states having few."""
        cdef int lo, hi, mid
        cdef const Edge* edges = self.edges
        if state == 0 and c < 0x10000:
            return self.root[self.kind[c]]
        lo = self.states[state].lo
        hi = self.states[state].hi
        while hi - lo > 8:  # the first edge on c or above is in [lo, hi)
            mid = (lo + hi) >> 1
            if edges[mid].ch < c:
                lo = mid + 1
            else:
                hi = mid + 1
        while lo < hi:
            if edges[lo].ch >= c:
                return edges[lo].next if edges[lo].ch == c else -1
            lo += 1
        return -1

    cdef int _phrase(self, int p0, int p1) except -1:
        """Hits of the normalised phrase text[p0:p1] into `found`, as `Classifier._scan_phrase`."""
        cdef int state = 0, nxt, pos, s, wi, n, end, start, top = 0, k, j, last, w
        cdef int nw = self.nw
        cdef bint qualified
        cdef uint64_t* head
        cdef uint32_t c
        if p1 - p0 > self.stack_cap:
            self.stack_cap = p1 - p0
            self.stack_end = <int32_t*>realloc(self.stack_end, self.stack_cap * sizeof(int32_t))
            self.stack_wi = <int32_t*>realloc(self.stack_wi, self.stack_cap * sizeof(int32_t))
            if self.stack_end == NULL or self.stack_wi == NULL:
                raise MemoryError()
        cdef const uint32_t* text = self.text
        cdef const uint16_t* kind = &self.kind[0]
        cdef const State* states = self.states
        cdef const uint16_t* dense = self.dense
        cdef int n_dense = self.n_dense, n_kinds = self.n_kinds
        for j in range(nw):  # negative contexts of every match, a word inside a longer one too
            self.excl_buf[j] = 0
        for pos in range(p0, p1):
            c = text[pos]
            if c < 0x10000 and state < n_dense:
                # kind 0 (in no word) leads to the root in every dense row: no branch on whether c is in a word,
                # which in registry text is about as often as not
                state = dense[state * n_kinds + kind[c]]
            else:
                k = kind[c] if c < 0x10000 else 0
                if not k and c < 0x10000:  # in no word: back to the root, which ends none
                    state = 0
                    continue
                while True:
                    if k and state < n_dense:
                        state = dense[state * n_kinds + k]
                        break
                    nxt = self._step(state, c)
                    if nxt >= 0:
                        state = nxt
                        break
                    if state == 0:
                        break
                    state = states[state].fail
            s = states[state].out
            while s >= 0:
                wi = self.out_word[s]
                s = self.out_link[s]
                n = self.length[wi]
                end = pos - p0
                if (self.latin_left[wi] and end >= n and _latin(self.text[pos - n])) or (
                        self.latin_right[wi] and pos + 1 < p1 and _latin(self.text[pos + 1])):
                    continue
                for j in range(nw):
                    self.excl_buf[j] |= self.excluded[wi * nw + j]
                # maximal matches only: drop kept words inside this one, skip this one inside a kept word
                start = end - n
                while top and self.stack_end[top - 1] - self.length[self.stack_wi[top - 1]] >= start:
                    top -= 1
                if top and self.stack_end[top - 1] - self.length[self.stack_wi[top - 1]] <= start \
                        and self.stack_end[top - 1] >= end:
                    continue
                self.stack_end[top] = end
                self.stack_wi[top] = wi
                top += 1
        if not top:
            return 0
        # head rule: the nodes of the last positive word speak for the phrase
        last = -1
        for k in range(top - 1, -1, -1):
            if self.positive[self.stack_wi[k]]:
                last = self.stack_wi[k]
                break
        if last < 0:
            return 0
        head = &self.word_nodes[last * nw]
        qualified = False
        if top > 1 and self.one_segment[last]:
            for k in range(top):
                w = self.stack_wi[k]
                if w != last and self.qualifier[w]:
                    for j in range(nw):
                        if self.word_nodes[w * nw + j] & ~head[j]:
                            qualified = True
                            break
                    if qualified:
                        break
        for k in range(top):
            w = self.stack_wi[k]
            for j in range(self.strong_lo[w], self.strong_hi[w]):
                self._emit(w, self.strong_nodes[j], 1, head)
            for j in range(self.weak_lo[w], self.weak_hi[w]):
                self._emit(w, self.weak_nodes[j], 1 if qualified and w == last else 0, head)
        return 0

    cdef int _emit(self, int w, int node, int strong, const uint64_t* head) except -1:
        """A hit of word w on a node, into `found`, if the node is in the phrase's head and not excluded there."""
        if (head[node >> 6] >> (node & 63)) & 1 and not (self.excl_buf[node >> 6] >> (node & 63)) & 1:
            self._grow_found(self.found_len + 1)
            self.found[3 * self.found_len] = w
            self.found[3 * self.found_len + 1] = node
            self.found[3 * self.found_len + 2] = strong
            self.found_len += 1
        return 0

    cdef int _scan_into(self, str text) except -1:
        """The hits of one field text into `found` (phrase order, not yet strong-first)."""
        self._raw_of_str(text)
        return self._scan_chars(0, self.raw_len, text)

    cdef int _scan_chars(self, Py_ssize_t a, Py_ssize_t e, str text) except -1:
        """The hits of the text raw[a:e] into `found`; text: its str if there is one (made here if it needs NFKC)."""
        cdef Py_ssize_t i, size = e - a
        cdef Py_UCS4 c
        self.found_len = self.text_len = 0
        if self.n_words == 0:
            return 0
        _room(&self.text, &self.text_cap, size)
        if not _fill(self.raw + a, size, self.text):
            # NFKC and lower() of the whole text, after which every character maps to itself
            if text is None:
                text = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, self.raw + a, size)
            text = unicodedata.normalize("NFKC", text).lower()
            size = len(text)
            _room(&self.text, &self.text_cap, size)
            i = 0
            for c in text:
                self.text[i] = c
                i += 1
        self.text_len = size
        return self._phrases()

    cdef int _scan_utf8(self, const uint8_t* p, Py_ssize_t n) except -1:
        """`_scan_into` of the text whose UTF-8 bytes are p[:n]; its str is made only when it needs NFKC. Sets
        `odd` (with words to scan for)."""
        cdef Py_ssize_t size
        self.found_len = self.text_len = 0
        self.odd = False
        if self.n_words == 0:
            return 0
        _room(&self.text, &self.text_cap, n)  # no more characters than bytes
        size = _fill_utf8(p, n, self.text, &self.odd)
        if size < 0:
            text = PyUnicode_DecodeUTF8(<const char*>p, n, NULL)
            self.odd = "\x00" in text or "\u3000" in text or "\xa0" in text
            return self._scan_into(text)
        self.text_len = size
        return self._phrases()

    cdef int _phrases(self) except -1:
        """The hits of the normalised text, phrase by phrase (the text cut at separators)."""
        cdef Py_ssize_t i, size = self.text_len
        cdef int p0 = 0
        cdef uint32_t c
        cdef const uint32_t* text = self.text
        cdef const unsigned char* separator = &self.separator[0]
        for i in range(size):
            c = text[i]
            if (c < 0x10000 and separator[c]) or (c >= 0x10000 and chr(c) in self.separators):
                if i > p0:
                    self._phrase(p0, i)
                p0 = i + 1
        if size > p0:
            self._phrase(p0, size)
        return 0

    cdef int _order(self) except -1:
        """`found` as `_scan` orders it (strong hits first, each kind in phrase order) into `order`; returns the
        count of ints written (three per hit)."""
        cdef int k, m = 0, want
        if self.found_len * 3 > self.order_cap:
            self.order_cap = self.found_len * 3
            self.order = <int32_t*>realloc(self.order, self.order_cap * sizeof(int32_t))
            if self.order == NULL:
                raise MemoryError()
        for want in (1, 0):
            for k in range(self.found_len):
                if self.found[3 * k + 2] == want:
                    self.order[m] = self.found[3 * k]
                    self.order[m + 1] = self.found[3 * k + 1]
                    self.order[m + 2] = want
                    m += 3
        return m

    def normalised(self, str text):
        """The text as the scan reads it (NFKC, lower case)."""
        self._scan_into(text)
        return "".join(map(chr, [self.text[i] for i in range(self.text_len)]))

    def scan(self, str text):
        """Exactly `Classifier._scan(text)`: ((word index, node index, strong 1/0), ...), strong hits first."""
        cdef int m
        self._scan_into(text)
        m = self._order()
        return tuple([(self.order[k], self.order[k + 1], self.order[k + 2]) for k in range(0, m, 3)])

    cdef int _intern(self) except -1:
        """The interned id of the hits in `found` (see scan_ids)."""
        cdef int m, j, hid
        cdef uint64_t h = 14695981039346656037ULL
        cdef Py_ssize_t slot, n
        cdef carray.array flat = self.hit_flat, lo = self.hit_lo, strong = self.hit_strong
        if self.found_len == 0:
            return 0
        m = self._order()
        for j in range(m):  # FNV-1a over the triples' integers
            h = (h ^ <uint32_t>self.order[j]) * 1099511628211ULL
        slot = <Py_ssize_t>(h >> 20) & self.hit_mask
        while True:
            hid = self.hit_table[slot]
            if hid == 0:
                break
            if self.hit_hash[slot] == h and 3 * (lo.data.as_ints[hid + 1] - lo.data.as_ints[hid]) == m and memcmp(
                    flat.data.as_ints + 3 * lo.data.as_ints[hid], self.order, m * sizeof(int32_t)) == 0:
                return hid
            slot = (slot + 1) & self.hit_mask
        n = len(strong)
        hid = <int>n
        carray.extend_buffer(flat, <char*>self.order, m)
        carray.resize_smart(lo, n + 2)
        lo.data.as_ints[n + 1] = <int>(len(flat) // 3)
        carray.resize_smart(strong, n + 1)
        strong.data.as_uchars[n] = 1 if self.order[2] else 0
        self.hit_table[slot] = hid
        self.hit_hash[slot] = h
        if 2 * (n + 1) > self.hit_mask:
            self._grow_hit_table(2 * (self.hit_mask + 1))
        return hid

    cdef int _grow_hit_table(self, Py_ssize_t size) except -1:
        """The id table with `size` slots (a power of two), every interned list in it again."""
        cdef int32_t* table = <int32_t*>calloc(size, sizeof(int32_t))
        cdef uint64_t* hashes = <uint64_t*>malloc(size * sizeof(uint64_t))
        cdef Py_ssize_t j, slot
        if table == NULL or hashes == NULL:
            free(table)
            free(hashes)
            raise MemoryError()
        for j in range(self.hit_mask + 1 if self.hit_table != NULL else 0):
            if self.hit_table[j]:
                slot = <Py_ssize_t>(self.hit_hash[j] >> 20) & (size - 1)
                while table[slot]:
                    slot = (slot + 1) & (size - 1)
                table[slot] = self.hit_table[j]
                hashes[slot] = self.hit_hash[j]
        free(self.hit_table)
        free(self.hit_hash)
        self.hit_table, self.hit_hash, self.hit_mask = table, hashes, size - 1
        return 0

    def scan_ids(self, list texts):
        """The interned hit list id of each text's `scan` (equal lists, equal ids; 0 for no hit)."""
        cdef str t
        ids = []
        for t in texts:
            self._scan_into(t)
            ids.append(self._intern())
        return ids

    def scan_column(self, values, Py_ssize_t short=-1):
        """`scan_ids` of a text column (a polars Series; a null cell reads as ""), its UTF-8 bytes read where they
        are (Arrow's C stream interface): no Python string is made for a cell that needs no NFKC.

        short >= 0: the id of a text that ingest's clean-up (`clean_text`) may change is -1, for the caller to
        clean and scan: one with a NUL, U+3000 or U+00A0 in it, white space (str.isspace) at either end, or of at
        most `short` bytes (a blank word, a null); the clean-up leaves every other text as it is."""
        return self._each_cell(values, SCAN, short)

    def product_flags(self, values):
        """By product cell of a text column (as `scan_column` reads it): 1 when a line of it (`parse_products`) has
        a hit, 3 when one has a strong hit, else 0."""
        return self._each_cell(values, FLAGS)

    def product_lists(self, values, bint named_only=False):
        """By product cell of a text column (as `scan_column` reads it): None when no line of it has a hit, else
        (the hit list id of each line's product, each line's `effective_shares`, its lines as `parse_products`
        gives them, whether some hit is strong). named_only: a line without a hit, which evidence never names, is
        None (200,000 diverse registry rows: 117,000 of the 200,000 lines of cells with a hit not made)."""
        return self._each_cell(values, NAMED if named_only else LISTS)

    cdef list _each_cell(self, values, int mode, Py_ssize_t short=-1):
        cdef ArrowArrayStream* stream
        cdef ArrowSchema schema
        cdef ArrowArray chunk
        cdef int kind
        cdef str text
        capsule = values.__arrow_c_stream__()
        stream = <ArrowArrayStream*>PyCapsule_GetPointer(capsule, "arrow_array_stream")
        if stream.get_schema(stream, &schema) != 0:
            raise RuntimeError("Arrow stream without a schema")
        kind = 1 if strcmp(schema.format, "vu") == 0 else 2 if strcmp(schema.format, "u") == 0 else \
            3 if strcmp(schema.format, "U") == 0 else 0
        schema.release(&schema)
        out = []
        if kind == 0:  # not a text column Arrow's way: its cells as Python strings
            for text in values.fill_null("").to_list():
                if mode == SCAN:
                    self._scan_into(text)
                    out.append(-1 if short >= 0 and may_change(text, short) else self._intern())
                else:
                    self._raw_of_str(text)
                    out.append(self._cell_out(mode))
            return out
        while True:
            if stream.get_next(stream, &chunk) != 0:
                raise RuntimeError("Arrow stream failed")
            if chunk.release == NULL:  # the end of the stream
                return out
            try:
                self._chunk(&chunk, kind, mode, out, short)
            finally:
                chunk.release(&chunk)

    cdef int _chunk(self, ArrowArray* chunk, int kind, int mode, list out, Py_ssize_t short) except -1:
        """`_each_cell` of one Arrow array: string views (kind 1: 16-byte views, a text of up to 12 bytes inside
        its view, a longer one in a data buffer) or strings with 32-bit (2) or 64-bit (3) offsets."""
        cdef const uint8_t* valid = <const uint8_t*>chunk.buffers[0]
        cdef const uint8_t* view
        cdef const uint8_t* data
        cdef int64_t j, row, start, end
        cdef int32_t length, buffer, offset
        for row in range(chunk.length):
            j = chunk.offset + row
            if valid != NULL and not (valid[j >> 3] >> (j & 7)) & 1:
                data, length = NULL, 0
            elif kind == 1:
                view = <const uint8_t*>chunk.buffers[1] + 16 * j
                memcpy(&length, view, 4)
                if length <= 12:
                    data = view + 4
                else:
                    memcpy(&buffer, view + 8, 4)
                    memcpy(&offset, view + 12, 4)
                    data = <const uint8_t*>chunk.buffers[2 + buffer] + offset
            else:
                if kind == 2:
                    start, end = (<const int32_t*>chunk.buffers[1])[j], (<const int32_t*>chunk.buffers[1])[j + 1]
                else:
                    start, end = (<const int64_t*>chunk.buffers[1])[j], (<const int64_t*>chunk.buffers[1])[j + 1]
                data, length = <const uint8_t*>chunk.buffers[2] + start, end - start
            if mode == SCAN and short >= 0 and (length <= short or _space_at_end(data, length)):
                out.append(-1)
            elif mode == SCAN:
                self._scan_utf8(data, length)
                out.append(-1 if short >= 0 and self.odd else self._intern())
            else:
                self._raw_of_utf8(data, length)
                out.append(self._cell_out(mode))
        return 0

    # ------------------------------------------------------------------ product cells

    cdef object _cell_out(self, int mode):
        """The cell in `raw` parsed into product lines and scanned: its flags (FLAGS) or its lists (LISTS; NAMED:
        the lines with a hit only)."""
        cdef int k, flags = 0
        cdef bint real = False
        cdef double given
        cdef list lines, given_shares, shares
        self._parse_cell(mode != FLAGS)
        for k in range(self.n_lines):
            if self.line_found[k]:
                flags |= 3 if self.line_strong[k] else 1
        if mode == FLAGS:
            return flags
        if not flags:
            return None
        lines, given_shares = [], []
        for k in range(self.n_lines):
            given = -1.0 if self.share_start[k] < 0 else self._share(k)
            given_shares.append(given)
            real = real or given > PLACEHOLDER
            if mode == NAMED and not self.line_found[k]:
                lines.append(None)
                continue
            product = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, self.raw + self.line_start[k],
                                                self.line_end[k] - self.line_start[k])
            lines.append((product, None if self.share_start[k] < 0 else given))
        # `classify.effective_shares` (a given share is never NaN nor negative here: digits, a negative read as 0.0)
        shares = [SHARE_FLOOR + (1.0 - SHARE_FLOOR) * g if g > PLACEHOLDER else SHARE_FLOOR if g < 0
                  else PLACEHOLDER_SHARE for g in given_shares] if real else [UNKNOWN_SHARE_ALONE] * self.n_lines
        return (tuple([self.line_found[k] for k in range(self.n_lines)]), tuple(shares), tuple(lines),
                flags == 3)

    cdef double _share(self, int k) except? -1.0:
        """The share given on line k as `products._line` reads it: Python's float() of its digits, in per cent
        where a "%" says so or the number is above 1, at most 1.0, a negative one 0.0. ASCII digits are read by
        the function float() itself calls, without a str made for them; up to 15 of them exactly so in C."""
        cdef double share, scale = 1.0
        cdef char digits[32]
        cdef Py_ssize_t j, n = self.share_end[k] - self.share_start[k]
        cdef bint ascii = n < 32
        cdef uint32_t c
        cdef uint64_t mantissa = 0
        cdef int figures = 0, decimals = -1  # decimals: digits after the point (-1: no point)
        for j in range(n if ascii else 0):
            c = self.raw[self.share_start[k] + j]
            if c >= 0x80:
                ascii = False
                break
            digits[j] = <char>c
            if c == 0x2E:
                decimals = 0
            elif c != 0x2D:  # a digit ("-" only leads)
                mantissa = mantissa * 10 + (c - 0x30)  # (wraps past 19 digits, then unused)
                figures += 1
                decimals += decimals >= 0
        if ascii and figures <= 15:
            # Clinger's fast path: the digits as an integer (below 2**53) and 10**decimals are doubles exactly,
            # so their quotient is the decimal correctly rounded, as float() rounds it (and without
            # PyOS_string_to_double's x87 control word switches: 12 ms for 200,000 registry rows)
            for j in range(decimals):
                scale *= 10.0
            share = <double>mantissa / scale
            if digits[0] == 0x2D:
                share = -share
        elif ascii:
            digits[n] = 0
            share = PyOS_string_to_double(digits, NULL, NULL)
        else:  # other decimal digits (full-width, Arabic-Indic …), which float() reads too
            share = PyFloat_AsDouble(PyFloat_FromString(PyUnicode_FromKindAndData(
                PyUnicode_4BYTE_KIND, self.raw + self.share_start[k], n)))
        if self.share_percent[k] or share > 1:
            share /= 100
        return 1.0 if 1.0 < share else 0.0 if share < 0.0 else share

    cdef int _raw_of_str(self, str text) except -1:
        cdef Py_ssize_t i, size = len(text)
        cdef int kind = PyUnicode_KIND(text)
        cdef void* data = PyUnicode_DATA(text)
        _room(&self.raw, &self.raw_cap, size)
        for i in range(size):
            self.raw[i] = PyUnicode_READ(kind, data, i)
        self.raw_len = size
        return 0

    cdef int _raw_of_utf8(self, const uint8_t* p, Py_ssize_t n) except -1:
        """The characters of valid UTF-8 bytes (polars' strings are) into `raw`."""
        cdef Py_ssize_t i = 0, m = 0
        cdef uint32_t b
        _room(&self.raw, &self.raw_cap, n)
        while i < n:
            b = p[i]
            if b < 0x80:
                self.raw[m] = b
                i += 1
            elif b < 0xE0:
                self.raw[m] = ((b & 0x1F) << 6) | (p[i + 1] & 0x3F)
                i += 2
            elif b < 0xF0:
                self.raw[m] = ((b & 0x0F) << 12) | ((p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F)
                i += 3
            else:
                self.raw[m] = ((b & 0x07) << 18) | ((p[i + 1] & 0x3F) << 12) | ((p[i + 2] & 0x3F) << 6) | (p[i + 3] & 0x3F)
                i += 4
            m += 1
        self.raw_len = m
        return 0

    cdef int _parse_cell(self, bint ids) except -1:
        """`parse_products` of the cell in `raw` into the line buffers: items cut at the item separators, stripped
        as str.strip() strips, blank ones dropped; each read by `_line`."""
        cdef Py_ssize_t i = 0, j, a, b, n = self.raw_len
        self.n_lines = 0
        while i < n:
            while i < n and _item_separator(self.raw[i]):
                i += 1
            j = i
            while j < n and not _item_separator(self.raw[j]):
                j += 1
            a, b = i, j
            while a < b and Py_UNICODE_ISSPACE(self.raw[a]):
                a += 1
            while b > a and Py_UNICODE_ISSPACE(self.raw[b - 1]):
                b -= 1
            if b > a:
                self._line(a, b, ids)
            i = j
        return 0

    cdef int _line(self, Py_ssize_t a, Py_ssize_t b, bint ids) except -1:
        """One stripped item raw[a:b] as `products._line` reads it with `_SHARE`: the shortest product (at least one
        character) after which the rest is whitespace and a share, tried as the regular expression tries it —
        ":" share "%"?, then "(" share "%" ")", then a space, share and "%"; else the whole item, no share.
        ids: the product's hit list id is wanted (else only whether it has a hit, and a strong one)."""
        cdef Py_ssize_t k, q, r, e, p, number = -1, number_end = -1, product_end = b
        cdef uint32_t c
        cdef bint percent = True
        cdef uint32_t* t = self.raw
        for k in range(a + 1, b):
            q = _spaces(t, k, b)  # where the share starts, past the spaces after the product
            c = t[q]  # (q < b: the item ends in no space)
            if c == 0x3A or c == 0xFF1A:  # ":" or "："
                r = _spaces(t, q + 1, b)
                e = _share_number(t, r, b)
                if e >= 0:
                    p = _spaces(t, e, b)
                    percent = p < b and t[p] == 0x25
                    if p + percent == b:
                        number, number_end, product_end = r, e, k
                        break
            elif c == 0x28 or c == 0xFF08:  # "(" or "（"
                r = _spaces(t, q + 1, b)
                e = _share_number(t, r, b)
                if e >= 0:
                    p = _spaces(t, e, b)
                    if p < b and t[p] == 0x25:
                        p = _spaces(t, p + 1, b)
                        if p + 1 == b and (t[p] == 0x29 or t[p] == 0xFF09):
                            number, number_end, product_end, percent = r, e, k, True
                            break
            if q > k:  # a space before the share: " 12%"
                e = _share_number(t, q, b)
                if e >= 0 and e + 1 == b and t[e] == 0x25:
                    number, number_end, product_end, percent = q, e, k, True
                    break
        if self.n_lines == self.lines_cap:
            self.lines_cap = max(16, 2 * self.lines_cap)
            self.line_start = <Py_ssize_t*>realloc(self.line_start, self.lines_cap * sizeof(Py_ssize_t))
            self.line_end = <Py_ssize_t*>realloc(self.line_end, self.lines_cap * sizeof(Py_ssize_t))
            self.share_start = <Py_ssize_t*>realloc(self.share_start, self.lines_cap * sizeof(Py_ssize_t))
            self.share_end = <Py_ssize_t*>realloc(self.share_end, self.lines_cap * sizeof(Py_ssize_t))
            self.share_percent = <bint*>realloc(self.share_percent, self.lines_cap * sizeof(bint))
            self.line_found = <int32_t*>realloc(self.line_found, self.lines_cap * sizeof(int32_t))
            self.line_strong = <bint*>realloc(self.line_strong, self.lines_cap * sizeof(bint))
            if self.line_start == NULL or self.line_end == NULL or self.share_start == NULL or self.share_end == NULL \
                    or self.share_percent == NULL or self.line_found == NULL or self.line_strong == NULL:
                raise MemoryError()
        self.line_start[self.n_lines] = a
        self.line_end[self.n_lines] = product_end
        self.share_start[self.n_lines] = number
        self.share_end[self.n_lines] = number_end
        self.share_percent[self.n_lines] = percent
        self._scan_chars(a, product_end, None)
        if ids:
            self.line_found[self.n_lines] = self._intern()
            self.line_strong[self.n_lines] = self.found_len > 0 and self.order[2]
        else:  # whether it has a hit, and a strong one
            self.line_found[self.n_lines] = self.found_len > 0
            self.line_strong[self.n_lines] = False
            for k in range(self.found_len):
                if self.found[3 * k + 2]:
                    self.line_strong[self.n_lines] = True
                    break
        self.n_lines += 1
        return 0

    def hit_list(self, int hid):
        """The hits of interned list `hid`, as `scan` gave them (for the learned layer, classify_batch)."""
        lo, hi, flat = self.hit_lo[hid], self.hit_lo[hid + 1], self.hit_flat
        return tuple([(flat[3 * j], flat[3 * j + 1], flat[3 * j + 2]) for j in range(lo, hi)])

    def strong_flags(self):
        """By hit list id: whether the list has a strong hit (strong hits come first)."""
        return self.hit_strong.tolist()

    # ------------------------------------------------------------------ placement rules

    cdef inline void _add_hit(self, int fld, int item, int wi, int n, int strong, int line) noexcept:
        """One hit at the end of `hits` (room made by `_grow_hits`); in the industry field only a strong one (as
        `Classifier.field_parts`)."""
        cdef Hit* hit = &self.hits[self.hits_len]
        if fld == 3 and not strong:
            return
        hit.fld, hit.item, hit.wi, hit.n, hit.strong, hit.seg, hit.line = fld, item, wi, n, strong, self.seg_of[n], line
        self.hits_len += 1

    cdef int _grow_shares(self, Py_ssize_t lines) except -1:
        if lines > self.share_cap:
            self.share_cap = lines
            self.share_buf = <double*>realloc(self.share_buf, self.share_cap * sizeof(double))
            if self.share_buf == NULL:
                raise MemoryError()
        return 0

    cdef int _add_hits(self, int fld, int item, tuple found) except -1:
        cdef tuple h
        self._grow_hits(self.hits_len + len(found))
        for h in found:
            self._add_hit(fld, item, h[0], h[1], h[2], -1)
        return 0

    cdef int _gather(self, tuple name, tuple lines, tuple scope, tuple industry, tuple shares,
                     tuple supplied) except -1:
        """The firm's hits in field and line order (as `Classifier.place` sees them through its parts)."""
        cdef int item
        self.hits_len = 0
        self._add_hits(0, 0, name)
        for item in range(len(lines)):
            self._add_hits(1, item, <tuple>lines[item])
        self._add_hits(2, 0, scope)
        self._add_hits(3, 0, industry)
        for item in range(len(supplied)):
            self._add_hits(SUPPLIED, item, <tuple>supplied[item])
        self._grow_shares(len(shares))
        for item in range(len(shares)):
            self.share_buf[item] = shares[item]
        return 0

    cdef void _bucket(self) noexcept:
        """Group the gathered hits by segment: slots in first-hit order, hits in hit order within a slot."""
        cdef int i, k, seg
        cdef Slot* slot
        self.n_slots = 0
        for i in range(self.hits_len):
            seg = self.hits[i].seg
            for k in range(self.n_slots):
                if self.slots[k].seg == seg:
                    break
            else:
                k = self.n_slots
                self.slots[k].seg = seg
                self.slots[k].hi = 0
                self.n_slots += 1
            self.hit_slot[i] = k
            self.slots[k].hi += 1  # a count until the next loop
        i = 0
        for k in range(self.n_slots):
            slot = &self.slots[k]
            slot.lo = i
            i += slot.hi
            slot.hi = slot.lo
        for i in range(self.hits_len):
            slot = &self.slots[self.hit_slot[i]]
            self.bucket[slot.hi] = i
            slot.hi += 1

    cdef void _parts(self, Slot* slot) noexcept:
        """`classify._part` of each field's hits on the slot's segment."""
        cdef int b, c, f, lo = slot.lo, hi = slot.hi
        cdef double[NF] s
        cdef double[NF] a
        cdef bint seen, line_strong, strong_items = False
        cdef double w, cap
        cdef Hit* h
        cdef Hit* g
        for f in range(NF):
            s[f] = a[f] = 0.0
            slot.weak[f] = slot.strong_hit[f] = slot.present[f] = False
        for b in range(lo, hi):
            h = &self.hits[self.bucket[b]]
            f = h.fld
            slot.present[f] = True
            seen = False
            if f == 1:
                # a product line counts once, at its first hit here: STRONG if any of its hits is, by its share
                for c in range(lo, b):
                    g = &self.hits[self.bucket[c]]
                    if g.fld == 1 and g.item == h.item:
                        seen = True
                        break
                if h.strong:
                    strong_items = True
                elif not seen:
                    slot.weak[1] = True
                if not seen:
                    line_strong = False
                    for c in range(b, hi):
                        g = &self.hits[self.bucket[c]]
                        if g.fld == 1 and g.item == h.item and g.strong:
                            line_strong = True
                            break
                    if line_strong:
                        s[1] += STRONG * self.share_buf[h.item]
                        a[1] += STRONG * self.share_buf[h.item]
                    else:
                        a[1] += WEAK * self.share_buf[h.item]
                continue
            # other fields count distinct words, each by its first hit here
            if h.strong:
                slot.strong_hit[f] = True
            for c in range(lo, b):
                g = &self.hits[self.bucket[c]]
                if g.fld == f and g.wi == h.wi:
                    seen = True
                    break
            if not seen:
                if h.strong:
                    a[f] += STRONG
                    s[f] += STRONG
                else:
                    a[f] += WEAK
                    slot.weak[f] = True
        for f in range(NF):
            if not slot.present[f]:
                continue
            w, cap = FIELD_WEIGHT[f], FIELD_CAP[f]
            if f == 1:
                slot.strong[1] = w * _min(cap, s[1] / FULL_SHARE) if strong_items else 0.0
                slot.all[1] = w * _min(cap, a[1] / FULL_SHARE) if slot.weak[1] else slot.strong[1]
                slot.strong_hit[1] = strong_items
            else:
                slot.strong[f] = w * _min(cap, s[f]) if s[f] else 0.0
                slot.all[f] = w * _min(cap, a[f]) if a[f] else 0.0

    cdef int _place(self, const double* prior) except -1:
        """`Classifier.place` on the gathered hits with these priors (by node): the placed slots, best first,
        into `placed_slots`; returns how many."""
        cdef int i, j, k, a, f, m = 0, c = 0
        cdef bint any_strong = False, anyw, seg_strong
        cdef double strong_only, score
        cdef Slot* slot
        if self.hits_len == 0:
            return 0
        self._bucket()
        for k in range(self.n_slots):
            slot = &self.slots[k]
            self._parts(slot)
            for f in range(NF):
                if slot.present[f] and slot.strong_hit[f]:
                    any_strong = True
            if prior[slot.seg] > 0:  # a prior where the firm has a weak word can place it with that word
                any_strong = True
        if not any_strong:  # weak words and priors never place alone
            return 0
        for k in range(self.n_slots):
            slot = &self.slots[k]
            strong_only = 0.0
            anyw = seg_strong = False
            for i in range(NF):
                f = COMBINE_ORDER[i]
                if slot.present[f]:
                    strong_only += slot.strong[f]
                    anyw = anyw or slot.weak[f]
                    seg_strong = seg_strong or slot.strong_hit[f]
            # weak words only add to a segment that a strong word or a prior already makes likely
            slot.used_weak = prior[slot.seg] > 0 or seg_strong
            score = strong_only
            if slot.used_weak and anyw:
                score = 0.0
                for i in range(NF):
                    f = COMBINE_ORDER[i]
                    if slot.present[f]:
                        score += slot.all[f]
            slot.placed = False
            if score > 0:
                slot.score = score + prior[slot.seg]
                slot.placed = slot.score >= THRESHOLD
                m += slot.placed
        if m == 0:
            return 0
        for k in range(self.n_slots):
            slot = &self.slots[k]
            if not slot.placed:
                continue
            if m > 1:
                # a supplier placed at least as strongly as its customer segment: the customer is context
                for a in range(self.n_slots):
                    if a != k and self.slots[a].placed and self.slots[a].score >= slot.score and \
                            self._supplies(self.slots[a].seg, slot.seg):
                        break
                else:
                    a = -1
                if a >= 0:
                    continue
            # best first: score descending, then segment index
            j = c
            while j > 0 and self._before(slot, &self.slots[self.placed_slots[j - 1]]):
                self.placed_slots[j] = self.placed_slots[j - 1]
                j -= 1
            self.placed_slots[j] = k
            c += 1
        return c

    cdef inline bint _before(self, Slot* x, Slot* y) noexcept:
        return x.score > y.score or (x.score == y.score and x.seg < y.seg)

    cdef inline bint _supplies(self, int a, int b) noexcept:
        return (self.supplies[a * self.nw + (b >> 6)] >> (b & 63)) & 1

    cdef int _evidence(self, Slot* slot) noexcept:
        """The evidence of the placement on this slot into `ev` (hit indexes, strong first, as `Classifier.place`
        orders them); returns its target node, or -1 for a tie among the deepest nodes (`Classifier.target`
        decides it by set order)."""
        cdef int b, i, j, n, deepest = -1, count = 0, node = -1, n_nodes = 0
        self.ev_len = 0
        for b in range(slot.lo, slot.hi):
            i = self.bucket[b]
            if self.hits[i].strong:
                self.ev[self.ev_len] = i
                self.ev_len += 1
                n = self.hits[i].n
                for j in range(n_nodes):
                    if self.node_buf[j] == n:
                        break
                else:
                    self.node_buf[n_nodes] = n
                    n_nodes += 1
        if slot.used_weak:
            for b in range(slot.lo, slot.hi):
                i = self.bucket[b]
                if not self.hits[i].strong:
                    self.ev[self.ev_len] = i
                    self.ev_len += 1
        if n_nodes == 1:
            return self.node_buf[0]
        if n_nodes == 0:  # weak words corroborated by a prior: the segment itself
            return slot.seg
        for j in range(n_nodes):
            n = self.node_buf[j]
            if self.depth[n] > deepest:
                deepest, count, node = self.depth[n], 1, n
            elif self.depth[n] == deepest:
                count += 1
        return node if count == 1 else -1

    cdef int _target(self, Slot* slot, object shares) except -1:
        """The target node of the placement on this slot, its evidence in `ev`."""
        cdef int node = self._evidence(slot)
        cdef int b
        cdef Hit* h
        if node >= 0:
            return node
        seg_hits = []
        for b in range(slot.lo, slot.hi):
            h = &self.hits[self.bucket[b]]
            if h.strong or slot.used_weak:
                seg_hits.append((h.fld, h.item, h.wi, h.n, h.strong))
        return self.classifier.target(seg_hits, shares)

    def place(self, tuple name, tuple lines, tuple scope, tuple industry, tuple shares, dict prior_of,
              tuple supplied=()):
        """Exactly `Classifier.place` for a firm given by its scanned hits (name, per product line, scope,
        industry, per supplied component), its effective shares and its priors: [(score, segment, target,
        evidence hits)]."""
        cdef int j, e, m, target
        cdef Hit* h
        cdef Slot* slot
        self._gather(name, lines, scope, industry, shares, supplied)
        for seg, p in prior_of.items():
            self.prior[seg] = p
        try:
            m = self._place(self.prior)
        finally:
            for seg in prior_of:
                self.prior[seg] = 0.0
        out = []
        for j in range(m):
            slot = &self.slots[self.placed_slots[j]]
            target = self._target(slot, shares)
            evidence = []
            for e in range(self.ev_len):
                h = &self.hits[self.ev[e]]
                evidence.append((h.fld, h.item, h.wi, h.n, h.strong))
            out.append((slot.score, slot.seg, target, evidence))
        return out

    # ------------------------------------------------------------------ batch

    def place_signatures(self, list name_hids, list products_keys, list scope_hids, list industry_hids,
                         list codes, list supplied_keys, list products):
        """Placements of each signature (the six lists side by side; hit list ids from `scan_ids`, prior keys in
        codes), as columns: sig, rank, node_id, node_name, score, confidence, evidence (JSON as `classify` gives
        it), score_text.

        products: by key, (hit list id of each line, effective shares, lines as (product, share), ...): the
        product lists, and the supplied lists ((component, customer) lines) that supplied_keys index."""
        self._flatten(products)
        try:
            return self._place_signatures(name_hids, products_keys, scope_hids, industry_hids, codes, supplied_keys,
                                          products)
        finally:  # the interned lists may grow again once no view holds them
            self.hid_lo = self.hid_hits = None
            self.flat_lines = None

    def _place_signatures(self, list name_hids, list products_keys, list scope_hids, list industry_hids,
                          list codes, list supplied_keys, list products):
        cdef list nh = name_hids, pk = products_keys, sh = scope_hids, ih = industry_hids, sk = supplied_keys
        cdef Py_ssize_t sig, n = len(codes)
        cdef int m, rank, target, code_index, width
        cdef double s
        cdef Slot* slot
        cdef double[::1] prior_table
        cdef unsigned char[::1] prior_listed
        clf = self.classifier
        # the priors of each distinct prior key, by node (0.0 and not listed where the key gives none)
        code_of = {}
        code_index_of = [code_of.setdefault(code, len(code_of)) for code in codes]
        width = max(1, self.n_nodes)
        prior_table = _zeros("d", max(1, len(code_of)) * width)
        prior_listed = _zeros("B", max(1, len(code_of)) * width)
        for code, code_index in code_of.items():
            for seg, p in clf.priors(code).items():
                prior_table[code_index * width + seg] = p
                prior_listed[code_index * width + seg] = 1
        node_ids, names = clf.node_ids, clf.names
        cols = {c: [] for c in ("sig", "rank", "node_id", "node_name", "score", "confidence", "evidence",
                                "score_text")}
        c_sig, c_rank, c_node, c_name = cols["sig"], cols["rank"], cols["node_id"], cols["node_name"]
        c_score, c_conf, c_ev, c_text = cols["score"], cols["confidence"], cols["evidence"], cols["score_text"]
        # (score, confidence, score text) by raw score: scores add up from few weights, so most recur, and
        # round(x, 3) (a correctly rounded decimal conversion) and the text are made once for each
        scored = {}
        for sig in range(n):
            code_index = code_index_of[sig]
            self._gather_flat(nh[sig], pk[sig], sh[sig], ih[sig], sk[sig])
            m = self._place(&prior_table[code_index * width])
            for rank in range(m):
                slot = &self.slots[self.placed_slots[rank]]
                target = self._target(slot, products[pk[sig]][1])
                s = slot.score
                figures = scored.get(s)
                if figures is None:
                    score = round(s, 3)  # as `classify` rounds
                    # libm's exp, which math.exp calls
                    figures = scored[s] = (score, round(1.0 - exp(-s), 3), f"{score:.3f}")
                c_sig.append(sig)
                c_rank.append(rank)
                c_node.append(node_ids[target])
                c_name.append(names[target])
                c_score.append(figures[0])
                c_conf.append(figures[1])
                c_ev.append(self._evidence_json(
                    (codes[sig], slot.seg) if prior_listed[code_index * width + slot.seg] else None))
                c_text.append(figures[2])
        return cols

    cdef int _flatten(self, list products) except -1:
        """Views of the interned hit lists, and the product lists by key as C arrays, for `_gather_flat`. A line
        gets its id (`_line_id`) only when evidence names it: most lines of a batch never are (200,000 diverse
        registry rows: 193,000 lines, their tuples hashed for ids in 0.06 s)."""
        self.hid_lo = self.hit_lo
        self.hid_hits = self.hit_flat if len(self.hit_flat) else array("i", [0])
        key_lo, line_hid, line_share, flat = array("i", [0]), array("i"), array("d"), []
        for listed in products:
            line_hid.extend(listed[0])
            line_share.extend(listed[1])
            flat.extend(listed[2])
            key_lo.append(len(line_share))
        self.key_lo = key_lo
        self.line_hid = line_hid if len(line_hid) else array("i", [0])
        self.line_share = line_share if len(line_share) else array("d", [0.0])
        self.flat_lines = flat
        self.line_id = array("i", [-1]) * max(1, len(flat))
        return 0

    cdef int _line_id(self, int place) except -1:
        """The id of the line at this place of `flat_lines`: equal lines, one id (evidence fragments are cached by
        it; ids last across batches)."""
        cdef Py_ssize_t i = self.line_id[place], n
        if i < 0:
            line = self.flat_lines[place]
            n = len(self.lines)
            i = self.line_ids.setdefault(line, n)
            if i == n:
                self.lines.append(line)
            self.line_id[place] = i
        return i

    cdef int _add_list(self, int fld, int item, int hid, int line) except -1:
        """The hits of interned list `hid` (see `_flatten`)."""
        cdef int j, lo = self.hid_lo[hid], hi = self.hid_lo[hid + 1]
        self._grow_hits(self.hits_len + hi - lo)
        for j in range(lo, hi):
            self._add_hit(fld, item, self.hid_hits[3 * j], self.hid_hits[3 * j + 1], self.hid_hits[3 * j + 2], line)
        return 0

    cdef int _gather_flat(self, int name, int key, int scope, int industry, int supplied) except -1:
        """`_gather` from the flattened tables: the hits of a signature in field and line order."""
        cdef int j, first = self.key_lo[key], lines = self.key_lo[key + 1] - first
        cdef int s_first = self.key_lo[supplied], s_lines = self.key_lo[supplied + 1] - s_first
        self.hits_len = 0
        self._add_list(0, 0, name, -1)
        self._grow_shares(lines)
        for j in range(lines):
            self._add_list(1, j, self.line_hid[first + j], first + j)
            self.share_buf[j] = self.line_share[first + j]
        self._add_list(2, 0, scope, -1)
        self._add_list(3, 0, industry, -1)
        for j in range(s_lines):
            self._add_list(SUPPLIED, j, self.line_hid[s_first + j], s_first + j)
        return 0

    cdef str _evidence_json(self, tuple prior):
        """The JSON `classify` gives for the evidence in `ev` (json.dumps of its entries, equal ones once),
        joined from one cached text per distinct entry: a list's JSON is its entries' JSON joined by commas
        (and its CSV field, the quoted join of the entries' escaped JSON)."""
        cdef int e, line
        cdef long long key
        cdef Hit* h
        cdef list entries = []
        cache = self.fragments
        for e in range(self.ev_len):
            h = &self.hits[self.ev[e]]
            text = self._line_fragment(h) if h.line >= 0 and h.fld == 1 else None
            if text is not None:
                if text not in entries:
                    entries.append(text)
                continue
            line = self._line_id(h.line) if h.line >= 0 else -1
            # one integer per distinct entry: (line or field, word, node, strength); lines below zero
            key = (((line if line >= 0 else -1 - h.fld) * <long long>self.n_words + h.wi) * self.n_nodes
                   + h.n) * 2 + h.strong
            text = cache.get(key)
            if text is None:
                text = cache[key] = self._fragment(self.classifier.evidence_entry(
                    h.fld, h.wi, h.n, h.strong, self.lines[line] if line >= 0 else None))
            if text not in entries:  # `classify` drops equal entries; equal entries have equal JSON
                entries.append(text)
        if prior is not None:
            text = cache.get(prior)
            if text is None:
                text = cache[prior] = ",".join([self._fragment(source) for source in self.classifier.prior_entries(*prior)])
            entries.append(text)
        return '"[' + ",".join(entries) + ']"' if self.csv else "[" + ",".join(entries) + "]"

    cdef str _line_fragment(self, Hit* h):
        """The fragment of a product line's entry made from the text of the entry without its line (cached) and
        the line's own JSON, without giving the line an id (`_line_id` hashes its tuple): None where the line is
        not a str product with a float share or none (the entry is then made whole)."""
        cdef long long key = (((-1 - h.fld) * <long long>self.n_words + h.wi) * self.n_nodes + h.n) * 2 + h.strong
        line = self.flat_lines[h.line]
        product, share = line[0], line[1]
        if type(product) is not str:
            return None
        if share is None or (type(share) is float and share != share):  # `evidence_entry` gives no share
            tail = "}"
        elif type(share) is float:
            share = round(share, 4)
            if share - share != 0.0:  # inf: the encoder's own spelling
                return None
            tail = (',""share"":' if self.csv else ',"share":') + repr(share) + "}"
        else:
            return None
        head = self.fragments.get(key)
        if head is None:
            head = self.fragments[key] = self._fragment(self.classifier.evidence_entry(h.fld, h.wi, h.n, h.strong,
                                                                                      None))
        product = _ENCODE_TEXT(product)
        if self.csv:
            return head[:-1] + ',""product"":' + product.replace('"', '""') + tail
        return head[:-1] + ',"product":' + product + tail

    cdef str _fragment(self, dict entry):
        text = _ENCODE(entry)
        return text.replace('"', '""') if self.csv else text


# json.dumps(entry, ensure_ascii=False, separators=(",", ":")) builds this encoder anew at every call
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# how that encoder writes a str (ensure_ascii=False)
_ENCODE_TEXT = json.encoder.encode_basestring


cdef enum:
    SCAN = 0  # `_each_cell`: a text's hit list id
    FLAGS = 1  # a product cell's flags
    LISTS = 2  # a product cell's lines, if it has a hit
    NAMED = 3  # LISTS, the lines without a hit None


cdef inline bint _item_separator(uint32_t c) noexcept nogil:
    """`products._ITEM_SPLIT`'s characters: ; ； 、 ， , newline |"""
    return c == 0x3B or c == 0xFF1B or c == 0x3001 or c == 0xFF0C or c == 0x2C or c == 0x0A or c == 0x7C


cdef inline Py_ssize_t _spaces(const uint32_t* t, Py_ssize_t i, Py_ssize_t n) noexcept:
    """Past the whitespace (the regular expression's \\s) from i."""
    while i < n and Py_UNICODE_ISSPACE(t[i]):
        i += 1
    return i


cdef inline Py_ssize_t _number(const uint32_t* t, Py_ssize_t i, Py_ssize_t n) noexcept:
    """The end of `\\d+(?:\\.\\d+)?` from i (decimal digits of any script, as \\d), or -1."""
    cdef Py_ssize_t j = i
    while j < n and Py_UNICODE_ISDECIMAL(t[j]):
        j += 1
    if j == i:
        return -1
    if j + 1 < n and t[j] == 0x2E and Py_UNICODE_ISDECIMAL(t[j + 1]):
        j += 2
        while j < n and Py_UNICODE_ISDECIMAL(t[j]):
            j += 1
    return j


cdef inline Py_ssize_t _share_number(const uint32_t* t, Py_ssize_t i, Py_ssize_t n) noexcept:
    """The end of a share's `-?\\d+(?:\\.\\d+)?` from i, or -1."""
    return _number(t, i + 1, n) if i < n and t[i] == 0x2D else _number(t, i, n)


cdef int _room(uint32_t** buffer, Py_ssize_t* cap, Py_ssize_t size) except -1:
    """Make `buffer` (of `cap` characters) hold at least `size`."""
    if size > cap[0]:
        buffer[0] = <uint32_t*>realloc(buffer[0], size * sizeof(uint32_t))
        if buffer[0] == NULL:
            raise MemoryError()
        cap[0] = size
    return 0


cdef bint _fill(const uint32_t* data, Py_ssize_t n, uint32_t* out) noexcept nogil:
    """The characters of a text, normalised (`_normal`), into out; False at the first one `_charwise` does not
    hold for (the text then needs NFKC as a whole)."""
    cdef Py_ssize_t i
    cdef uint32_t c
    for i in range(n):
        c = data[i]
        if not _charwise(c):
            return False
        out[i] = _normal(c)
    return True


cdef Py_ssize_t _fill_utf8(const uint8_t* p, Py_ssize_t n, uint32_t* out, bint* odd) noexcept nogil:
    """`_fill` of a text given as UTF-8 bytes: how many characters, or -1. Every character `_charwise` holds for
    is ASCII or three bytes long. odd: set where a NUL or U+3000 is met (U+00A0 is not charwise)."""
    cdef Py_ssize_t i = 0, m = 0
    cdef uint32_t b, c
    while i < n:
        b = p[i]
        if b < 0x80:
            c = b
            if b == 0:
                odd[0] = True
            i += 1
        elif (b & 0xF0) == 0xE0 and i + 2 < n:
            c = ((b & 0x0F) << 12) | ((p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F)
            if not _charwise(c):
                return -1
            if c == 0x3000:
                odd[0] = True
            i += 3
        else:
            return -1
        out[m] = _normal(c)
        m += 1
    return m


cdef inline uint32_t _utf8_char(const uint8_t* p) noexcept nogil:
    """The character whose valid UTF-8 encoding starts at p."""
    cdef uint32_t b = p[0]
    if b < 0x80:
        return b
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (p[1] & 0x3F)
    if b < 0xF0:
        return ((b & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F)
    return ((b & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F)


cdef bint _space_at_end(const uint8_t* p, Py_ssize_t n) noexcept:
    """Whether the (valid, non-empty) UTF-8 text p[:n] starts or ends with white space (str.isspace)."""
    cdef Py_ssize_t j = n - 1
    if Py_UNICODE_ISSPACE(_utf8_char(p)):
        return True
    while j > 0 and (p[j] & 0xC0) == 0x80:  # back to the last character's first byte
        j -= 1
    return Py_UNICODE_ISSPACE(_utf8_char(p + j))


def _automaton(words):
    """Aho-Corasick over the (lower-cased) words: every occurrence of every word, as pyahocorasick's iter. As Python
    tables (arrays and numbers, kept in the build cache; `Kernel._build_automaton` makes the C ones): (kind, root,
    each state's first and end edge, the edges' characters and next states, failure, output and output-link states,
    the number of dense states)."""
    goto = [{}]
    out = [-1]
    for wi, w in enumerate(words):
        s = 0
        for ch in w:
            nxt = goto[s].get(ch)
            if nxt is None:
                nxt = goto[s][ch] = len(goto)
                goto.append({})
                out.append(-1)
            s = nxt
        out[s] = wi
    n = len(goto)
    # states numbered breadth-first (by depth), so that the shallow ones (the dense rows) come first
    order = [0]
    for r in order:
        order.extend(goto[r][ch] for ch in sorted(goto[r]))
    new = [0] * n
    for i, r in enumerate(order):
        new[r] = i
    goto = [{ch: new[t] for ch, t in goto[r].items()} for r in order]
    out = [out[r] for r in order]
    depth = [0] * n
    for r in range(n):
        for t in goto[r].values():
            depth[t] = depth[r] + 1
    fail = [0] * n
    link = [-1] * n  # nearest state on the failure chain that ends a word
    queue = deque(goto[0].values())
    while queue:
        r = queue.popleft()
        for ch, s in goto[r].items():
            queue.append(s)
            f = fail[r]
            while f and ch not in goto[f]:
                f = fail[f]
            fail[s] = goto[f].get(ch, 0) if r else 0
            f = fail[s]
            link[s] = f if out[f] >= 0 else link[f]
    # the BMP characters of the words numbered from 1 (0: in no word), and the root's edge on each
    kind = _zeros("H", 0x10000)
    root = array("i", [-1])
    for ch in sorted({ch for w in words for ch in w if ord(ch) < 0x10000}):
        kind[ord(ch)] = len(root)
        root.append(goto[0].get(ch, -1))
    lo, hi, chars, nexts = array("i"), array("i"), array("i"), array("i")
    for s, edges in enumerate(goto):
        lo.append(len(chars))
        for ch in sorted(edges):
            chars.append(ord(ch))
            nexts.append(edges[ch])
        hi.append(len(chars))
    n_dense = sum(1 for d in depth if d <= DENSE_DEPTH) if n < 0xFFFF else 0
    return kind, root, lo, hi, chars, nexts, array("i", fail), array("i", out), array("i", link), n_dense


def _word_tables(clf, int nw):
    """A classifier's words and nodes as arrays (kept in the build cache): each word's length, Latin edges, whether it
    is a qualifier, names one segment, names any node; its nodes and excluded nodes as bitsets of `nw` words; its
    strong and weak nodes (strong_nodes[strong_lo[wi]:strong_hi[wi]], as weak); each node's segment and depth; the
    supply edges between segments as bitsets."""

    def bits(nodes, out, row):
        for n in nodes:
            out[row * nw + n // 64] |= 1 << (n % 64)

    n_words, n_nodes = len(clf.words), len(clf.node_ids)
    length = _zeros("i", n_words)
    left = _zeros("B", n_words)
    right = _zeros("B", n_words)
    qualifier = _zeros("B", n_words)
    one_segment = _zeros("B", n_words)
    positive = _zeros("B", n_words)
    word_nodes = _zeros("Q", n_words * nw)
    excluded = _zeros("Q", n_words * nw)
    strong_lo, strong_hi, weak_lo, weak_hi = [_zeros("i", n_words) for _ in range(4)]
    strong_nodes, weak_nodes = [], []
    for wi, (_, strong, weak, excl) in enumerate(clf.words):
        length[wi] = clf.lengths[wi]
        left[wi], right[wi] = clf.latin_edges[wi]
        qualifier[wi] = clf.qualifier[wi]
        one_segment[wi] = clf.one_segment[wi]
        positive[wi] = bool(clf.word_nodes[wi])
        bits(clf.word_nodes[wi], word_nodes, wi)
        bits(excl, excluded, wi)
        strong_lo[wi] = len(strong_nodes)
        strong_nodes.extend(strong)
        strong_hi[wi] = len(strong_nodes)
        weak_lo[wi] = len(weak_nodes)
        weak_nodes.extend(weak)
        weak_hi[wi] = len(weak_nodes)
    supplies = _zeros("Q", max(1, n_nodes) * nw)
    for seg, targets in clf.supplies.items():
        bits(targets, supplies, seg)
    return (length, left, right, qualifier, one_segment, positive, word_nodes, excluded, strong_lo, strong_hi, weak_lo,
            weak_hi, array("i", strong_nodes or [0]), array("i", weak_nodes or [0]), array("i", clf.segment_index or [0]),
            array("i", clf.depth or [0]), supplies)


def _zeros(str typecode, Py_ssize_t n):
    return array(typecode, [0]) * n


cdef inline double _min(double cap, double x) noexcept:
    """Python's min(cap, x): x only when it is smaller."""
    return x if x < cap else cap
