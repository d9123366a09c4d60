"""Shops as their staff manage them, and how consumers then find them."""
from tests.api.merchant_support import StaffedMerchantsTestCase

NEAR = {"lat": 31.2310, "lng": 121.4740}


class ShopTest(StaffedMerchantsTestCase):
    def setUp(self):
        super().setUp()
        self.owner = self.tokens["a-owner"]

    def _create(self, **fields):
        body = {"name": "新店", "address": "上海市黄浦区", **NEAR, **fields}
        return self.api("POST", "/api/v1/merchant/shops", body, token=self.owner)

    def test_new_shop_with_hours_logo_and_photos_is_found_nearby(self):
        logo = self.upload_id(self.owner, "logo")
        photo = self.upload_id(self.owner, "shop_photo")
        created = self._create(opening_hours={"mon": [["00:00", "24:00"]]}, logo_upload=logo,
                               photos=[photo], phone="021-12345678")
        assert created.status == 201, created.body
        shop = created.json
        assert shop["listed"] is True and shop["logo_url"] == f"/media/{logo}"
        assert shop["opening_hours"] == {"mon": [["00:00", "24:00"]]}
        nearby = self.api("GET", "/api/v1/merchants?lat=31.2310&lng=121.4740").json["items"]
        assert nearby[0]["id"] == self.ids["a"]["merchant"] and nearby[0]["distance_m"] == 0

    def test_closed_shop_is_not_listed(self):
        shop_id = self._create().json["id"]
        closed = self.api("PATCH", f"/api/v1/merchant/shops/{shop_id}", {"status": "closed"},
                          token=self.owner)
        assert closed.json["listed"] is False and closed.json["open_now"] is False

    def test_manager_keeps_photos_the_owner_uploaded(self):
        photo = self.upload_id(self.owner, "shop_photo")
        shop_id = self._create(photos=[photo]).json["id"]
        mine = self.upload_id(self.tokens["a-manager"], "shop_photo")
        edited = self.api("PATCH", f"/api/v1/merchant/shops/{shop_id}",
                          {"photos": [photo, mine]}, token=self.tokens["a-manager"])
        assert edited.status == 200 and edited.json["photos"] == [photo, mine]

    def test_bad_shop_fields_are_rejected_naming_the_field(self):
        for fields, field in (({"lat": 91}, "lat"), ({"lng": "east"}, "lng"),
                              ({"opening_hours": {"mon": [["9", "21"]]}}, "opening_hours"),
                              ({"name": ""}, "name"), ({"status": "gone"}, "status"),
                              ({"logo_upload": self.upload_id(self.tokens["b-owner"], "logo")},
                               "logo_upload")):
            response = self._create(**fields)
            self.assert_error(response, 400, "VALIDATION_FAILED")
            assert response.json["error"]["details"]["field"] == field

    def test_profile_intro_is_shown_to_consumers(self):
        response = self.api("PATCH", "/api/v1/merchant/profile", {"intro": "百年老店"},
                            token=self.owner)
        assert response.status == 200 and response.json["intro"] == "百年老店"
        detail = self.api("GET", f"/api/v1/merchants/{self.ids['a']['merchant']}").json
        assert detail["intro"] == "百年老店"
        self.assert_error(self.api("PATCH", "/api/v1/merchant/profile", {"contact_phone": "1"},
                                   token=self.owner), 400, "VALIDATION_FAILED")
