"""Checksums and formats for party particulars: GB 11643 ID numbers, GB 32100 credit codes, phones."""
from __future__ import annotations

import re
from datetime import date

from workflows.i18n import N_

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"^[1-9]\d{16}[\dX]$")

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_PATTERN = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def normalise_id_number(value: str) -> str:
    return (value or "").strip().upper()


def id_number_problem(value: str) -> str | None:
    """Why an ID number is not valid (an English msgid), or None when it is valid."""
    value = normalise_id_number(value)
    if not ID_PATTERN.match(value):
        return N_("An ID number has 18 characters: 17 digits, then a digit or X.")
    if birth_date_from_id(value) is None:
        return N_("The birth date in this ID number does not exist.")
    if id_check_char(value[:17]) != value[17]:
        return N_("The check digit of this ID number is wrong; please check each digit.")
    return None


def birth_date_from_id(value: str) -> date | None:
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    return born if date(1900, 1, 1) <= born <= date.today() else None


def gender_from_id(value: str) -> str:
    """GB 11643: the 17th digit is odd for men, even for women."""
    return "male" if int(value[16]) % 2 else "female"


def credit_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a credit code."""
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    return (value or "").strip().upper()


def credit_code_problem(value: str) -> str | None:
    """Why a unified social credit code is not valid (an English msgid), or None."""
    value = normalise_credit_code(value)
    if not CREDIT_PATTERN.match(value):
        return N_("A unified social credit code has 18 characters: digits and capital letters "
                  "other than I, O, Z, S and V.")
    if credit_check_char(value[:17]) != value[17]:
        return N_("The check character of this credit code is wrong; please check each character.")
    return None


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()（）]", "", value or "").replace("+86", "")


def phone_problem(value: str) -> str | None:
    """Why a phone number is not valid (an English msgid), or None."""
    value = normalise_phone(value)
    if MOBILE_PATTERN.match(value) or LANDLINE_PATTERN.match(value):
        return None
    return N_("Enter an 11-digit mobile number (such as 13800138000) or a landline with its "
              "area code (such as 0591-87654321).")
