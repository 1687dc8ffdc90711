"""kombu's filesystem transport with messages that appear whole (the embedded default broker of `make run`).

kombu 5.7's filesystem `_put` creates `<time>_<uuid>.<queue>.msg` and then writes into it, under an advisory lock
that the consumer's `_get` never takes: `_get` moves any `*.msg` file it lists, so a worker polling between the
create and the write reads an empty file, dies with "Unrecoverable error: JSONDecodeError" and the message is lost
(celery/kombu#1551; seen in CI as a worker that never ran its task). Here the message is written under a name the
consumer does not match and renamed into place, which is atomic on one filesystem: a consumer sees no file or the
whole message.
"""

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.filesystem import Channel as FilesystemChannel
from kombu.transport.filesystem import Transport as FilesystemTransport
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class AtomicChannel(FilesystemChannel):
    # kombu names the argument `message` in AbstractChannel and `payload` in the filesystem Channel we override.
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final_path = os.path.join(self.data_folder_out, name)
        # `_get` keeps only names whose part after the first dot is exactly "<queue>.msg": ".partial" is skipped.
        partial_path = final_path + ".partial"
        try:
            with open(partial_path, "wb") as partial:
                partial.write(str_to_bytes(dumps(payload)))
            os.replace(partial_path, final_path)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final_path!r} to directory") from error


class AtomicFilesystemTransport(FilesystemTransport):
    Channel = AtomicChannel


def use_atomic_filesystem_transport() -> None:
    """Make every `filesystem://` broker URL (the settings' default and the tests' own apps) use this transport."""
    TRANSPORT_ALIASES["filesystem"] = "core.kombu_filesystem:AtomicFilesystemTransport"
