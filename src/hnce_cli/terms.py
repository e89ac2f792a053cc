"""The platform's own Chinese words for states and roles (shown in every view)."""

REGISTRATION_STATUS = {
    "pending": "待审核",
    "approved": "审核通过",
    "rejected": "审核不通过",
    "cancelled": "已注销",
}

ROLES = {
    "professional": "专业技术人员",
    "unit_admin": "用人单位管理员",
    "hr": "人社部门审核员",
    "support": "客服",
    "institution": "施教机构",
    "system_admin": "系统管理员",
}

UNIT_KINDS = {"ordinary": "用人单位", "temporary": "临时管理单位"}


def unit_label(name: str, kind: str | None) -> str:
    """A person's unit as every view and every certificate shows it.

    Someone with no employer registers in their area's temporary management unit
    (临时管理单位, the county's finance bureau), which manages their continuing education
    and does not employ them: an official document must not say they work there.
    """
    if kind == "temporary":
        return f"无工作单位（临时管理单位：{name}）"
    return name


REGION_LEVELS = {
    "province": "省",
    "city": "市",
    "county": "县区",
    "provincial_direct": "省直",
    "city_direct": "市直",
}

# Declarations 学时(分)申报: stored states and the labels of the progress view.
DECLARATION_STATUS = {
    "draft": "待提交",
    "pending_unit": "待审核（单位）",
    "pending_hr": "待审核（人社）",
    "approved": "审核通过",
    "rejected": "审核不通过",
}

# The progress view's filters 全部 / 待提交 / 待审核 / 审核通过 / 审核不通过.
DECLARATION_FILTERS = {
    "all": "全部",
    "draft": "待提交",
    "pending": "待审核",
    "approved": "审核通过",
    "rejected": "审核不通过",
}

SUBJECTS = {"public": "公需科目", "professional": "专业科目"}

# Where credits that arrive by import come from (hnce sync import --source): their records
# are "<ID number>:<record no.>".
IMPORTED_SOURCES = ("national", "online", "base")

CREDIT_SOURCES = {
    "online": "网络学习",
    "declaration": "学时申报",
    "base": "继续教育基地",
    "national": "全国平台",
}

# The review history of a declaration: its audit rows' actions, without "declaration.".
DECLARATION_ACTIONS = {
    "create": "保存暂不提交",
    "edit": "修改",
    "submit": "提交",
    "withdraw": "撤销",
    "unit_approve": "用人单位审核通过",
    "unit_reject": "用人单位审核不通过",
    "hr_approve": "人社部门审核通过",
    "hr_reject": "人社部门审核不通过",
    "import": "用人单位批量导入（单位审核已完成）",
}

# Annual completion 年度完成情况: the result of a year (services.completion.result_of).
COMPLETION_RESULTS = {
    "passed": "通过",
    "not_passed": "未通过",
    "no_rules": "未到要求年度",
}

# What a completion summary counts per (hnce completion --by).
COMPLETION_GROUPS = {"city": "市", "county": "区县", "unit": "单位"}

# Where a year's rules 学时要求 come from (hnce rules show).
RULES_ORIGINS = {"package": "软件内置", "database": "数据库（已载入）"}

# Why a row of a national-platform import was not added (hnce sync import).
SYNC_PROBLEMS = {
    "bad": "数据有误",
    "unknown_id": "身份证号未注册",
    "duplicate_in_file": "文件内重复",
    "already_imported": "已导入过",
}

# What a batch decision did to each item (hnce approve, hnce review).
DECISION_OUTCOMES = {
    "approved": "审核通过",
    "rejected": "审核不通过",
    "skipped": "已跳过（无变化）",
    "conflict": "冲突",
    "failed": "失败",
    "would_approve": "将审核通过",
    "would_reject": "将审核不通过",
}

# An error's field as the platform's forms name it (i18n.field_label shows `身份证号 (id_number)`
# at a Chinese desk); --json and the API keep the stable key.
FIELD_LABELS = {
    "id_number": "身份证号",
    "mobile": "手机号码",
    "email": "电子邮箱",
    "name": "姓名",
    "password": "密码",
    "unit": "所在单位",
    "units": "管理的单位",
    "region": "所属区域",
    "department": "工作部门",
    "gender": "性别",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "native_place": "籍贯",
    "school": "毕业院校",
    "major": "所学专业",
    "title": "专业技术职务",
    "uscc": "统一社会信用代码",
    "login": "账号",
    "account": "账号",
    "role": "角色",
    "scope": "管理范围",
    "year": "年度",
    "form": "学习形式",
    "fields": "填写内容",
    "credits": "学分",
    "attach": "附件",
    "attachments": "附件",
    "remove_attachments": "要删除的附件",
    "declaration_id": "申报编号",
    "reason": "原因",
    "deadline": "截止日期",
    "min_total": "总学时要求",
    "min_professional": "专业科目学时要求",
    "min_public": "公需科目学时要求",
    "file": "文件",
    "query": "查询内容",
}
