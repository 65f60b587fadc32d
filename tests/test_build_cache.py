"""The chain build cache (domain/build_cache.py): a process reads what an earlier one built from the same chain file
with the same code, and nothing else — a changed chain or derived file, however its modification time looks, other
code, a corrupt or foreign entry are all misses; a folder that cannot be written only means no cache; `classify`
writes the same bytes with the cache off, cold and warm."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chainatlas.domain import build_cache
from chainatlas.domain import chain as chain_module
from chainatlas.domain.chain import builtin_chain_path, load_chain
from chainatlas.domain.chain_derived import derived_path
from chainatlas.engines.classify import Classifier, Record
from chainatlas.engines.classify_batch import BatchClassifier

RECORDS = [
    Record("a", "某某激光雷达科技有限公司", [("车载激光雷达", 0.6), ("动力电池", 0.3)], "汽车零部件研发", "3670"),
    Record("b", "", [("手机及车载摄像头模组", 0.9)], "", "", "汽车配件"),
    Record("c", "ＢＭＳ科技", [("BMS", None)], "ＳｉＣ功率器件", " 3670 "),
    Record("d", "", [("汽车保险杠", 0.5), ("缓冲材料", 0.4)]),  # a word of the derived vocabulary
    Record("e", "", [("饼干", 0.7)], "食品生产"),
]


@pytest.fixture
def chain_copy(tmp_path: Path) -> Path:
    """A copy of the nev-icv chain file with its derived vocabulary beside it."""
    folder = tmp_path / "chains"
    folder.mkdir()
    path = folder / "nev-icv.yaml"
    shutil.copyfile(builtin_chain_path("nev-icv"), path)
    shutil.copyfile(derived_path(builtin_chain_path("nev-icv")), derived_path(path))
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CHAINATLAS_BUILD_CACHE", str(folder))
    return folder


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The chain files parsed from YAML from here on (a chain read from the cache is not)."""
    parsed: list[str] = []
    parse = chain_module.parse_chain

    def counted(text: str, path: str = "<chain>"):  # type: ignore[no-untyped-def]
        parsed.append(path)
        return parse(text, path)

    monkeypatch.setattr(chain_module, "parse_chain", counted)
    return parsed


def as_new_process(path: Path):  # type: ignore[no-untyped-def]
    """`load_chain(path)` as a process that has loaded nothing yet would do it (nothing kept in memory)."""
    chain_module._CACHE.clear()
    return load_chain(path)


def placements(chain) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(p.id, p.node_id, round(p.score, 9), p.evidence) for p in BatchClassifier(chain).classify_records(RECORDS)]


def test_a_later_process_reads_what_the_first_built(chain_copy: Path, cache: Path, parses: list[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first = as_new_process(chain_copy)
    built = placements(first)
    assert parses == [str(chain_copy)] and len(list(cache.glob("nev-icv-*.pickle"))) == 1
    assert set(first._builds) == {"classifier tables", "kernel tables"}
    assert first._builds["classifier tables"]["automaton"] is not None

    again = as_new_process(chain_copy)
    assert parses == [str(chain_copy)]  # read from the cache, not parsed
    assert set(again._builds) == {"classifier tables", "kernel tables"}
    assert again == first and again.path == str(chain_copy) and again.derived_path == str(derived_path(chain_copy))
    assert placements(again) == built
    assert any(p[0] == "d" and any(e.get("source") == "derived" for e in p[3]) for p in built)

    monkeypatch.setenv("CHAINATLAS_BUILD_CACHE", "off")
    fresh = as_new_process(chain_copy)
    assert fresh == first and placements(fresh) == built
    tables, cached = Classifier(fresh), Classifier(again)
    for name in ("words", "word_nodes", "qualifier", "spelling", "derived_via", "prior4", "industry_prior"):
        assert getattr(cached, name) == getattr(tables, name), name


def test_the_entry_is_read_under_another_name_of_the_same_file(chain_copy: Path, cache: Path, parses: list[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    as_new_process(chain_copy)
    monkeypatch.chdir(chain_copy.parent)
    relative = as_new_process(Path("nev-icv.yaml"))
    assert len(parses) == 1 and relative.path == "nev-icv.yaml" and relative.derived_path == "nev-icv.derived.csv"


def _same_stat_edit(path: Path, old: bytes, new: bytes) -> None:
    """Replace `old` by `new` (as long) everywhere in the file, keeping its size and modification time."""
    assert len(old) == len(new)
    before = path.stat()
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_size == before.st_size


def test_a_changed_chain_file_never_meets_a_stale_entry(chain_copy: Path, cache: Path, parses: list[str]) -> None:
    """Same size, same modification time, one keyword changed: the cache must see it (the words, the placements)."""
    before = as_new_process(chain_copy)
    assert placements(before)[0][1] == "lidar"
    _same_stat_edit(chain_copy, "激光雷达".encode(), "激光云台".encode())
    after = as_new_process(chain_copy)
    assert len(parses) == 2
    words = {w for w, *_ in Classifier(after).words}
    assert "激光云台" in words and "激光雷达" not in words
    assert all(p[1] != "lidar" for p in placements(after) if p[0] == "a")
    assert as_new_process(chain_copy) == after and len(parses) == 2  # and the new version is cached in turn


def test_a_changed_derived_file_never_meets_a_stale_entry(chain_copy: Path, cache: Path, parses: list[str]) -> None:
    derived = derived_path(chain_copy)
    as_new_process(chain_copy)
    _same_stat_edit(derived, "缓冲材料".encode(), "缓冲垫片".encode())
    changed = as_new_process(chain_copy)
    assert len(parses) == 2
    words = {w for w, *_ in Classifier(changed).words}
    assert "缓冲垫片" in words and "缓冲材料" not in words
    derived.unlink()  # gone: the chain without it, not the cached one with it
    alone = as_new_process(chain_copy)
    assert len(parses) == 3 and not alone.derived_path
    assert not any(n.derived for n in alone.nodes.values())
    derived.write_bytes(b"")  # there but empty: the same error as without a cache
    with pytest.raises(chain_module.ChainFileError, match="缺少列"):
        as_new_process(chain_copy)


def test_other_code_reads_none_of_an_entry(chain_copy: Path, cache: Path, parses: list[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    as_new_process(chain_copy)
    version = build_cache._code_version()
    names = [name for name, *_ in version[-1]]
    assert "engines/classify.py" in names and "domain/chain.py" in names and any("ahocorasick" in n for n in names)
    monkeypatch.setattr(build_cache, "_code_version", lambda: (*version[:-1], (("engines/classify.py", 1, 2),)))
    as_new_process(chain_copy)
    assert len(parses) == 2


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "other header"])
def test_a_corrupt_entry_is_a_miss_and_is_written_again(chain_copy: Path, cache: Path, parses: list[str],
                                                        damage: str) -> None:
    expected = placements(as_new_process(chain_copy))
    entry = next(cache.glob("nev-icv-*.pickle"))
    data = entry.read_bytes()
    entry.write_bytes({"truncated": data[: len(data) // 2], "garbage": os.urandom(4096), "empty": b"",
                       "other header": data.replace(b"nev-icv", b"nev-icw", 1)}[damage])
    assert placements(as_new_process(chain_copy)) == expected and len(parses) == 2
    assert entry.read_bytes() != b"" and placements(as_new_process(chain_copy)) == expected and len(parses) == 2


def test_an_entry_others_could_write_is_not_read(chain_copy: Path, cache: Path, parses: list[str]) -> None:
    as_new_process(chain_copy)
    entry = next(cache.glob("nev-icv-*.pickle"))
    entry.chmod(0o666)
    as_new_process(chain_copy)
    assert len(parses) == 2 and entry.stat().st_mode & 0o777 == 0o600  # written again, private


def test_a_folder_that_cannot_be_written_means_no_cache(chain_copy: Path, tmp_path: Path, parses: list[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CHAINATLAS_BUILD_CACHE", str(blocker / "cache"))  # cannot be made
    expected = placements(as_new_process(chain_copy))
    assert placements(as_new_process(chain_copy)) == expected and len(parses) == 2
    if os.getuid() != 0:  # root writes into a read-only folder all the same
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o500)
        monkeypatch.setenv("CHAINATLAS_BUILD_CACHE", str(folder))
        assert placements(as_new_process(chain_copy)) == expected and list(folder.iterdir()) == []


def test_off_writes_nothing(chain_copy: Path, tmp_path: Path, parses: list[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINATLAS_BUILD_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    placements(as_new_process(chain_copy))
    placements(as_new_process(chain_copy))
    assert len(parses) == 2 and not (tmp_path / "xdg").exists()


def test_classify_writes_the_same_bytes_off_cold_and_warm(chain_copy: Path, tmp_path: Path,
                                                          generated_firms: Path) -> None:
    outputs = {}
    for run, folder in (("off", "off"), ("cold", str(tmp_path / "cache")), ("warm", str(tmp_path / "cache"))):
        out = tmp_path / f"{run}.csv"
        done = subprocess.run([sys.executable, "-m", "chainatlas.cli.main", "classify", str(generated_firms),
                               "--chain", str(chain_copy), "--out", str(out), "--workers", "1"],
                              env={**os.environ, "CHAINATLAS_BUILD_CACHE": folder}, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outputs[run] = out.read_bytes()
        assert (run == "off") == (not (tmp_path / "cache").exists())
    assert outputs["off"] == outputs["cold"] == outputs["warm"] and outputs["off"].count(b"\n") > 1000
