"""Reading back what a QR code or link carried: the referral code, and what a share card
shared."""
from alliance.referrals.scenes import read_scene, referral_code_of, share_link, share_scene

CODE = "ABCDEFGH"


def test_a_share_scene_refers_as_its_code_and_names_what_was_shared():
    assert share_scene(CODE, "campaign", 12) == "r.ABCDEFGH.c12"
    assert read_scene("r.ABCDEFGH.c12") == (CODE, ("campaign", 12))
    assert read_scene("qrscene_r.ABCDEFGH.g7") == (CODE, ("group_buy", 7))
    assert read_scene("r%2EABCDEFGH%2Ei3") == (CODE, ("item", 3))  # URL-encoded once
    assert read_scene("r.abcdefgh.m1234567890") == (CODE, ("merchant", 1234567890))
    assert referral_code_of("r.ABCDEFGH.c12") == CODE


def test_a_share_link_names_its_target_in_to():
    link = share_link("https://example.com/", CODE, "item", 5)
    assert link == "https://example.com/r/ABCDEFGH?to=i5"
    assert read_scene(link) == (CODE, ("item", 5))
    assert read_scene("https://example.com/r/ABCDEFGH") == (CODE, None)


def test_an_unknown_target_still_refers_and_anything_else_does_not():
    for scene in ("r.ABCDEFGH.x12", "r.ABCDEFGH.c0", "r.ABCDEFGH.c", "r.ABCDEFGH.c12345678901"):
        assert read_scene(scene) == (CODE, None), scene
    for scene in ("", "c12", "r.ABC.c12", "https://example.com/x/ABCDEFGH?to=c1", "r.ABCDEFGH1"):
        assert read_scene(scene) == (None, None), scene
