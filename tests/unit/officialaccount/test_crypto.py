"""Safe mode against WeChat's published sample, and replies that decrypt back."""
import pytest
from wechatpy import parse_message

from alliance.errors import ValidationFailed
from config.settings import Settings
from sandbox.oa_push import read_reply
from wechat_handlers.oa import OaSignatureInvalid, crypto_for, decrypt, to_inbound

# WeChat's documented sample (the message-encryption guide's "示例二").
SAMPLE = Settings(wechat_oa_token="QDG6eK", wechat_oa_appid="wx5823bf96d3bd56c7",
                  wechat_oa_aes_key="jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")
SAMPLE_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==")
SAMPLE_BODY = ("<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA["
               + SAMPLE_ENCRYPT + "]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>")
SAMPLE_QUERY = ("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149")


def test_wechat_sample_decrypts_to_its_text_message():
    xml = decrypt(crypto_for(SAMPLE), SAMPLE_BODY, *SAMPLE_QUERY)
    inbound = to_inbound(parse_message(xml))
    assert inbound.openid == "mycreate" and inbound.content == "hello"
    assert inbound.msg_id == 4561255354251345929 and inbound.create_time == 1409659813
    assert inbound.dedupe_key == "msg:4561255354251345929"


def test_wechat_sample_with_another_signature_is_refused():
    with pytest.raises(OaSignatureInvalid):
        decrypt(crypto_for(SAMPLE), SAMPLE_BODY, "0" * 40, *SAMPLE_QUERY[1:])


def test_wechat_sample_under_another_appid_is_refused():
    other = SAMPLE.replace(wechat_oa_appid="wx0000000000000000")
    with pytest.raises(OaSignatureInvalid):
        decrypt(crypto_for(other), SAMPLE_BODY, *SAMPLE_QUERY)


def test_body_without_ciphertext_is_a_validation_error():
    with pytest.raises(ValidationFailed):
        decrypt(crypto_for(SAMPLE), "<xml><ToUserName>x</ToUserName></xml>", *SAMPLE_QUERY)


def test_encrypted_reply_decrypts_back():
    crypto = crypto_for(SAMPLE)
    reply = ("<xml><ToUserName><![CDATA[mycreate]]></ToUserName><FromUserName><![CDATA[gh_1]]>"
             "</FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]>"
             "</MsgType><Content><![CDATA[你好，联盟]]></Content></xml>")
    encrypted = crypto.encrypt_message(reply, "1372623149", "1409659813")
    assert "你好" not in encrypted
    assert read_reply(SAMPLE, encrypted)["Content"] == "你好，联盟"


def test_subscribe_with_scene_becomes_subscribe_with_the_scene():
    xml = ("<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>5"
           "</CreateTime><MsgType>event</MsgType><Event>subscribe</Event>"
           "<EventKey>qrscene_r.ABCD2345</EventKey><Ticket>t</Ticket></xml>")
    inbound = to_inbound(parse_message(xml))
    assert (inbound.event, inbound.event_key) == ("subscribe", "r.ABCD2345")
    assert inbound.dedupe_key == "evt:o1:5:subscribe"
