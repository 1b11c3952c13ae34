"""validate_custom: each type, required on create only, unknown keys, clearing."""

import pytest

from guanxi.core.custom_fields import validate_custom
from guanxi.core.models import CustomFieldDefinition as D


def _d(key, field_type, **kw):
    return D(key=key, label=key, field_type=field_type, **kw)


DEFS = [
    _d("n", "number"),
    _d("t", "text"),
    _d("d", "date"),
    _d("c", "choice", choices=["x", "y"]),
    _d("m", "multi_choice", choices=["a", "b", "c"]),
    _d("b", "bool"),
    _d("r", "text", required=True),
]


@pytest.mark.parametrize(
    ("key", "raw", "clean"),
    [
        ("n", "3", 3),
        ("n", 2.5, 2.5),
        ("n", " 1e3 ", 1000),
        ("t", 12, "12"),
        ("d", "2024-01-31", "2024-01-31"),
        ("c", "y", "y"),
        ("m", "b", ["b"]),
        ("m", ["c", "a", "c"], ["a", "c"]),
        ("b", "no", False),
        ("b", True, True),
    ],
)
def test_valid_values(key, raw, clean):
    values, errors = validate_custom(DEFS, {key: raw, "r": "x"})
    assert errors == []
    assert values[key] == clean


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("n", "x"),
        ("n", "inf"),
        ("n", False),
        ("t", [1]),
        ("d", "31/01/2024"),
        ("c", "z"),
        ("m", ["a", "q"]),
        ("b", "?"),
    ],
)
def test_invalid_values(key, raw):
    _, errors = validate_custom(DEFS, {key: raw, "r": "x"})
    assert [e.field for e in errors] == [f"custom.{key}"]


def test_required_only_when_not_partial():
    _, errors = validate_custom(DEFS, {})
    assert [(e.field, e.code) for e in errors] == [("custom.r", "required")]
    assert validate_custom(DEFS, {}, partial=True)[1] == []
    _, errors = validate_custom(DEFS, {"r": ""}, partial=True)
    assert [e.code for e in errors] == ["required"]


def test_unknown_key_and_not_an_object():
    _, errors = validate_custom(DEFS, {"zz": 1, "r": "x"}, index=4)
    assert [(e.field, e.code, e.index) for e in errors] == [("custom.zz", "unknown_field", 4)]
    _, errors = validate_custom(DEFS, ["r"])
    assert errors[0].field == "custom"


def test_none_clears_an_optional_value():
    values, errors = validate_custom(DEFS, {"n": None, "r": "x"})
    assert errors == [] and "n" not in values
