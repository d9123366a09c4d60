"""Text that no database stores or no reader should see: a lone UTF-16 surrogate anywhere in
a JSON body is malformed JSON (it was a 500: the database driver cannot encode it), and text
fields refuse control characters and bidirectional overrides, while tabs, line breaks and
emoji (escaped as surrogate pairs by many clients) are text."""
import json

from alliance.checks import lone_surrogates, printable
from tests.api.merchant_support import MerchantApiTestCase

PATH = "/api/v1/merchant-applications"


class TextInputTest(MerchantApiTestCase):
    def post_raw(self, token: str, form: dict):
        # json.dumps escapes every non-ASCII character, surrogates included, as \uXXXX
        return self.api("POST", PATH, token=token, body=json.dumps(form).encode(),
                        headers={"Content-Type": "application/json"})

    def test_a_lone_surrogate_anywhere_in_the_body_is_malformed_json(self):
        token = self.token("boss")
        for form in (self.application(token, name="商户\ud800"),
                     self.application(token, intro="介绍\udfff"),
                     {**self.application(token), "x\ud83d": 1},
                     self.application(token, extra=[{"deep": ["\udc00"]}])):
            with self.subTest(form=repr(form)[:60]):
                response = self.post_raw(token, form)
                self.assert_error(response, 400, "MALFORMED_JSON")
                assert "surrogate" in response.json["error"]["details"]["reason"]

    def test_control_characters_and_overrides_in_a_name_are_refused(self):
        token = self.token("boss")
        for name in ("商户\x00", "商户\x1b[31m", "商户\u202e", "商户\u2066", "商户\x7f"):
            with self.subTest(name=repr(name)):
                response = self.post_raw(token, self.application(token, name=name))
                self.assert_error(response, 400, "VALIDATION_FAILED")
                assert response.json["error"]["details"] == {"field": "name",
                                                             "issue": "control characters"}

    def test_emoji_tabs_and_line_breaks_are_text(self):
        token = self.token("boss")
        response = self.post_raw(token, self.application(
            token, name="面馆 😀", intro="第一行\n第二行\t😀"))
        assert response.status == 201, response.body
        assert response.json["name"] == "面馆 😀"
        assert response.json["intro"] == "第一行\n第二行\t😀"


def test_printable_and_lone_surrogates():
    assert printable("面馆\t\r\n😀 a-b")
    assert not any(printable(f"a{c}b") for c in "\x00\x08\x0b\x1f\x7f\x85\u202a\u2069\ud800")
    assert not lone_surrogates({"a": ["b", {"c": "😀"}], "d": 1})
    assert lone_surrogates({"a": ["b", {"c": "\udc00"}]})
    assert lone_surrogates({"\ud800": 1})
