"""Optional services: pages whose service has not been installed yet say so (尚未可用) instead of failing."""

from __future__ import annotations

import importlib
from types import ModuleType


def service(name: str) -> ModuleType | None:
    """`chainatlas.services.<name>` if it exists; a broken import inside an existing module still raises."""
    full = f"chainatlas.services.{name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name == full:
            return None
        raise


class Unavailable(Exception):
    """A page needs a service module that is not present in this installation."""

    def __init__(self, feature_zh: str, module: str) -> None:
        super().__init__(f"{feature_zh}尚未可用（缺少模块 services/{module}.py）。")
        self.feature_zh, self.module = feature_zh, module


def require(name: str, feature_zh: str) -> ModuleType:
    mod = service(name)
    if mod is None:
        raise Unavailable(feature_zh, name)
    return mod
