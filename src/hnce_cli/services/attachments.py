"""Attachments 附件: proofs of a declaration, checked by content and stored by hash.

A file is accepted only when its bytes are a PDF, JPEG or PNG, or a ZIP holding
only such files (several proofs go in one zip, as the platform asks), and its
extension says the same. Content lives in the `blob` table keyed by SHA-256, so
the same scan attached twice is stored once, and storage works alike on SQLite,
PostgreSQL and through the API. Checks run before anything is written.
"""

from __future__ import annotations

import base64
import binascii

from hnce_cli.errors import FieldProblem
from hnce_cli.schemas import AttachmentIn
from hnce_cli.store import Db, in_list, json_list

# The checks of one file are the pure ones of hnce_cli.validation, which the wizard of
# `hnce declare new` also runs on a file as soon as it is named.
from hnce_cli.validation import (  # re-exported: the service's own names
    EXTENSIONS,
    KIND_LABELS,
    MAGIC,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_ZIP_MEMBERS,
    MAX_ZIP_UNPACKED,
    CheckedFile,
    check_file,
    sniff,
    too_many_attachments,
)

__all__ = ["EXTENSIONS", "KIND_LABELS", "MAGIC", "MAX_ATTACHMENT_BYTES", "MAX_ATTACHMENTS", "MAX_ZIP_MEMBERS",
           "MAX_ZIP_UNPACKED", "CheckedFile", "check_file", "check_uploads", "remove", "sniff", "store"]


def check_uploads(uploads: list[AttachmentIn], *, already: int = 0,
                  field: str = "attachments") -> tuple[list[CheckedFile], list[FieldProblem]]:
    files: list[CheckedFile] = []
    problems: list[FieldProblem] = []
    too_many = too_many_attachments(already + len(uploads), field=field)
    if too_many is not None:
        problems.append(too_many)
    for upload in uploads:
        try:
            content = base64.b64decode(upload.content_base64, validate=True)
        except (binascii.Error, ValueError):
            problems.append(FieldProblem(f"{field}: {upload.filename}", "附件内容不是有效的 base64"))
            continue
        checked = check_file(upload.filename, content, field=field)
        if isinstance(checked, FieldProblem):
            problems.append(checked)
        else:
            files.append(checked)
    return files, problems


def store(db: Db, declaration_id: int, files: list[CheckedFile]) -> None:
    """Write checked files: each blob once (by hash), one attachment row per file.

    Bytes already stored are not sent again; a blob another writer stored meanwhile
    is the same content (the key is its hash), so that insert simply does nothing."""
    if not files:
        return
    hashes = sorted({f.sha256 for f in files})
    have = set(db.column(f"SELECT sha256 FROM blob WHERE {in_list(db, 'sha256', 'hashes')}",
                         hashes=json_list(hashes)))
    new = {f.sha256: f for f in files if f.sha256 not in have}
    db.many("INSERT INTO blob (sha256, content, size, media_type) VALUES (:sha256, :content, :size, :media_type) "
            "ON CONFLICT (sha256) DO NOTHING",
            [{"sha256": f.sha256, "content": f.content, "size": f.size, "media_type": f.media_type}
             for f in new.values()])
    db.many("INSERT INTO attachment (declaration_id, sha256, filename, media_type, size) "
            "VALUES (:declaration_id, :sha256, :filename, :media_type, :size)",
            [{"declaration_id": declaration_id, "sha256": f.sha256, "filename": f.filename,
              "media_type": f.media_type, "size": f.size} for f in files])


def remove(db: Db, declaration_id: int, attachment_ids: list[int] | None = None) -> list[str]:
    """Delete attachment rows (all of a declaration's, or the given ones) and blobs no
    longer used by any attachment. Returns the removed file names."""
    where = "declaration_id = :declaration_id"
    params: dict[str, object] = {"declaration_id": declaration_id}
    if attachment_ids is not None:
        where += " AND " + in_list(db, "id", "wanted", "BIGINT")
        params["wanted"] = json_list(attachment_ids)
    rows = db.rows(f"SELECT id, sha256, filename FROM attachment WHERE {where} ORDER BY id", **params)
    if not rows:
        return []
    db.execute(f"DELETE FROM attachment WHERE {in_list(db, 'id', 'ids', 'BIGINT')}",
               ids=json_list(r[0] for r in rows))
    hashes = {r[1] for r in rows}
    used = set(db.column(f"SELECT DISTINCT sha256 FROM attachment WHERE {in_list(db, 'sha256', 'hashes')}",
                         hashes=json_list(sorted(hashes))))
    orphans = hashes - used
    if orphans:
        db.execute(f"DELETE FROM blob WHERE {in_list(db, 'sha256', 'orphans')}", orphans=json_list(sorted(orphans)))
    return [r[2] for r in rows]
