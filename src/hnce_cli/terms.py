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

REGION_LEVELS = {
    "province": "省",
    "city": "市",
    "county": "县区",
    "provincial_direct": "省直",
    "city_direct": "市直",
}
