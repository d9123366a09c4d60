"""The demo data's official account answers as promised."""
from sandbox.demo import load
from tests.support import ApiTestCase


class DemoOfficialAccountTest(ApiTestCase):
    def test_demo_auto_replies_answer_followers(self):
        assert load(self.settings) is True
        welcome = self.api("POST", "/_sandbox/wechat/_control/oa-push",
                           {"name": "visitor", "event": "subscribe"}).json
        assert welcome["status"] == 200 and "异业联盟" in welcome["reply"]
        offer = self.api("POST", "/_sandbox/wechat/_control/oa-push",
                         {"name": "visitor", "text": "有优惠吗"}).json
        assert "满 50 减 10" in offer["reply"]
        assert load(self.settings) is False  # not into a database that has data
