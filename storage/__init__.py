"""newsbot's storage: one SQLite file, owned by :class:`storage.store.Store`."""

from storage.store import Store, default_db_path

__all__ = ["Store", "default_db_path"]
