"""core.kombu_filesystem: a filesystem-broker message is never visible half-written."""

import os

from kombu import Connection

from core.kombu_filesystem import AtomicFilesystemTransport


def test_filesystem_urls_use_the_atomic_transport(tmp_path):
    with Connection("filesystem://", transport_options={"data_folder_in": str(tmp_path)}) as connection:
        assert type(connection.transport) is AtomicFilesystemTransport


def test_a_message_file_appears_only_whole(tmp_path, monkeypatch):
    folder = str(tmp_path)
    options = {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder}
    names_seen_while_writing = []
    real_open = open

    def open_and_look(path, *args, **kwargs):
        # What a consumer listing the folder at the moment the file is created would find.
        handle = real_open(path, *args, **kwargs)
        names_seen_while_writing.extend(os.listdir(folder))
        return handle

    with Connection("filesystem://", transport_options=options) as connection:
        queue = connection.SimpleQueue("jobs")
        monkeypatch.setattr("builtins.open", open_and_look)
        queue.put({"n": 1})
        monkeypatch.undo()
        message = queue.get(timeout=1)

        assert message.payload == {"n": 1}
        messages_seen = [name.partition(".")[2] for name in names_seen_while_writing if ".msg" in name]
        assert messages_seen == ["jobs.msg.partial"]
        message.ack()
        queue.close()
