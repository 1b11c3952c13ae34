"""Name keys for matching: NFKC, lowercase, CJK → pinyin with surname readings.

``pypinyin`` reads a surname like any other word (单 → dan, 曾 → ceng, 解 → jie), but as a family
name those characters are read shan, zeng, xie. It has no surname mode (python-pinyin issue #120),
so the first character (or a compound surname such as 欧阳) is looked up in ``SURNAME_READINGS``
first. Traditional characters get the same pinyin as simplified ones (張偉 → zhang wei), which is
what lets 张伟, 張偉 and "Zhang Wei" meet.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Surnames whose reading differs from the character's everyday reading (compound ones first).
COMPOUND_SURNAMES = {
    "万俟": "mo qi",
    "尉迟": "yu chi",
    "单于": "chan yu",
    "欧阳": "ou yang",
    "司马": "si ma",
    "上官": "shang guan",
    "诸葛": "zhu ge",
    "夏侯": "xia hou",
    "东方": "dong fang",
    "皇甫": "huang fu",
    "令狐": "ling hu",
    "长孙": "zhang sun",
    "慕容": "mu rong",
    "司徒": "si tu",
    "端木": "duan mu",
    "公孙": "gong sun",
    "宇文": "yu wen",
    "澹台": "tan tai",
    "歐陽": "ou yang",
    "諸葛": "zhu ge",
}
SURNAME_READINGS = {
    "单": "shan",
    "單": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "區": "ou",
    "查": "zha",
    "朴": "piao",
    "翟": "zhai",
    "盖": "ge",
    "蓋": "ge",
    "乐": "yue",
    "樂": "yue",
    "缪": "miao",
    "繆": "miao",
    "覃": "qin",
    "尉": "yu",
    "华": "hua",
    "華": "hua",
    "秘": "bi",
    "冼": "xian",
    "过": "guo",
    "過": "guo",
    "纪": "ji",
    "紀": "ji",
    "燕": "yan",
    "种": "chong",
    "種": "chong",
    "重": "chong",
    "繁": "po",
    "瞿": "qu",
    "折": "she",
    "那": "na",
    "难": "nan",
    "粘": "nian",
    "藏": "zang",
    "都": "du",
    "六": "lu",
    "薄": "bo",
    "贾": "jia",
    "賈": "jia",
    "居": "ju",
    "盛": "sheng",
    "和": "he",
    "柏": "bai",
    "牟": "mou",
    "殷": "yin",
    "陆": "lu",
    "陸": "lu",
    "乜": "nie",
    "阚": "kan",
    "叶": "ye",
    "葉": "ye",
    "强": "qiang",
    "沈": "shen",
    "宿": "su",
    "卜": "bu",
    "员": "yun",
    "員": "yun",
    "能": "nai",
    "隗": "wei",
    "长": "chang",
    "長": "chang",
    "石": "shi",
    "召": "shao",
    "句": "gou",
    "万": "wan",
    "萬": "wan",
    "车": "che",
}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_WORD = re.compile(r"[^\w\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Courtesy words people type into a name field; never part of who someone is.
_HONORIFICS = re.compile(
    r"(先生|女士|小姐|老师|总|經理|经理|\bmr\b\.?|\bmrs\b\.?|\bms\b\.?|\bmiss\b|\bdr\b\.?)$"
)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def clean_name(raw: str) -> str:
    """NFKC, lowercase, punctuation → space, honorific suffixes dropped; CJK runs lose their spaces."""
    text = unicodedata.normalize("NFKC", raw or "").lower().strip()
    text = _NOT_WORD.sub(" ", text).replace("_", " ")
    text = " ".join(text.split())
    if has_cjk(text):
        text = text.replace(" ", "")
        stripped = _HONORIFICS.sub("", text)
        if len(stripped) >= 2:
            text = stripped
    return text


@lru_cache(maxsize=50_000)
def _char_pinyin(char: str) -> str:
    return "".join(lazy_pinyin(char, style=Style.NORMAL, errors="default")).strip()


def _syllables(text: str) -> list[str]:
    # Character by character (cached): a given name is not a phrase, and lazy_pinyin's phrase
    # segmentation per name cost 22 s of a 100,000-customer scan.
    return [py for py in map(_char_pinyin, text) if py]


@lru_cache(maxsize=200_000)
def cjk_pinyin(name: str) -> tuple[str, ...]:
    """A CJK name as romanised words: surname, then the given name's syllables joined, the surname
    read as a surname: 单雄信 → ("shan", "xiongxin"), 王小明 → ("wang", "xiaoming") — the way the
    name is written in pinyin on a passport or a business card."""
    if len(name) < 2:
        return ("".join(_syllables(name)),) if name else ()
    if name[:2] in COMPOUND_SURNAMES and len(name) > 2:
        surname, given = COMPOUND_SURNAMES[name[:2]].replace(" ", ""), name[2:]
    else:
        surname = SURNAME_READINGS.get(name[0]) or "".join(_syllables(name[0]))
        given = name[1:]
    return (surname, "".join(_syllables(given)))


@dataclass(frozen=True)
class NameKey:
    """What the blocking and scoring compare for one name."""

    text: str  # clean_name(): 张伟 / "john smith"
    latin: str  # pinyin syllables or latin words, spaces between: "zhang wei"
    compact: str  # latin without spaces: "zhangwei"
    sorted_tokens: str  # words sorted: "wei zhang" — meets "Wei Zhang" and 张伟
    cjk: bool


@lru_cache(maxsize=200_000)
def name_key(raw: str) -> NameKey:
    text = clean_name(raw)
    cjk = has_cjk(text)
    tokens = list(cjk_pinyin(text)) if cjk else text.split()
    latin = " ".join(tokens)
    return NameKey(
        text=text,
        latin=latin,
        compact=latin.replace(" ", ""),
        sorted_tokens=" ".join(sorted(tokens)),
        cjk=cjk,
    )
