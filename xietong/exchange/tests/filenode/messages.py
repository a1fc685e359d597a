"""The test kind ``test.files``: records each file it is handed (name, size, SHA-256)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from rest_framework import serializers

from xietong import exchange


class NoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField()


@exchange.handles("test.files", body=NoteSerializer, files=True)
def files_received(data: dict[str, Any], sender: Any, files: dict[str, Path]) -> None:
    record = Path(settings.VAR_DIR) / "files-received.json"
    seen = json.loads(record.read_text()) if record.exists() else []
    for name, path in sorted(files.items()):
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        seen.append({"sender": sender.node_id, "name": name, "size": len(content), "sha256": digest})
    record.write_text(json.dumps(seen))
