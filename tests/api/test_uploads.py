"""Image uploads: type by magic bytes, size limit, public and private serving."""
import io
import os
import time

from PIL import Image

from tests.api.merchant_support import MerchantApiTestCase
from tests.support import multipart, png_bytes


class UploadTest(MerchantApiTestCase):
    def test_image_upload_answers_an_id_and_a_public_url(self):
        response = self.upload(self.token(), "item_image")
        assert response.status == 201
        assert response.json["content_type"] == "image/png"
        served = self.api("GET", response.json["url"])
        assert served.status == 200 and served.body == png_bytes()
        assert served.headers["Content-Type"] == "image/png"

    def test_non_image_upload_is_rejected(self):
        response = self.upload(self.token(), "licence", b"%PDF-1.7 not an image at all")
        self.assert_error(response, 415, "UNSUPPORTED_FILE_TYPE")
        assert response.json["error"]["details"]["field"] == "file"

    def test_file_with_image_magic_that_does_not_decode_is_rejected(self):
        response = self.upload(self.token(), "logo", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        self.assert_error(response, 415, "UNSUPPORTED_FILE_TYPE")

    def test_unknown_purpose_is_rejected(self):
        self.assert_error(self.upload(self.token(), "selfie"), 400, "VALIDATION_FAILED")

    def test_missing_file_is_rejected(self):
        body, headers = multipart({"purpose": "logo"}, {})
        response = self.api("POST", "/api/v1/uploads", body=body, headers=headers,
                            token=self.token())
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_upload_needs_a_login(self):
        body, headers = multipart({"purpose": "logo"}, {"file": ("a.png", png_bytes())})
        self.assert_error(self.api("POST", "/api/v1/uploads", body=body, headers=headers),
                          401, "UNAUTHENTICATED")

    def test_private_image_needs_a_valid_signed_link(self):
        response = self.upload(self.token(), "id_card")
        assert "sig=" in response.json["url"]
        assert self.api("GET", response.json["url"]).status == 200
        self.assert_error(self.api("GET", f"/media/{response.json['id']}"), 403,
                          "MEDIA_LINK_INVALID")
        forged = response.json["url"].replace("sig=", "sig=0")
        self.assert_error(self.api("GET", forged), 403, "MEDIA_LINK_INVALID")
        expired = f"/media/{response.json['id']}?exp={int(time.time()) - 1}&sig=00"
        self.assert_error(self.api("GET", expired), 403, "MEDIA_LINK_INVALID")

    def test_an_image_declaring_more_pixels_than_any_photo_is_refused(self):
        # 20000 x 20000 one-bit pixels: a few KB of PNG that every viewer would decode.
        out = io.BytesIO()
        Image.new("1", (20000, 20000)).save(out, "PNG")
        assert len(out.getvalue()) < 100_000
        response = self.upload(self.token(), "logo", out.getvalue())
        self.assert_error(response, 413, "UPLOAD_TOO_LARGE")
        assert response.json["error"]["details"]["max_pixels"] == 64_000_000

    def test_a_signed_link_whose_expiry_or_signature_is_not_ascii_is_refused(self):
        upload_id = self.upload(self.token(), "id_card").json["id"]
        future = int(time.time()) + 60
        for query in (f"exp=²&sig=00", f"exp={'9' * 5000}&sig=00",
                      f"exp={future}&sig=%C3%A9{'a' * 63}"):
            with self.subTest(query=query[:40]):
                self.assert_error(self.api("GET", f"/media/{upload_id}?{query}"), 403,
                                  "MEDIA_LINK_INVALID")

    def test_an_upload_repeated_with_its_idempotency_key_is_stored_once(self):
        # A retry is framed anew (another boundary): the same fields and file are the same
        # request; another file under the same key is not.
        token, headers = self.token(), {"Idempotency-Key": "upload-1"}
        answers = []
        for boundary in ("first-boundary", "retry-boundary"):
            body, framing = multipart({"purpose": "logo"}, {"file": ("a.png", png_bytes())},
                                      boundary=boundary)
            answers.append(self.api("POST", "/api/v1/uploads", body=body,
                                    headers={**framing, **headers}, token=token))
        assert [a.status for a in answers] == [201, 201]
        assert answers[1].json == answers[0].json
        assert answers[1].headers["Idempotent-Replayed"] == "true"
        other, framing = multipart({"purpose": "logo"},
                                   {"file": ("a.png", png_bytes(colour=(1, 2, 3)))})
        self.assert_error(self.api("POST", "/api/v1/uploads", body=other,
                                   headers={**framing, **headers}, token=token),
                          422, "IDEMPOTENCY_KEY_REUSED")
        from alliance.db import connection
        from alliance.media.models import Upload

        with connection():
            assert Upload.select().count() == 1

    def test_unknown_media_is_not_found(self):
        self.assert_error(self.api("GET", "/media/uNoSuchUpload0000"), 404, "UPLOAD_NOT_FOUND")


class UploadDailyLimitTest(MerchantApiTestCase):
    env = {"ALLIANCE_UPLOAD_DAILY_BYTES": str(2 * len(png_bytes()) + 10)}

    def test_an_account_cannot_upload_past_its_daily_bytes(self):
        token = self.token()
        assert [self.upload(token, "logo").status for _ in range(2)] == [201, 201]
        refused = self.upload(token, "logo")
        self.assert_error(refused, 429, "RATE_LIMITED")
        assert refused.json["error"]["details"]["limit_bytes_per_day"] == 2 * len(png_bytes()) + 10
        assert refused.headers["Retry-After"] == "3600"
        assert self.upload(self.token("someone-else"), "logo").status == 201  # per account


class UploadLimitTest(MerchantApiTestCase):
    env = {"ALLIANCE_MAX_UPLOAD_BYTES": "2000"}

    def test_image_over_the_size_limit_is_rejected(self):
        buffer = io.BytesIO()
        Image.frombytes("L", (100, 100), os.urandom(10_000)).save(buffer, format="PNG")
        response = self.upload(self.token(), "logo", buffer.getvalue())
        self.assert_error(response, 413, "UPLOAD_TOO_LARGE")
        assert response.json["error"]["details"]["limit_bytes"] == 2000
