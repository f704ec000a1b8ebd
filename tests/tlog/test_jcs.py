"""RFC 8785 canonical JSON: the RFC's examples, its number table, UTF-16 key order, and
(when Node is installed) agreement with ECMAScript on thousands of random doubles."""

from __future__ import annotations

import json
import math
import random
import shutil
import struct
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudstores.errors import SerializationError
from cloudstores.tlog import jcs

# RFC 8785 appendix B style: IEEE 754 bits -> ECMAScript Number.prototype.toString.
# (Each expected value was also checked with Node 20's Number.prototype.toString.)
NUMBERS = {
    "0000000000000000": "0",
    "8000000000000000": "0",
    "0000000000000001": "5e-324",
    "8000000000000001": "-5e-324",
    "7fefffffffffffff": "1.7976931348623157e+308",
    "ffefffffffffffff": "-1.7976931348623157e+308",
    "4340000000000000": "9007199254740992",
    "c340000000000000": "-9007199254740992",
    "4430000000000000": "295147905179352830000",
    "44b52d02c7e14af5": "9.999999999999997e+22",
    "44b52d02c7e14af6": "1e+23",
    "44b52d02c7e14af7": "1.0000000000000001e+23",
    "444b1ae4d6e2ef4e": "999999999999999700000",
    "444b1ae4d6e2ef4f": "999999999999999900000",
    "444b1ae4d6e2ef50": "1e+21",
    "3eb0c6f7a0b5ed8c": "9.999999999999997e-7",
    "3eb0c6f7a0b5ed8d": "0.000001",
    "41b3de4355555553": "333333333.3333332",
    "41b3de4355555554": "333333333.33333325",
    "41b3de4355555555": "333333333.3333333",
    "41b3de4355555556": "333333333.3333334",
    "41b3de4355555557": "333333333.33333343",
    "becbf647612f3696": "-0.0000033333333333333333",
    "43143ff3c1cb0959": "1424953923781206.2",
}


@pytest.mark.parametrize(("bits", "text"), NUMBERS.items())
def test_number_table(bits: str, text: str) -> None:
    assert jcs.format_number(struct.unpack(">d", bytes.fromhex(bits))[0]) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (0.1, "0.1"),
        (123.456, "123.456"),
        (5e-324, "5e-324"),
        (-1.5, "-1.5"),
        (float(2**53), "9007199254740992"),
        (1.5e300, "1.5e+300"),
        (0, "0"),
        (-7, "-7"),
        (2**53 - 1, "9007199254740991"),
        (2**53, "9007199254740992"),
        (10**21, "1e+21"),
        (10**20, "100000000000000000000"),
        (25737372292823290, "25737372292823290"),
    ],
)
def test_numbers(value: float, text: str) -> None:
    assert jcs.dumps(value) == text.encode()


def test_rfc_main_example() -> None:
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    assert (
        jcs.dumps(value)
        == (
            '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
            '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        ).encode()
    )


def test_rfc_sorting_example_uses_utf16_code_units() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(jcs.dumps(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    # code point order would put the emoji (U+1F600) after U+FB33
    assert sorted(value) != keys


def test_strings_escape_only_what_ecmascript_escapes() -> None:
    text = "".join(chr(c) for c in range(0x20)) + '\u007f\u2028\u00e9"\\/'
    out = jcs.dumps(text).decode()
    assert out == (
        '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r'
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
        '\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\u007f\u2028\u00e9\\"\\\\/"'
    )


def test_nesting_and_whitespace() -> None:
    assert jcs.dumps({"b": [1, {"d": None, "c": "x"}], "a": {}}) == (
        b'{"a":{},"b":[1,{"c":"x","d":null}]}'
    )
    assert jcs.dumps([]) == b"[]" and jcs.dumps((1, 2)) == b"[1,2]"


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        {1: "x"},
        {None: 1},
        b"bytes",
        {1, 2},
        object(),
        2**53 + 1,
        -(2**53) - 1,
        10**400,
        "\ud800",
        {"\udc00": 1},
        None,
    ],
)
def test_refused(value: object) -> None:
    if value is None:
        deep: list[object] = []
        for _ in range(300):
            deep = [deep]
        value = deep
    with pytest.raises(SerializationError):
        jcs.dumps(value)


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_agrees_with_ecmascript_on_random_doubles() -> None:
    rng = random.Random(8785)
    values = [struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0] for _ in range(3000)]
    values += [rng.uniform(-1e6, 1e6) for _ in range(1000)]
    values += [
        float(rng.randint(-(10**17), 10**17)) * 10.0 ** rng.randint(-30, 30) for _ in range(1000)
    ]
    values = [v for v in values if math.isfinite(v)]
    bits = [struct.pack(">d", v).hex() for v in values]
    script = (
        "const bits=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "console.log(JSON.stringify(bits.map(b=>Buffer.from(b,'hex').readDoubleBE(0).toString())))"
    )
    assert NODE is not None
    out = subprocess.run(
        [NODE, "-e", script],
        input=json.dumps(bits),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    expected = json.loads(out)
    mismatches = [
        (v, e) for v, e in zip(values, expected, strict=True) if jcs.format_number(v) != e
    ]
    assert mismatches == []


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(),  # larger ints: see test_numbers
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(_JSON)
def test_canonical_bytes_parse_back_and_are_a_fixed_point(value: object) -> None:
    encoded = jcs.dumps(value)
    # JCS numbers are doubles: read them back as doubles, they are the same values
    assert json.loads(encoded, parse_int=float) == value
    # and a reader that makes ints of integral numbers still gets the same bytes back
    assert jcs.dumps(json.loads(encoded)) == encoded


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_rfc_number_table_nan_and_infinity_are_errors(bits: str) -> None:
    # RFC 8785 appendix B lists NaN and Infinity as values a serializer must refuse
    with pytest.raises(SerializationError):
        jcs.dumps(struct.unpack(">d", bytes.fromhex(bits))[0])


def test_rfc_utf8_output_and_no_unicode_normalization() -> None:
    # RFC 8785 3.2.4: the output is UTF-8 (U+20AC as e2 82 ac); 3.1: strings are not
    # normalized (A + combining ring above stays two code points, not U+00C5)
    assert jcs.dumps({"string": "\u20ac$"}).hex() == "7b22737472696e67223a22e282ac24227d"
    assert jcs.dumps("A\u030a") == '"A\u030a"'.encode()
    assert jcs.dumps("A\u030a") != jcs.dumps("\u00c5")
