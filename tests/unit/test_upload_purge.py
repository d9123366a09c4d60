"""media.purge_unreferenced: an upload no column names goes once 30 days old, with its file;
one that any column names stays, however old."""
import datetime as dt
import json
import re

from peewee import CharField, TextField

from alliance.db import utcnow
from alliance.media import purge
from alliance.media.models import Upload
from alliance.models import ALL_MODELS, UPLOAD_REFERENCES
from alliance.orders.aftersale_models import Complaint
from server.storage import LocalDiskStorage
from tests.factories import make_item, make_merchant, make_shop, make_user

OLD = utcnow() - dt.timedelta(days=31)


def stored(storage, owner, name: str, created_at=OLD) -> Upload:
    key = storage.save(b"png-bytes-" + name.encode(), suffix=".png")
    upload_id = "u" + (name + "_" * 20)[:20]
    return Upload.create(id=upload_id, owner=owner, purpose="logo", storage_key=key,
                         content_type="image/png", size_bytes=10, created_at=created_at)


def test_old_uploads_nothing_names_go_with_their_files_and_the_rest_stay(database, tmp_path):
    storage = LocalDiskStorage(tmp_path)
    owner = make_user()
    merchant = make_merchant(owner=owner)
    up = {name: stored(storage, owner, name) for name in (
        "itemimage", "pendingimage", "licence", "shoplogo", "shopphoto", "complaintphoto",
        "abandoned", "replaced")}
    fresh = stored(storage, owner, "fresh", created_at=utcnow() - dt.timedelta(days=2))
    item = make_item(merchant)
    item.images = json.dumps([up["itemimage"].id])
    item.pending_changes = json.dumps({"images": [up["pendingimage"].id], "price_fen": 10})
    item.save()
    merchant.licence_upload = up["licence"].id
    merchant.save()
    shop = make_shop(merchant)
    shop.logo_upload, shop.photos = up["shoplogo"].id, json.dumps([up["shopphoto"].id])
    shop.save()
    Complaint.create(user_id=owner.id, merchant_id=merchant.id, category="service",
                     content="x", photos=json.dumps([up["complaintphoto"].id]))

    assert purge.purge_unreferenced(storage, UPLOAD_REFERENCES, dt.timedelta(days=30)) == 2
    left = {u.id for u in Upload.select()}
    gone = {up["abandoned"].id, up["replaced"].id}
    assert left == {u.id for u in up.values()} - gone | {fresh.id}
    for name, upload in up.items():
        present = (tmp_path / upload.storage_key).exists()
        assert present == (upload.id not in gone), name
    assert purge.purge_unreferenced(storage, UPLOAD_REFERENCES, dt.timedelta(days=30)) == 0


def test_every_column_that_can_name_an_upload_is_a_reference():
    # A column added for upload ids and not listed would see its images purged.
    named = re.compile(r"upload|photo|image|pending_changes")
    columns = {(model.__name__, field.name) for model in ALL_MODELS if model is not Upload
               for field in model._meta.sorted_fields
               if isinstance(field, (CharField, TextField)) and named.search(field.name)}
    listed = {(field.model.__name__, field.name) for field in UPLOAD_REFERENCES}
    assert columns == listed
