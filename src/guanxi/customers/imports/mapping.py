"""Which source column feeds which customer field: the automatic guess and its validation.

Targets are the customer API's input names (``CustomerIn``) so an import row becomes exactly the
dict the API accepts, plus ``custom.<key>`` for custom fields and three name parts
(``first_name``/``middle_name``/``last_name``) that exports split names into; the row mapper
joins those into ``name`` (姓+名 without a space for Chinese, "First Middle Last" otherwise).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.errors import FieldError
from guanxi.customers.imports.readers import detect_flavour

# target → label shown in the mapping step (lazy: rendered in the user's language)
TARGET_LABELS: dict[str, Any] = {
    "name": gettext_lazy("Customer name"),
    "last_name": gettext_lazy("Last name (姓)"),
    "first_name": gettext_lazy("First name (名)"),
    "middle_name": gettext_lazy("Middle name"),
    "kind": gettext_lazy("Kind (person / company)"),
    "company": gettext_lazy("Company"),
    "title": gettext_lazy("Job title"),
    "gender": gettext_lazy("Gender"),
    "phones": gettext_lazy("Phone"),
    "emails": gettext_lazy("Email"),
    "wechat": gettext_lazy("WeChat ID"),
    "province": gettext_lazy("Province"),
    "city": gettext_lazy("City"),
    "district": gettext_lazy("District"),
    "address": gettext_lazy("Address"),
    "birthday": gettext_lazy("Birthday"),
    "birthday_is_lunar": gettext_lazy("Birthday is lunar"),
    "industry": gettext_lazy("Industry"),
    "size": gettext_lazy("Company size"),
    "source": gettext_lazy("Source"),
    "notes": gettext_lazy("Notes"),
    "external_id": gettext_lazy("External ID"),
    "tags": gettext_lazy("Tags"),
    "owner": gettext_lazy("Owner (user name)"),
    "team": gettext_lazy("Team"),
    "grade": gettext_lazy("Grade"),
    "value_tier": gettext_lazy("Value tier"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage"),
}
TARGETS: tuple[str, ...] = tuple(TARGET_LABELS)
NAME_PARTS = ("last_name", "first_name", "middle_name")
# Several columns may feed these: their values are collected (phones, emails, tags) or joined (notes).
MULTI_TARGETS = frozenset({"phones", "emails", "tags", "notes"})

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "customername", "contactname", "displayname", "姓名", "名称", "客户名称",
             "客户姓名", "客户", "联系人", "联系人姓名", "全名", "称呼"),
    "last_name": ("lastname", "familyname", "surname", "姓", "姓氏"),
    "first_name": ("firstname", "givenname", "名", "名字"),
    "middle_name": ("middlename", "additionalname", "中间名"),
    "kind": ("kind", "type", "customertype", "客户类型", "类型", "客户类别"),
    "company": ("company", "companyname", "organization", "organisation", "organizationname", "org",
                "employer", "公司", "公司名称", "单位", "单位名称", "企业", "企业名称", "工作单位",
                "所在公司"),
    "title": ("title", "jobtitle", "position", "organizationtitle", "role", "职位", "职务", "头衔", "岗位"),
    "gender": ("gender", "sex", "性别"),
    "phones": ("phone", "phones", "mobile", "mobilephone", "cell", "cellphone", "telephone", "tel",
               "phonenumber", "workphone", "homephone", "otherphone", "businessphone", "手机", "手机号",
               "手机号码", "电话", "电话号码", "联系电话", "联系方式", "座机", "办公电话", "移动电话",
               "商务电话", "住宅电话", "固话"),
    "emails": ("email", "emails", "e-mail", "mail", "emailaddress", "workemail", "homeemail", "otheremail",
               "邮箱", "电子邮箱", "电子邮件", "邮件", "电子邮件地址", "email地址", "邮箱地址"),
    "wechat": ("wechat", "wechatid", "weixin", "微信", "微信号", "微信id"),
    "province": ("province", "state", "region", "省", "省份", "所在省份", "省/直辖市", "省市"),
    "city": ("city", "town", "市", "城市", "所在城市"),
    "district": ("district", "county", "区", "区县", "县区", "区/县"),
    "address": ("address", "street", "streetaddress", "地址", "详细地址", "街道", "街道地址", "通讯地址",
                "联系地址", "办公地址", "公司地址"),
    "birthday": ("birthday", "birthdate", "dateofbirth", "dob", "生日", "出生日期", "出生年月", "出生年月日"),
    "birthday_is_lunar": ("lunarbirthday", "birthdayislunar", "农历生日", "农历", "是否农历"),
    "industry": ("industry", "sector", "行业", "所属行业"),
    "size": ("size", "companysize", "employees", "规模", "公司规模", "企业规模", "人数"),
    "source": ("source", "leadsource", "channel", "来源", "客户来源", "来源渠道", "渠道"),
    "notes": ("notes", "note", "comment", "comments", "remark", "remarks", "description", "备注", "说明",
              "描述", "附注"),
    "external_id": ("externalid", "id", "customerid", "customerno", "customernumber", "code", "外部id",
                    "外部编号", "编号", "客户编号", "客户id", "客户代码"),
    "tags": ("tags", "tag", "labels", "categories", "groupmembership", "group", "groups", "标签", "分组",
             "客户标签", "类别"),
    "owner": ("owner", "salesrep", "assignedto", "负责人", "归属人", "跟进人", "所属销售", "销售"),
    "team": ("team", "团队", "部门团队", "所属团队"),
    "grade": ("grade", "level", "rating", "等级", "客户等级", "级别"),
    "value_tier": ("valuetier", "value", "tier", "价值", "价值等级", "客户价值"),
    "lifecycle_stage": ("lifecycle", "lifecyclestage", "stage", "status", "生命周期", "阶段", "客户阶段",
                        "客户状态", "状态"),
}  # fmt: skip
_BY_WORD = {word: target for target, words in _SYNONYMS.items() for word in words}
# vCard reader columns (vcard.py); some already match a synonym, these are the rest.
_BY_WORD.update({"organization": "company", "categories": "tags", "uid": "", "region": "province", "fax": "",
                 "postalcode": "", "country": "", "url": "", "nickname": "", "department": ""})  # fmt: skip
_BY_WORD.update({"note": "notes", "street": "address", "fullname": "name"})

# Google Contacts: "Phone 3 - Value", "E-mail 2 - Value", "Address 1 - City", "Organization 1 - Title" …
_GOOGLE = re.compile(r"^(?P<what>[a-z-]+(?: [a-z]+)?) (?P<n>\d+) - (?P<part>[a-z ]+)$")
_GOOGLE_PARTS = {
    ("phone", "value"): "phones",
    ("e-mail", "value"): "emails",
    ("address", "street"): "address",
    ("address", "city"): "city",
    ("address", "region"): "province",
    ("organization", "name"): "company",
    ("organization", "title"): "title",
}
# Outlook: "Mobile Phone", "Business Phone 2", "E-mail 3 Address", "Business City" …
_OUTLOOK_PHONE = re.compile(r"^(?!.*fax)(?!assistant)(?P<kind>[a-z'/ ]+) phone(?: \d+)?$")
_OUTLOOK_EMAIL = re.compile(r"^e-mail(?: \d+)? address$")
_OUTLOOK_EMAIL_META = re.compile(r"^e-mail(?: \d+)? (?:type|display name)$")
_OUTLOOK_ADDRESS = {"business street": "address", "business city": "city", "business state": "province"}
_SINGLE_ADDRESS_PART = re.compile(r"^(home|other) (street|city|state)( \d)?$")


def normalise_header(header: str) -> str:
    """Compare like with like: "  手机号码*" → "手机号码", "E-Mail Address" → "emailaddress"."""
    text = unicodedata.normalize("NFKC", header).casefold().strip()
    return re.sub(r"[\s_\-*:：()（）\[\]【】.#/]", "", text) if text else ""


def auto_mapping(headers: list[str], *, custom_fields: Iterable[Any]) -> dict[str, str]:
    """Guess a target for every header ("" = ignore). A single-valued target goes to the first
    column that names it, so the guess always passes ``validate_mapping``'s one-column rule."""
    customs = list(custom_fields)
    by_custom: dict[str, str] = {}
    for defn in customs:
        by_custom[normalise_header(defn.key)] = f"custom.{defn.key}"
        by_custom[normalise_header(str(defn.label))] = f"custom.{defn.key}"
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    # Outlook's "Title" is the salutation (Mr., 先生); its job title is "Job Title".
    salutation = "title" if detect_flavour(headers) == "outlook" else None
    for header in headers:
        target = "" if header.strip().casefold() == salutation else _guess(header, by_custom)
        if target and target not in MULTI_TARGETS and target in taken:
            target = ""
        if target:
            taken.add(target)
        mapping[header] = target
    if "name" in taken:  # a full-name column beats the parts
        for header, target in mapping.items():
            if target in NAME_PARTS:
                mapping[header] = ""
    return mapping


def _guess(header: str, by_custom: dict[str, str]) -> str:
    lowered = unicodedata.normalize("NFKC", header).casefold().strip()
    if lowered.startswith("custom."):
        return f"custom.{header.strip()[7:]}" if normalise_header(header[7:]) in by_custom else ""
    google = _GOOGLE.match(lowered)
    if google:
        what = google["what"].replace("email", "e-mail")
        if google["n"] != "1" and what != "phone" and what != "e-mail":
            return ""  # a second address or organisation has no customer field to go to
        return _GOOGLE_PARTS.get((what, google["part"].strip()), "")
    if _OUTLOOK_EMAIL.match(lowered):
        return "emails"
    if lowered in _OUTLOOK_ADDRESS:
        return _OUTLOOK_ADDRESS[lowered]
    if _SINGLE_ADDRESS_PART.match(lowered) or _OUTLOOK_EMAIL_META.match(lowered):
        return ""  # "E-mail Type", "E-mail Display Name": not the address
    if _OUTLOOK_PHONE.match(lowered) and lowered != "phone":
        return "phones"
    key = normalise_header(header)
    if key in by_custom:
        return by_custom[key]
    if key in _BY_WORD:
        return _BY_WORD[key]
    return ""


def target_choices(custom_fields: Iterable[Any]) -> list[tuple[str, str]]:
    """(value, label) for the mapping selects: ignore, the customer fields, then custom fields."""
    choices = [("", _("— ignore —"))]
    choices += [(key, str(label)) for key, label in TARGET_LABELS.items()]
    choices += [(f"custom.{d.key}", f"{d.label} ({_('custom field')})") for d in custom_fields]
    return choices


def validate_mapping(
    mapping: dict[str, str], *, headers: list[str], custom_fields: Iterable[Any]
) -> list[FieldError]:
    """Every problem with a mapping at once; ``field`` names the source column ("" for the whole)."""
    known = set(TARGETS) | {f"custom.{d.key}" for d in custom_fields}
    errors: list[FieldError] = []
    header_set = set(headers)
    used: dict[str, str] = {}
    for column, target in mapping.items():
        if column not in header_set:
            message = _("the file has no column “%(column)s”") % {"column": column}
            errors.append(FieldError(column, message, code="unknown_column"))
            continue
        if not target:
            continue
        if target not in known:
            message = _("“%(target)s” is not a customer field") % {"target": target}
            errors.append(FieldError(column, message, code="unknown_target"))
            continue
        if target in used and target not in MULTI_TARGETS:
            errors.append(
                FieldError(
                    column,
                    _("“%(field)s” is already filled from column “%(other)s”; map only one column to it")
                    % {"field": target_label(target), "other": used[target]},
                    code="duplicate_target",
                )
            )
            continue
        used.setdefault(target, column)
    if "name" not in used and not (set(NAME_PARTS) & set(used)):
        errors.append(
            FieldError(
                "",
                _("Map a column to “Name” (or to first/last name): every customer needs a name."),
                code="name_required",
            )
        )
    elif "name" in used and set(NAME_PARTS) & set(used):
        errors.append(
            FieldError(
                used["name"],
                _("Map either the name or its parts (first/last name), not both."),
                code="name_twice",
            )
        )
    return errors


def target_label(target: str) -> str:
    if target.startswith("custom."):
        return target[7:]
    return str(TARGET_LABELS.get(target, target))
