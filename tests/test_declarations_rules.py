"""The rules behind declarations, in-process: credits per learning form, the forms
file's own checks, open years, and attachment checks by content."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import pytest

from hnce_cli.errors import FieldProblem, ValidationFailed
from hnce_cli.services import attachments, forms, rules

TODAY = date(2026, 6, 15)
FORMS = list(forms.package_forms())


def credits_for(code: str, values: dict, entered: float | None = None) -> tuple[float, list[FieldProblem]]:
    form = forms.find_form(FORMS, code)
    _, credits, problems = forms.check_answers(form, values, entered, 2026, TODAY)
    return credits, problems


@pytest.mark.parametrize(("code", "values", "expected"), [
    ("exam", {"exam_name": "中级会计", "subjects_passed": 2, "pass_date": "2026-05-01"}, 180),
    ("conference", {"meeting_name": "年会", "organizer": "学会", "start_date": "2026-05-01", "days": "3"}, 30),
    ("degree", {"school": "郑州大学", "major": "会计", "courses_passed": 1}, 90),
    ("research", {"project_name": "课题", "project_source": "财政厅", "role": "独立承担或主持",
                  "completed_on": "2026-01-10"}, 90),
    ("research", {"project_name": "课题", "project_source": "财政厅", "role": "其他参与人",
                  "completed_on": "2026-01-10"}, 60),
    ("paper", {"title": "t", "journal": "j", "cn_number": "CN11-1078/F", "published_on": "2026-02-01",
               "author_rank": "独立或第一作者"}, 30),
    ("paper", {"title": "t", "journal": "j", "cn_number": "CN11-1078/F", "published_on": "2026-02-01",
               "author_rank": "其他作者"}, 10),
    ("book", {"title": "t", "publisher": "p", "isbn": "978", "published_on": "2026-02-01",
              "author_rank": "独立或第一作者"}, 90),
    ("book", {"title": "t", "publisher": "p", "isbn": "978", "published_on": "2026-02-01",
              "author_rank": "其他作者"}, 60),
    ("base_training", {"base_name": "基地", "class_name": "班", "start_date": "2026-03-01", "days": 5}, 40),
    ("base_training", {"base_name": "基地", "class_name": "班", "start_date": "2026-03-01", "days": 20}, 90),
    ("training", {"training_name": "研修", "organizer": "厅", "start_date": "2026-03-01", "days": 2}, 16),
    ("patent", {"patent_name": "p", "patent_no": "ZL1", "patent_type": "实用新型专利",
                "granted_on": "2026-03-01"}, 30),
    ("award", {"award_name": "a", "awarded_by": "省政府", "level": "省部级", "awarded_on": "2026-03-01"}, 60),
    ("leader_report", {"title": "报告", "leader_level": "市厅级", "endorsed_on": "2026-03-01"}, 30),
    ("assignment", {"task": "援疆", "place": "哈密", "start_date": "2025-08-01"}, 90),
])
def test_credits_are_computed_from_the_form(code: str, values: dict, expected: float) -> None:
    credits, problems = credits_for(code, values)
    assert problems == []
    assert credits == expected


def test_entered_credits_are_limited_by_the_form() -> None:
    values = {"service": "s", "place": "p", "start_date": "2026-03-01"}
    assert credits_for("grassroots", values, 30) == (30, [])
    for bad in (None, 0, 30.5, 12.25):
        _, problems = credits_for("grassroots", values, bad)
        assert [p.field for p in problems] == ["credits"], bad


def test_field_problems_are_all_reported_together() -> None:
    _, problems = credits_for("conference", {"meeting_name": "", "start_date": "2027-01-01", "days": "二",
                                              "journal": "x"})
    fields = [p.field for p in problems]
    assert sorted(fields) == ["days", "journal", "meeting_name", "organizer", "start_date"]
    _, problems = credits_for("paper", {"title": "t", "journal": "j", "cn_number": "c", "published_on": "2025-12-01",
                                        "author_rank": "第三作者"})
    assert {p.field for p in problems} == {"published_on", "author_rank"}


def test_the_shipped_forms_pass_the_check_they_are_read_without() -> None:
    """The shipped file is read without validation (it is checked here): it must pass the
    check `forms load` applies, and read the same both ways."""
    from importlib import resources

    data = json.loads(resources.files("hnce_cli.data").joinpath("learning_forms.json").read_text("utf-8"))
    assert forms.parse_forms(data) == list(forms.package_forms())
    assert [f.model_dump() for f in forms.parse_forms(data)] == [f.model_dump() for f in FORMS]


def test_the_shipped_forms_cover_the_national_standard() -> None:
    by_name = {f.name: f for f in FORMS}
    for name in ("全国会计专业技术资格考试等", "学术会议", "学历教育", "课题研究", "论文", "著作"):
        assert by_name[name].standard == "national"
    for name in ("继续教育基地培训班", "培训研修", "专利", "获奖", "领导批示报告", "援藏援疆支教扶贫等任务",
                 "基层服务", "行业培训"):
        assert by_name[name].standard == "provincial"


def test_a_forms_file_with_inconsistent_rules_is_refused() -> None:
    data = [f.model_dump() for f in FORMS]
    data[0]["credits"] = {"mode": "by_role", "role_field": "exam_name", "roles": {"x": 1}}
    data[1]["code"] = data[2]["code"]
    with pytest.raises(ValidationFailed) as caught:
        forms.parse_forms(data)
    assert {p.field for p in caught.value.problems} == {"forms.exam.credits", f"forms.{data[2]['code']}"}
    with pytest.raises(ValidationFailed):
        forms.parse_forms([{"code": "Bad Code", "name": "x", "standard": "national", "fields": [],
                            "credits": {"mode": "fixed", "rate": 1}}])


def test_open_years() -> None:
    known = rules.merge(None)  # the package's years
    assert rules.open_years(known, date(2026, 6, 15)) == [2026]
    assert rules.open_years(known, date(2025, 12, 31)) == [2025]
    assert rules.check_open_year(known, None, date(2026, 1, 1)) == 2026
    with pytest.raises(ValidationFailed) as caught:
        rules.check_open_year(known, 2025, date(2026, 1, 1))
    assert caught.value.problems[0].field == "year" and "2026" in caught.value.problems[0].message
    with pytest.raises(ValidationFailed):
        rules.check_open_year(known, 2026, date(2025, 6, 1))  # not begun
    assert rules.rules_for(known, 2025).min_public == 30 and rules.rules_for(known, 2026).deadline == date(2026, 12, 31)


PDF = b"%PDF-1.7\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "words"), [
    ("a.pdf", PNG, "PNG"),
    ("a.png", PDF, "PDF"),
    ("a.docx", PDF, "不支持"),
    ("a.pdf", b"", "为空"),
    ("a.pdf", b"hello", "不是"),
    ("a.zip", b"PK\x03\x04broken", "损坏"),
    ("a.zip", _zip({"a.pdf": PDF, "b.txt": b"hello"}), "b.txt"),
    ("a.zip", _zip({"/etc/a.pdf": PDF}), "不安全"),
    ("a.zip", _zip({"a.pdf": PDF, "inner.zip": _zip({"x.pdf": PDF})}), "inner.zip"),
    ("a.zip", _zip({"a.png": PDF}), "扩展名"),
])
def test_attachments_are_checked_by_content(name: str, content: bytes, words: str) -> None:
    result = attachments.check_file(name, content)
    assert isinstance(result, FieldProblem), result
    assert words in result.message


def test_good_attachments_are_hashed() -> None:
    import hashlib

    ok = attachments.check_file("证书.PDF", PDF)
    assert not isinstance(ok, FieldProblem)
    assert (ok.media_type, ok.sha256, ok.size) == ("application/pdf", hashlib.sha256(PDF).hexdigest(), len(PDF))
    zipped = attachments.check_file("proofs.zip", _zip({"a/b.pdf": PDF, "c.png": PNG, "dir/": b""}))
    assert not isinstance(zipped, FieldProblem) and zipped.media_type == "application/zip"
    big = attachments.check_file("big.pdf", PDF + b"0" * attachments.MAX_ATTACHMENT_BYTES)
    assert isinstance(big, FieldProblem) and "过大" in big.message
