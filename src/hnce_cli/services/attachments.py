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
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from hnce_cli.errors import FieldProblem
from hnce_cli.schemas import AttachmentIn
from hnce_cli.store import Db, in_list, json_list

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # per file, as uploaded
MAX_ATTACHMENTS = 5  # per declaration
MAX_ZIP_MEMBERS = 200
MAX_ZIP_UNPACKED = 100 * 1024 * 1024  # against zip bombs

MAGIC = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\xff\xd8\xff", "jpeg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"PK\x03\x04", "zip", "application/zip"),
)
EXTENSIONS = {".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".zip": "zip"}
KIND_LABELS = {"pdf": "PDF", "jpeg": "JPEG 图片", "png": "PNG 图片", "zip": "ZIP 压缩包"}


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content: bytes
    sha256: str
    media_type: str
    size: int


def sniff(content: bytes) -> tuple[str, str] | None:
    """(kind, media type) by the file's first bytes, or None."""
    for magic, kind, media in MAGIC:
        if content.startswith(magic):
            return kind, media
    return None


def _zip_problem(content: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError):
        return "ZIP 文件已损坏，无法打开"
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if not members:
            return "ZIP 中没有文件"
        if len(members) > MAX_ZIP_MEMBERS:
            return f"ZIP 中文件过多（{len(members)} 个，最多 {MAX_ZIP_MEMBERS} 个）"
        if sum(m.file_size for m in members) > MAX_ZIP_UNPACKED:
            return "ZIP 解压后过大"
        for member in archive.infolist():
            name = member.filename
            path = PurePosixPath(name.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or ":" in name:
                return f"ZIP 中的文件名不安全：{name}"
        for member in members:
            ext = PurePosixPath(member.filename).suffix.lower()
            try:
                with archive.open(member) as handle:
                    head = handle.read(16)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError):
                return f"ZIP 中的 {member.filename} 无法读取（已加密或已损坏）"
            found = sniff(head)
            if found is None or found[0] == "zip":
                return f"ZIP 中的 {member.filename} 不是 PDF、JPEG 或 PNG（按内容检查）"
            if EXTENSIONS.get(ext) != found[0]:
                return f"ZIP 中的 {member.filename} 扩展名与内容不符（内容是 {KIND_LABELS[found[0]]}）"
        try:
            bad = archive.testzip()
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError):
            return "ZIP 文件已损坏"
        if bad is not None:
            return f"ZIP 中的 {bad} 已损坏（校验失败）"
    return None


def check_file(filename: str, content: bytes, *, field: str = "attachments") -> CheckedFile | FieldProblem:
    """Accept or refuse one file; a refusal names the file and says why."""
    from hnce_cli import text

    name = text.normalise(PurePosixPath(filename.replace("\\", "/")).name)
    if not name:
        return FieldProblem(field, "附件缺少文件名")
    refused = text.problem(name, field, text.FILE_NAME, fix="rename the file with plain characters and attach it again")
    if refused is not None:
        return refused
    where = f"{field}: {name}"
    if len(content) > MAX_ATTACHMENT_BYTES:
        return FieldProblem(where, f"文件过大：{len(content) / 1048576:.1f} MB，上限 "
                                   f"{MAX_ATTACHMENT_BYTES // 1048576} MB",
                            "scan at a lower resolution, or split it")
    if not content:
        return FieldProblem(where, "文件为空")
    ext = PurePosixPath(name).suffix.lower()
    expected = EXTENSIONS.get(ext)
    if expected is None:
        return FieldProblem(where, f"不支持的文件类型 {ext or '（无扩展名）'}",
                            "attach .pdf, .jpg, .png, or one .zip holding several of them")
    found = sniff(content)
    if found is None:
        return FieldProblem(where, f"文件内容不是 PDF、JPEG、PNG 或 ZIP（扩展名为 {ext}）",
                            "attach the scan itself, not a renamed file")
    kind, media = found
    if kind != expected:
        return FieldProblem(where, f"扩展名 {ext} 与文件内容不符：内容是 {KIND_LABELS[kind]}",
                            "rename the file to match what it is")
    if kind == "zip":
        problem = _zip_problem(content)
        if problem:
            return FieldProblem(where, problem, "a zip may hold only PDF, JPEG and PNG files")
    return CheckedFile(filename=name, content=content, sha256=hashlib.sha256(content).hexdigest(),
                       media_type=media, size=len(content))


def check_uploads(uploads: list[AttachmentIn], *, already: int = 0,
                  field: str = "attachments") -> tuple[list[CheckedFile], list[FieldProblem]]:
    files: list[CheckedFile] = []
    problems: list[FieldProblem] = []
    if already + len(uploads) > MAX_ATTACHMENTS:
        problems.append(FieldProblem(field, f"附件最多 {MAX_ATTACHMENTS} 个",
                                     "put several scans in one .zip"))
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
