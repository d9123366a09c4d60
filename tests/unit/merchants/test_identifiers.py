import pytest

from alliance.merchants.identifiers import (InvalidCreditCode, InvalidIdNumber, mask_id_number,
                                            normalize_credit_code, normalize_id_number)


def test_credit_code_with_right_check_character_is_accepted():
    assert normalize_credit_code("91350100m000100y43") == "91350100M000100Y43"


@pytest.mark.parametrize("code, issue", [
    ("91350100M000100Y44", "check character"),
    ("91350100M000100Y4", "format"),
    ("91350100M00010OY43", "format"),  # O is not in the GB 32100 character set
    ("", "format"),
])
def test_credit_code_errors_name_the_issue(code, issue):
    with pytest.raises(InvalidCreditCode) as error:
        normalize_credit_code(code)
    assert error.value.code == "INVALID_CREDIT_CODE" and error.value.http_status == 400
    assert error.value.details["issue"] == issue


def test_id_number_with_right_check_digit_is_accepted():
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("number, issue", [
    ("110105194912310021", "check digit"),
    ("11010519491331002X", "birth date"),
    ("1101051949123100", "format"),
    ("11010519491231002Y", "format"),
])
def test_id_number_errors_name_the_issue(number, issue):
    with pytest.raises(InvalidIdNumber) as error:
        normalize_id_number(number)
    assert error.value.code == "INVALID_ID_NUMBER"
    assert error.value.details["issue"] == issue


def test_mask_shows_only_the_ends():
    assert mask_id_number("11010519491231002X") == "11**************2X"
