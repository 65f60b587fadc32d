"""The industrial chain as data: stages, segments and nodes loaded from a YAML chain file.

Nothing about a particular chain lives in Python; `chains/nev-icv.yaml` is one such file.
Errors name the file and the line, because the people who edit chain files are analysts, not programmers.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from chainatlas.domain import build_cache
from chainatlas.domain.chain_derived import DerivedFileError, DerivedWord, derived_path, derived_words

if TYPE_CHECKING:  # yaml is imported where a file is parsed: a chain from the build cache needs none of it (≈ 11 ms)
    import yaml

T = TypeVar("T")

STAGE_IDS = ("upstream", "midstream", "downstream")
NODE_FIELDS = {
    "id", "parent", "stage", "name_zh", "name_en", "core", "weight", "keywords", "keywords_en", "weak_keywords",
    "exclude", "gbt4754", "industries", "supplies", "description",
}


class ChainFileError(ValueError):
    """A chain file that cannot be used; `problems` lists (line, message) pairs."""

    def __init__(self, path: str, problems: list[tuple[int, str]]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"{path}:{line}: {msg}" for line, msg in problems)
        super().__init__(f"产业链文件有 {len(problems)} 处错误 (chain file has errors):\n{lines}")


@dataclass(frozen=True)
class Stage:
    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Node:
    id: str
    stage: str
    name_zh: str
    name_en: str
    parent: str | None = None
    core: bool = False
    weight: float = 1.0
    keywords: tuple[str, ...] = ()  # strong words, the file's keywords_en included (the engine reads these)
    keywords_en: tuple[str, ...] = ()  # English component words as the file lists them (Fuel Injection, Disc Brake)
    weak_keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    gbt4754: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()  # stock-industry names (SW, Tushare) that make this node a prior, as gbt4754
    supplies: tuple[str, ...] = ()
    description: str = ""
    line: int = 0
    # words of keywords / weak_keywords that came from the chain's derived vocabulary, with the graph path of each
    derived: tuple[tuple[str, str], ...] = ()

    def fingerprint(self) -> str:
        """Hash of everything that decides placements on this node: re-classify only when it changes."""
        decisive: list = [self.keywords, self.weak_keywords, self.exclude, self.gbt4754, self.parent]
        if self.derived:  # the paths are shown as evidence; a chain without derived words keeps its old hashes
            decisive.append(self.derived)
        if self.industries:  # likewise for stock-industry priors
            decisive.append(["industries", *self.industries])
        payload = json.dumps(decisive, ensure_ascii=False)
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class GenericFallback:
    """The chain's fallback for generic product lines (the file's `generic_fallback`): a firm the rules place nowhere
    whose product line at a real revenue share names only a generic word of the chain (汽车零部件, 汽配, a bare
    market line such as 汽车类) is placed, marked as inferred, on the listed node its other evidence favours, else
    on `node`. A chain file without it has no fallback."""

    node: str  # the default node (nev-icv: chassis-parts, 底盘与传统零部件, the chain's conventional-parts node)
    nodes: tuple[str, ...]  # the nodes the fallback may choose among (the default first)
    words: tuple[str, ...]  # generic words that count anywhere in a phrase of the line
    lines: tuple[str, ...] = ()  # generic words that count only as a whole phrase (汽车类, 汽车用: a market line)


@dataclass
class Chain:
    id: str
    name_zh: str
    name_en: str
    version: str
    stages: list[Stage]
    nodes: dict[str, Node]
    source: str = ""
    path: str = ""
    derived_path: str = ""  # the derived-vocabulary file merged into the nodes ("" for none)
    fallback: GenericFallback | None = None  # the fallback for generic product lines (None: the chain has none)
    _children: dict[str | None, list[str]] = field(default_factory=dict, repr=False)
    # what the engines built from the chain (`compiled`), and the build cache entry they are kept in (None: not kept)
    _builds: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _entry: build_cache.Entry | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for node in self.nodes.values():
            self._children.setdefault(node.parent, []).append(node.id)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_entry": None}  # where it is kept is no part of what is kept

    def compiled(self, name: str, build: Callable[[], T]) -> T:
        """What `build` makes of this chain (an engine's tables of its words), made once per chain: kept with it and,
        for a chain loaded from a file, in the build cache beside it, so the next process reads it instead.
        `build` must depend on nothing but the chain and the code of domain/ and engines/ (see build_cache)."""
        if name not in self._builds:
            self._builds[name] = build()
            if self._entry is not None:
                self._entry.store(self)
        return self._builds[name]

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def resolve_node(self, text: str) -> str:
        """A node by id (battery-cells) or by its Chinese name (动力电芯); a Chinese error naming close names."""
        text = text.strip()
        if text in self.nodes:
            return text
        for n in self.nodes.values():
            if text in (n.name_zh, n.name_en):
                return n.id
        close = [n.name_zh for n in self.nodes.values() if text and (text in n.name_zh or n.name_zh in text)]
        hint = f"相近的环节：{'、'.join(close[:8])}" if close else "chainatlas chain show 可列出全部环节"
        raise LookupError(f"产业链“{self.name_zh}”中没有环节“{text}”。{hint}")

    def children(self, node_id: str | None) -> list[Node]:
        return [self.nodes[c] for c in self._children.get(node_id, [])]

    def segments(self) -> list[Node]:
        """Top-level nodes (segments), in file order."""
        return self.children(None)

    def segment_of(self, node_id: str) -> Node:
        node = self.nodes[node_id]
        while node.parent is not None:
            node = self.nodes[node.parent]
        return node

    def descendants(self, node_id: str) -> list[Node]:
        out: list[Node] = []
        stack = [node_id]
        while stack:
            for child in self.children(stack.pop()):
                out.append(child)
                stack.append(child.id)
        return out

    def neighbours(self, node_id: str) -> set[str]:
        """Parent, children and supply-edge neighbours both ways: the nodes a 延链 gap is adjacent to."""
        node = self.nodes[node_id]
        out = {c.id for c in self.children(node_id)} | set(node.supplies)
        if node.parent:
            out.add(node.parent)
        out |= {n.id for n in self.nodes.values() if node_id in n.supplies}
        out.discard(node_id)
        return out

    def by_stage(self, stage_id: str) -> list[Node]:
        return [n for n in self.segments() if n.stage == stage_id]

    def stage_name(self, stage_id: str) -> str:
        return next(s.name_zh for s in self.stages if s.id == stage_id)


def builtin_chain_path(chain_id: str) -> Path:
    return Path(str(resources.files("chainatlas") / "chains" / f"{chain_id}.yaml"))


def builtin_chain_ids() -> list[str]:
    folder = Path(str(resources.files("chainatlas") / "chains"))
    return sorted(p.stem for p in folder.glob("*.yaml"))


_CACHE: dict[tuple[str, float, float | None], Chain] = {}


def registered_chain_path(chain_id: str) -> Path:
    from chainatlas import config

    return config.chains_dir() / f"{chain_id}.yaml"


def registered_chain_ids() -> list[str]:
    from chainatlas import config

    folder = config.chains_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def chain_file(name_or_path: str | Path) -> Path:
    """The YAML file of a chain given by id — one registered by `chainatlas chain add`, else a built-in one
    (`nev-icv`) — or by path; ChainFileError naming the chains there are when there is none."""
    path = Path(name_or_path)
    if not path.suffix:
        registered = registered_chain_path(str(name_or_path))
        path = registered if registered.exists() else builtin_chain_path(str(name_or_path))
    if not path.exists():
        known = sorted(set(registered_chain_ids()) | set(builtin_chain_ids()))
        raise ChainFileError(str(name_or_path), [(0, f"找不到产业链文件“{name_or_path}”；已有的产业链：{', '.join(known)}"
                                                     "（用 chainatlas chain add 文件.yaml 登记新的产业链）")])
    return path


def load_chain(name_or_path: str | Path) -> Chain:
    """Load a chain by built-in id (`nev-icv`) or by path to a YAML file, validated, with the derived vocabulary
    beside it (`<stem>.derived.csv`) merged into its nodes when there is one; cached per version of both files."""
    path = chain_file(name_or_path)
    derived = derived_path(path)
    derived_mtime = derived.stat().st_mtime if derived.is_file() else None
    key = (str(path.resolve()), path.stat().st_mtime, derived_mtime)
    if key not in _CACHE:
        sources = (path.read_bytes(), *((derived.read_bytes(),) if derived_mtime is not None else ()))
        entry = build_cache.entry(path, sources)
        chain = entry.load() if entry is not None else None
        if isinstance(chain, Chain):
            chain.path = str(path)  # as this process names the files (the entry knows them resolved)
            chain.derived_path = str(derived) if derived_mtime is not None else ""
        else:  # built from the very bytes the entry is kept for
            chain = parse_chain(io.TextIOWrapper(io.BytesIO(sources[0]), encoding="utf-8").read(), str(path))
            if derived_mtime is not None:
                try:
                    merge_derived(chain, derived_words(sources[1]), str(derived))
                except DerivedFileError as exc:
                    raise ChainFileError(str(derived), [(exc.row, exc.message)]) from exc
            if entry is not None:
                entry.store(chain)
        chain._entry = entry
        _CACHE[key] = chain
    return _CACHE[key]


def merge_derived(chain: Chain, words: list[DerivedWord], path: str) -> None:
    """Add derived words to the chain's nodes (strong → keywords, weak → weak_keywords), remembering each word's
    graph path for the evidence. A word the node already has, or excludes, is left out: the file adds, never
    overrides. A row naming a node the chain lacks is an error naming the file and row."""
    problems = [(w.row, f"派生词“{w.term}”所在行的节点 “{w.node_id}” 不在产业链 {chain.id} 中") for w in words
                if w.node_id not in chain.nodes]
    if problems:
        raise ChainFileError(path, problems)
    for w in words:
        node = chain.nodes[w.node_id]
        if w.term.lower() in {x.lower() for x in (*node.keywords, *node.weak_keywords, *node.exclude)}:
            continue
        chain.nodes[w.node_id] = replace(
            node,
            keywords=node.keywords + (w.term,) if w.strong else node.keywords,
            weak_keywords=node.weak_keywords if w.strong else node.weak_keywords + (w.term,),
            derived=node.derived + ((w.term, w.path),),
        )
    chain.derived_path = path


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _str_list(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        return (str(value),)
    return tuple(str(v) for v in value)  # type: ignore[union-attr]


def parse_chain(text: str, path: str = "<chain>") -> Chain:
    """Parse and check a chain file; raise ChainFileError listing every problem with its line."""
    import yaml

    problems: list[tuple[int, str]] = []
    # The file is parsed once: its nodes (for line numbers), then the data built from them (what yaml.load gives);
    # by libyaml when present: the pure-Python parser takes seconds over a chain file of this size.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise ChainFileError(path, [((mark.line + 1) if mark else 0, f"YAML 语法错误：{exc}")]) from exc
        if not isinstance(root, yaml.MappingNode):
            raise ChainFileError(path, [(1, "文件顶层应为映射 (id, name_zh, stages, nodes)")])
        data = loader.construct_document(root)
    finally:
        loader.dispose()
    top = {k.value: v for k, v in root.value}
    for key in ("id", "name_zh", "name_en", "stages", "nodes"):
        if key not in top:
            problems.append((1, f"缺少顶层字段 “{key}”"))
    if problems:
        raise ChainFileError(path, problems)

    stages = [Stage(str(s["id"]), str(s["name_zh"]), str(s.get("name_en", ""))) for s in data["stages"]]
    stage_ids = {s.id for s in stages}
    node_yaml = top["nodes"]
    if not isinstance(node_yaml, yaml.SequenceNode):
        raise ChainFileError(path, [(_line(node_yaml), "“nodes” 应为列表")])

    nodes: dict[str, Node] = {}
    field_lines: dict[str, dict[str, int]] = {}
    for ynode, raw in zip(node_yaml.value, data["nodes"]):
        line = _line(ynode)
        fields = {k.value: _line(k) for k, _ in ynode.value} if isinstance(ynode, yaml.MappingNode) else {}
        if not isinstance(raw, dict):
            problems.append((line, "节点应为映射"))
            continue
        unknown = set(raw) - NODE_FIELDS
        if unknown:
            problems.append((min(fields.get(k, line) for k in unknown), f"未知字段 {sorted(unknown)}；允许的字段：{sorted(NODE_FIELDS)}"))
        node_id = raw.get("id")
        if not node_id:
            problems.append((line, "节点缺少 id"))
            continue
        node_id = str(node_id)
        if node_id in nodes:
            problems.append((fields.get("id", line), f"节点 id “{node_id}” 重复（第一次出现在第 {nodes[node_id].line} 行）"))
            continue
        for key in ("name_zh", "stage"):
            if not raw.get(key):
                problems.append((line, f"节点 “{node_id}” 缺少 {key}"))
        if raw.get("stage") and raw["stage"] not in stage_ids:
            problems.append((fields.get("stage", line), f"节点 “{node_id}” 的 stage “{raw['stage']}” 不在 stages 中：{sorted(stage_ids)}"))
        field_lines[node_id] = fields
        nodes[node_id] = Node(
            id=node_id,
            stage=str(raw.get("stage", "")),
            name_zh=str(raw.get("name_zh", "")),
            name_en=str(raw.get("name_en", "")),
            parent=str(raw["parent"]) if raw.get("parent") else None,
            core=bool(raw.get("core", False)),
            weight=float(raw.get("weight", 1.0)),
            # English component words are strong words too: a supplier list in English places a firm as one in
            # Chinese does (matching is case-blind; a Latin word must stand alone, so "abs" is not in "absorber")
            keywords=_str_list(raw.get("keywords")) + _str_list(raw.get("keywords_en")),
            keywords_en=_str_list(raw.get("keywords_en")),
            weak_keywords=_str_list(raw.get("weak_keywords")),
            exclude=_str_list(raw.get("exclude")),
            gbt4754=_str_list(raw.get("gbt4754")),
            industries=_str_list(raw.get("industries")),
            supplies=_str_list(raw.get("supplies")),
            description=str(raw.get("description", "")),
            line=line,
        )

    for node in nodes.values():
        at = field_lines[node.id]
        if node.parent is not None and node.parent not in nodes:
            problems.append((at.get("parent", node.line), f"节点 “{node.id}” 的上级 “{node.parent}” 不存在"))
        for target in node.supplies:
            if target not in nodes:
                problems.append((at.get("supplies", node.line), f"节点 “{node.id}” 的 supplies 指向不存在的节点 “{target}”"))
        for code in node.gbt4754:
            if not (code.isdigit() and 1 <= len(code) <= 4):
                problems.append((at.get("gbt4754", node.line), f"节点 “{node.id}” 的国民经济行业代码 “{code}” 应为 1–4 位数字"))
    # A parent cycle makes nodes unreachable from any segment: report each node on a cycle once.
    for node in nodes.values():
        seen: list[str] = []
        current: Node | None = node
        while current is not None and current.parent is not None and current.parent in nodes:
            if current.id in seen:
                break
            seen.append(current.id)
            current = nodes[current.parent]
        if current is not None and current.id in seen and node.id == min(seen[seen.index(current.id):]):
            cycle = " → ".join(seen[seen.index(current.id):] + [current.id])
            problems.append((node.line, f"上级关系成环，节点无法从任何环节到达：{cycle}"))
    fallback = _fallback(top.get("generic_fallback"), data.get("generic_fallback"), nodes, problems)
    if problems:
        raise ChainFileError(path, sorted(problems))
    return Chain(
        id=str(data["id"]),
        name_zh=str(data["name_zh"]),
        name_en=str(data["name_en"]),
        version=str(data.get("version", "1")),
        stages=stages,
        nodes=nodes,
        source=str(data.get("source", "")),
        path=path,
        fallback=fallback,
    )


def _fallback(ynode: yaml.Node | None, raw: object, nodes: dict[str, Node], problems: list[tuple[int, str]]
              ) -> GenericFallback | None:
    """The file's `generic_fallback` (see `GenericFallback`), checked; None when the file has none."""
    if ynode is None:
        return None
    line = _line(ynode)
    if not isinstance(raw, dict):
        problems.append((line, "“generic_fallback” 应为映射 (node, nodes, words, lines)"))
        return None
    unknown = set(raw) - {"node", "nodes", "words", "lines"}
    if unknown:
        problems.append((line, f"generic_fallback 有未知字段 {sorted(unknown)}；允许的字段：lines, node, nodes, words"))
    node = str(raw.get("node") or "")
    listed = _str_list(raw.get("nodes"))
    choices = (node, *(n for n in listed if n != node))
    for n in choices:
        if n not in nodes:
            problems.append((line, f"generic_fallback 的节点 “{n}” 不存在"))
        elif nodes[n].parent is not None:
            problems.append((line, f"generic_fallback 的节点 “{n}” 应为环节（顶层节点）"))
    words, whole = _str_list(raw.get("words")), _str_list(raw.get("lines"))
    if not words and not whole:
        problems.append((line, "generic_fallback 需要 words 或 lines（泛称词）"))
    return GenericFallback(node, choices, words, whole)
