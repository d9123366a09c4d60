"""Aliyun's RPC signature, checked against the example in Aliyun's SMS documentation."""
from integrations.sms_aliyun import AliyunSms, percent_encode, sign, string_to_sign

DOC_PARAMS = {
    "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
    "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_signature_matches_aliyuns_documented_example():
    assert sign("GET", DOC_PARAMS, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_signature_ignores_a_signature_parameter_and_depends_on_the_method():
    with_signature = {**DOC_PARAMS, "Signature": "anything"}
    assert sign("GET", with_signature, "testSecret") == sign("GET", DOC_PARAMS, "testSecret")
    assert sign("POST", DOC_PARAMS, "testSecret") != sign("GET", DOC_PARAMS, "testSecret")


def test_percent_encoding_is_rfc3986():
    assert percent_encode("a b*~+/") == "a%20b%2A~%2B%2F"
    assert string_to_sign("GET", {"A": "1"}) == "GET&%2F&A%3D1"


def test_signed_params_carry_a_fresh_nonce_and_a_utc_timestamp():
    sms = AliyunSms("id", "secret", "签名", "SMS_1", "https://dysmsapi.aliyuncs.com/", 5)
    first, second = sms.signed_params("13800138000", {"code": "123456"}), \
        sms.signed_params("13800138000", {"code": "123456"})
    assert first["SignatureNonce"] != second["SignatureNonce"]
    assert first["Timestamp"].endswith("Z") and first["TemplateParam"] == '{"code":"123456"}'
    assert first["Signature"] == sign("POST", first, "secret")
