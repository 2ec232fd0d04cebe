"""File-system errors a request can provoke, answered as clear 4xx instead of 500s.

Jupyter answers any OS error it did not expect with a 500 (and logs a traceback): a name
longer than the file system allows, a checkpoint of a file that does not exist. These are
the caller's mistakes, and each gets its own 4xx with a message that names no host path.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tornado import web

ANSWERS = {
    errno.ENAMETOOLONG: (400, "That name is too long."),
    errno.ENOENT: (404, "No such file in this workspace."),
    errno.ENOTDIR: (404, "No such file in this workspace."),
    errno.EISDIR: (400, "That is a folder, not a file."),
}

# What reading a malformed model raises, as opposed to a failing disk.
MODEL_ERRORS = (AttributeError, KeyError, TypeError, ValueError)


def _answer(error: BaseException) -> web.HTTPError | None:
    if isinstance(error, web.HTTPError):
        if error.status_code != 500:
            return None
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    if isinstance(error, OSError) and error.errno in ANSWERS:
        return web.HTTPError(*ANSWERS[error.errno])
    return None


@contextmanager
def clear_file_errors() -> Iterator[None]:
    try:
        yield
    except (OSError, web.HTTPError) as error:
        answer = _answer(error)
        if answer is None:
            raise
        raise answer from None


class ClearFileErrors:
    """For the contents manager: the operations a request reaches, with errors made clear."""

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        with clear_file_errors():
            return await super().get(*args, **kwargs)  # type: ignore[misc]

    async def save(self, *args: Any, **kwargs: Any) -> Any:
        with clear_file_errors():
            try:
                return await super().save(*args, **kwargs)  # type: ignore[misc]
            except web.HTTPError as error:
                # Jupyter reads the client's model blindly and calls what breaks a 500.
                if error.status_code == 500 and isinstance(error.__cause__, MODEL_ERRORS):
                    raise web.HTTPError(400, "That is not a valid file or notebook.") from None
                raise

    async def new(self, *args: Any, **kwargs: Any) -> Any:
        with clear_file_errors():
            return await super().new(*args, **kwargs)  # type: ignore[misc]

    async def rename(self, *args: Any, **kwargs: Any) -> Any:
        with clear_file_errors():
            return await super().rename(*args, **kwargs)  # type: ignore[misc]

    async def is_hidden(self, *args: Any, **kwargs: Any) -> Any:
        with clear_file_errors():
            return await super().is_hidden(*args, **kwargs)  # type: ignore[misc]

    async def file_exists(self, *args: Any, **kwargs: Any) -> Any:
        with clear_file_errors():
            return await super().file_exists(*args, **kwargs)  # type: ignore[misc]

    async def dir_exists(self, *args: Any, **kwargs: Any) -> Any:
        with clear_file_errors():
            return await super().dir_exists(*args, **kwargs)  # type: ignore[misc]

    async def create_checkpoint(self, path: str) -> Any:
        # Jupyter reports the checkpoint of a missing file as "not writable" (a 500).
        await self._require_file(path)
        with clear_file_errors():
            return await super().create_checkpoint(path)  # type: ignore[misc]

    async def restore_checkpoint(self, checkpoint_id: str, path: str) -> Any:
        await self._require_file(path)
        with clear_file_errors():
            return await super().restore_checkpoint(checkpoint_id, path)  # type: ignore[misc]

    async def _require_file(self, path: str) -> None:
        if not await self.file_exists(path):
            raise web.HTTPError(*ANSWERS[errno.ENOENT])

    async def delete_checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        with clear_file_errors():
            return await super().delete_checkpoint(*args, **kwargs)  # type: ignore[misc]
