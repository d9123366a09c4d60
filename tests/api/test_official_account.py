"""/wechat/oa as WeChat calls it: verification, plaintext and safe mode, events, retries."""
import base64
import hashlib
import time
from urllib.parse import urlencode

from alliance.db import db
from alliance.officialaccount.models import OaFollower, OaInboundMessage
from alliance.referrals.models import ReferralAttribution
from sandbox.oa_push import message_xml, read_reply, sign_callback
from tests.support import ApiTestCase

SAFE_MODE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


class OaCase(ApiTestCase):
    def callback(self, xml: str, **sign):
        params, body = sign_callback(self.settings, xml, **sign)
        return self.api("POST", "/wechat/oa?" + urlencode(params), body=body.encode(),
                        headers={"Content-Type": "text/xml"})

    def follower(self, name: str) -> str:
        return self.api("POST", "/_sandbox/wechat/_control/oa-users", {"name": name}).json["openid"]

    def add_rule(self, match: str, keyword: str, reply: str) -> None:
        token = self.operator_token("operator")
        response = self.api("POST", "/api/admin/v1/oa/auto-replies",
                            {"match": match, "keyword": keyword, "reply_text": reply}, token=token)
        assert response.status == 201, response.body

    def count(self, model, *where) -> int:
        with db.connection_context():
            return model.select().where(*where).count() if where else model.select().count()


class VerificationTest(OaCase):
    def test_echostr_with_valid_signature_is_answered_verbatim(self):
        params, _ = sign_callback(self.settings, "")
        response = self.api("GET", "/wechat/oa?" + urlencode({**params, "echostr": "8837462913"}))
        assert response.status == 200 and response.body == b"8837462913"
        assert response.headers["Content-Type"].startswith("text/plain")

    def test_echostr_with_bad_signature_is_forbidden(self):
        params, _ = sign_callback(self.settings, "")
        params["signature"] = "0" * 40
        response = self.api("GET", "/wechat/oa?" + urlencode({**params, "echostr": "1"}))
        self.assert_error(response, 403, "OA_SIGNATURE_INVALID")


class PlaintextModeTest(OaCase):
    def test_text_message_gets_the_operators_keyword_reply(self):
        self.add_rule("contains", "优惠", "本周联盟优惠：满100减20")
        openid = self.follower("alice")
        response = self.callback(message_xml(openid, int(time.time()), text="有什么优惠吗", msg_id=1001))
        assert response.status == 200
        reply = read_reply(self.settings, response.body.decode())
        assert reply["Content"] == "本周联盟优惠：满100减20"
        assert reply["ToUserName"] == openid and reply["MsgType"] == "text"

    def test_exact_keyword_wins_and_case_is_ignored(self):
        self.add_rule("contains", "vip", "包含回复")
        self.add_rule("exact", "VIP", "精确回复")
        response = self.callback(message_xml(self.follower("a"), int(time.time()), text="vip", msg_id=7))
        assert read_reply(self.settings, response.body.decode())["Content"] == "精确回复"

    def test_text_without_matching_rule_is_acknowledged_with_success(self):
        response = self.callback(message_xml(self.follower("a"), int(time.time()), text="你好", msg_id=8))
        assert response.status == 200 and response.body == b"success"

    def test_retried_message_is_answered_once_with_the_same_reply(self):
        self.add_rule("exact", "hi", "hello")
        xml = message_xml(self.follower("alice"), int(time.time()), text="hi", msg_id=42)
        first = self.callback(xml)
        self.add_rule("contains", "h", "changed in between")
        second = self.callback(xml)
        assert (read_reply(self.settings, first.body.decode())["Content"]
                == read_reply(self.settings, second.body.decode())["Content"] == "hello")
        assert self.count(OaInboundMessage) == 1

    def test_retried_event_is_handled_once(self):
        openid = self.follower("bob")
        xml = message_xml(openid, int(time.time()), event="unsubscribe")
        assert self.callback(xml).body == b"success"
        assert self.callback(xml).body == b"success"
        assert self.count(OaInboundMessage, OaInboundMessage.openid == openid) == 1

    def test_click_on_a_menu_key_gets_its_reply(self):
        self.add_rule("click", "MENU_HELP", "客服电话 400-000-0000")
        response = self.callback(message_xml(self.follower("a"), int(time.time()), event="CLICK",
                                             event_key="MENU_HELP"))
        assert read_reply(self.settings, response.body.decode())["Content"] == "客服电话 400-000-0000"

    def test_bad_signature_is_forbidden(self):
        params, body = sign_callback(self.settings, message_xml("o1", int(time.time()), text="x"))
        params["signature"] = "f" * 40
        response = self.api("POST", "/wechat/oa?" + urlencode(params), body=body.encode())
        self.assert_error(response, 403, "OA_SIGNATURE_INVALID")
        assert self.count(OaInboundMessage) == 0

    def test_stale_timestamp_is_forbidden(self):
        stale = int(time.time()) - 3600
        response = self.callback(message_xml("o1", stale, text="x"), timestamp=stale)
        self.assert_error(response, 403, "OA_SIGNATURE_INVALID")

    def test_malformed_xml_is_a_validation_error(self):
        response = self.callback("<xml><MsgType>text")
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_a_timestamp_of_other_digits_is_stale(self):
        # "²".isdigit() is true, int("²") raises.
        response = self.callback(message_xml("o1", int(time.time()), text="x"), timestamp="²")
        self.assert_error(response, 403, "OA_SIGNATURE_INVALID")

    def test_a_message_whose_fields_are_not_what_wechat_sends_is_a_validation_error(self):
        # In plaintext mode the signature does not cover the body: anyone replaying a signed
        # query may send these. Nested or repeated tags parse to dicts and lists.
        now = int(time.time())
        head = f"<ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName>"
        bodies = {
            "a time that is not a number": f"<xml>{head}<CreateTime>abc</CreateTime>"
                                           "<MsgType>text</MsgType><Content>x</Content></xml>",
            "a nested type": f"<xml>{head}<CreateTime>{now}</CreateTime>"
                             "<MsgType><a>1</a></MsgType></xml>",
            "an empty event": f"<xml>{head}<CreateTime>{now}</CreateTime>"
                              "<MsgType>event</MsgType><Event></Event></xml>",
            "nested text": f"<xml>{head}<CreateTime>{now}</CreateTime><MsgType>text</MsgType>"
                           "<Content><a>1</a></Content><MsgId>1</MsgId></xml>",
            "a repeated key": f"<xml>{head}<CreateTime>{now}</CreateTime><MsgType>event</MsgType>"
                              "<Event>CLICK</Event><EventKey>a</EventKey><EventKey>b</EventKey></xml>",
            "a nested scene": f"<xml>{head}<CreateTime>{now}</CreateTime><MsgType>event</MsgType>"
                              "<Event>subscribe</Event><EventKey><a>1</a></EventKey></xml>",
        }
        for what, xml in bodies.items():
            with self.subTest(what):
                self.assert_error(self.callback(xml), 400, "VALIDATION_FAILED")
        assert self.count(OaInboundMessage) == 0


class FollowEventsTest(OaCase):
    def test_follow_with_a_referral_scene_links_the_user_and_attributes_them(self):
        referrer = self.login("ref")
        code_scene = self.api("GET", "/api/v1/me/referral-qrcode?format=svg",
                              token=referrer["access_token"]).headers["X-Referral-Scene"]
        invitee = self.login("newbie")["user"]  # same person in the mini-program (unionid)
        self.add_rule("subscribe", "", "欢迎关注异业联盟")
        openid = self.follower("newbie")
        response = self.callback(message_xml(openid, int(time.time()), event="subscribe",
                                             event_key=f"qrscene_{code_scene}"))
        assert read_reply(self.settings, response.body.decode())["Content"] == "欢迎关注异业联盟"
        with db.connection_context():
            follower = OaFollower.get_by_id(openid)
            assert follower.user_id == invitee["id"] and follower.subscribed
            attribution = ReferralAttribution.get(ReferralAttribution.invitee == invitee["id"])
            assert attribution.referrer_id == referrer["user"]["id"]
            assert attribution.channel == "oa" and attribution.status == "bound"

    def test_follower_not_yet_in_the_mini_program_becomes_the_same_user_later(self):
        openid = self.follower("carol")
        self.callback(message_xml(openid, int(time.time()), event="subscribe", event_key=""))
        with db.connection_context():
            follower_user = OaFollower.get_by_id(openid).user_id
        assert follower_user is not None
        assert self.login("carol")["user"]["id"] == follower_user

    def test_scan_while_following_attributes_to_a_merchant_poster(self):
        from alliance.referrals.services import MERCHANT, code_for

        with db.connection_context():
            scene = "r." + code_for(MERCHANT, 77)
        user = self.login("dora")["user"]
        response = self.callback(message_xml(self.follower("dora"), int(time.time()),
                                             event="SCAN", event_key=scene))
        assert response.body == b"success"
        with db.connection_context():
            attribution = ReferralAttribution.get(ReferralAttribution.invitee == user["id"])
        assert attribution.source_kind == "merchant" and attribution.merchant_id == 77

    def test_unsubscribe_marks_the_follower(self):
        openid = self.follower("erin")
        self.callback(message_xml(openid, int(time.time()), event="subscribe", event_key=""))
        self.callback(message_xml(openid, int(time.time()) + 1, event="unsubscribe"))
        with db.connection_context():
            assert OaFollower.get_by_id(openid).subscribed is False

    def test_follow_still_answers_when_user_info_fails(self):
        self.api("POST", "/_sandbox/wechat/_control/faults", {"api": "user/info", "errcode": 45009})
        openid = self.follower("fay")
        response = self.callback(message_xml(openid, int(time.time()), event="subscribe", event_key=""))
        assert response.status == 200 and response.body == b"success"
        with db.connection_context():
            assert OaFollower.get_by_id(openid).user_id is None

    def test_sandbox_push_simulates_wechat(self):
        self.add_rule("exact", "帮助", "请拨打客服电话")
        response = self.api("POST", "/_sandbox/wechat/_control/oa-push", {"name": "gus", "text": "帮助"})
        assert response.json["status"] == 200 and response.json["reply"] == "请拨打客服电话"


class SafeModeTest(OaCase):
    env = {"WECHAT_OA_AES_KEY": SAFE_MODE_KEY}

    def test_encrypted_message_gets_an_encrypted_reply_that_decrypts_back(self):
        self.add_rule("exact", "积分", "您的积分可在任一联盟商户使用")
        response = self.callback(message_xml(self.follower("alice"), int(time.time()), text="积分", msg_id=9))
        assert response.status == 200
        body = response.body.decode()
        assert "<Encrypt>" in body and "积分" not in body
        assert read_reply(self.settings, body)["Content"] == "您的积分可在任一联盟商户使用"

    def test_encrypted_message_with_bad_msg_signature_is_forbidden(self):
        params, body = sign_callback(self.settings, message_xml("o1", int(time.time()), text="x"))
        params["msg_signature"] = "0" * 40
        response = self.api("POST", "/wechat/oa?" + urlencode(params), body=body.encode())
        self.assert_error(response, 403, "OA_SIGNATURE_INVALID")

    def test_a_plaintext_message_is_forbidden_in_safe_mode(self):
        params, _ = sign_callback(self.settings, "<xml/>")
        plain = {name: params[name] for name in ("signature", "timestamp", "nonce")}
        xml = message_xml(self.follower("alice"), int(time.time()), text="积分", msg_id=3)
        response = self.api("POST", "/wechat/oa?" + urlencode(plain), body=xml.encode())
        self.assert_error(response, 403, "OA_SIGNATURE_INVALID")
        assert self.count(OaInboundMessage) == 0

    def test_a_ciphertext_too_short_for_a_message_is_a_validation_error(self):
        # Signed as WeChat signs (msg_signature covers the ciphertext), but no message inside.
        timestamp, nonce, token = str(int(time.time())), "1234567", self.settings.wechat_oa_token
        for encrypt in (base64.b64encode(b"x" * 16).decode(), base64.b64encode(b"x" * 32).decode()):
            with self.subTest(encrypt=encrypt):
                params = {
                    "signature": hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()
                                              ).hexdigest(),
                    "timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes",
                    "msg_signature": hashlib.sha1("".join(sorted(
                        [token, timestamp, nonce, encrypt])).encode()).hexdigest()}
                body = f"<xml><ToUserName>gh_1</ToUserName><Encrypt>{encrypt}</Encrypt></xml>"
                response = self.api("POST", "/wechat/oa?" + urlencode(params), body=body.encode())
                self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_safe_mode_retry_is_answered_once(self):
        self.add_rule("exact", "hi", "hello")
        xml = message_xml(self.follower("a"), int(time.time()), text="hi", msg_id=5)
        first = read_reply(self.settings, self.callback(xml).body.decode())
        second = read_reply(self.settings, self.callback(xml).body.decode())
        assert first["Content"] == second["Content"] == "hello"
        assert self.count(OaInboundMessage) == 1


class SlowWechatTest(OaCase):
    def test_reply_leaves_within_the_budget_and_the_retry_gets_the_stored_reply(self):
        import wechat_handlers.oa as oa_module
        from alliance.ports import OaUserInfo

        class SlowProfiles:
            def user_info(self, openid):
                time.sleep(1.0)
                return OaUserInfo(openid=openid, unionid=None, subscribed=True)

        self.add_rule("subscribe", "", "欢迎")
        self.app.settings["ctx"].oa_profiles = SlowProfiles()
        budget, oa_module.REPLY_BUDGET_S = oa_module.REPLY_BUDGET_S, 0.3
        try:
            xml = message_xml(self.follower("slow"), int(time.time()), event="subscribe",
                              event_key="")
            started = time.monotonic()
            first = self.callback(xml)
            assert first.body == b"success" and time.monotonic() - started < 0.9
            time.sleep(2.0)  # the work goes on and commits
            retry = self.callback(xml)
            assert read_reply(self.settings, retry.body.decode())["Content"] == "欢迎"
            assert self.count(OaInboundMessage) == 1
        finally:
            oa_module.REPLY_BUDGET_S = budget
