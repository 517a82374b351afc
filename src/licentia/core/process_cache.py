"""Rarely changed rows (vendor settings, the catalog) kept by each server process for a few
seconds, so the licensing protocol does not read them on every request.

A change saved through the ORM clears the cache of the process that saved it once the change
is committed; other processes see it when their copy ages out (PROCESS_CACHE_SECONDS)."""

import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")


class ProcessCache(Generic[T]):
    every: ClassVar[list["ProcessCache[Any]"]] = []

    def __init__(self, load: Callable[[], T], *, cleared_by: list[type[models.Model]]) -> None:
        self._load = load
        self._entry: tuple[float, T] | None = None
        self._lock = threading.Lock()
        for model in cleared_by:
            # m2m_changed names the relation's through model as its sender.
            for signal in (post_save, post_delete, m2m_changed):
                signal.connect(self._changed, sender=model, weak=False)
        ProcessCache.every.append(self)

    def get(self) -> T:
        entry = self._entry
        if entry is not None and time.monotonic() - entry[0] < settings.PROCESS_CACHE_SECONDS:
            return entry[1]
        with self._lock:
            value = self._load()
            self._entry = (time.monotonic(), value)
            return value

    def clear(self) -> None:
        self._entry = None

    def _changed(self, **kwargs: Any) -> None:
        # At once for this transaction's own later reads, and again at commit, in case
        # another thread cached the old rows meanwhile.
        self.clear()
        transaction.on_commit(self.clear)

    @classmethod
    def clear_all(cls) -> None:
        for cache in cls.every:
            cache.clear()
