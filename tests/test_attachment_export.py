"""Who gets a declaration's files, and how many one request carries, on every storage: the
declarant and the reviewers have the files; support 客服 and the system admin, who only
look, never do; an export larger than one request may carry is refused naming the cap and how
to narrow it, and `hnce review --all --export-attachments` then fetches a declaration at a time."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from conftest import World

from hnce_cli import clock
from hnce_cli.errors import PermissionDenied, TooLarge
from hnce_cli.schemas import AttachmentIn, DeclarationInput, DeclarationQuery

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def declare_with_files(world: World, person_token: str, count: int, files: int = 5) -> list[int]:
    """`count` pending declarations of one person, each with `files` small scans."""
    backend = world.setup.backend(person_token)
    ids = []
    for n in range(count):
        fields = {"meeting_name": f"年会第{n}场", "organizer": "会计学会", "start_date": clock.today().isoformat(),
                  "days": 1}
        proof = [AttachmentIn(filename=f"通知{n}-{i}.png", content_base64=base64.b64encode(PNG + bytes([i])).decode())
                 for i in range(files)]
        ids.append(backend.create_declaration(DeclarationInput(form="conference", fields=fields, attachments=proof,
                                                               submit=True)).id)
    return ids


def test_support_and_the_system_admin_never_get_file_bytes(world: World) -> None:
    person = world.approved_person()
    [declaration] = declare_with_files(world, person.token, 1, files=2)
    for who in (world.kefu, world.admin):
        with pytest.raises(PermissionDenied) as refused:
            world.setup.backend(who.token).declaration_attachments(DeclarationQuery())
        assert "只有申报人本人和审核人员可以下载附件" in refused.value.message
        assert "hnce declare show" in refused.value.message
        # what they may see: each attachment's name and size, in the declaration itself
        shown = world.setup.backend(who.token).show_declaration(declaration)
        assert [a.filename for a in shown.attachments] == ["通知0-0.png", "通知0-1.png"]
    # the declarant and the reviewer have the files
    for who in (person.token, world.a_admin1.token):
        bundle = world.setup.backend(who).declaration_attachments(DeclarationQuery(ids=[declaration]))
        assert [base64.b64decode(f.content_base64) for f in bundle.files] == [PNG + b"\x00", PNG + b"\x01"]


def test_support_exporting_through_the_cli_is_refused_with_no_file_written(world: World, tmp_path: Path) -> None:
    person = world.approved_person()
    declare_with_files(world, person.token, 1, files=1)
    proc = world.setup.run("review", "--export-attachments", str(tmp_path / "out"), "--json", token=world.kefu.token)
    assert proc.returncode == 4, proc.stderr  # permission (docs/exit-codes.md)
    assert "Traceback" not in proc.stderr
    assert not list((tmp_path / "out").rglob("*.png")) if (tmp_path / "out").exists() else True


def test_an_export_over_the_cap_is_refused_naming_it_and_how_to_narrow(world: World, tmp_path: Path) -> None:
    from hnce_cli.services.declarations import EXPORT_MAX_FILES

    person = world.approved_person()
    ids = declare_with_files(world, person.token, EXPORT_MAX_FILES // 5 + 1)  # 55 files: over 50
    reviewer = world.setup.backend(world.a_admin1.token)
    with pytest.raises(TooLarge) as refused:
        reviewer.declaration_attachments(DeclarationQuery())
    error = refused.value
    assert error.http_status == 413 and int(error.exit_code) == 2
    assert f"一次最多导出 {EXPORT_MAX_FILES} 个附件" in error.message and "--unit" in error.message
    assert '"ids"' in error.message
    assert error.details["files"] == len(ids) * 5 and error.details["max_files"] == EXPORT_MAX_FILES
    # narrowed to some declarations, it goes through
    assert len(reviewer.declaration_attachments(DeclarationQuery(ids=ids[:3])).files) == 15

    # the reviewer's command exports them all, a declaration at a time
    folder = tmp_path / "附件"
    proc = world.setup.run("review", "--all", "--export-attachments", str(folder), "--json",
                           token=world.a_admin1.token)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert len(rows) == len(ids) * 5 and all(r["path"] for r in rows)
    assert sorted(p.name for p in folder.iterdir()) == sorted(str(i) for i in ids)
    assert "逐个申报导出" in proc.stderr
