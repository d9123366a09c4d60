"""Tables of the official account's followers, handled callbacks and auto-replies."""
from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from alliance.accounts.models import User
from alliance.db import BaseModel, UTCDateTimeField, utcnow


class OaFollower(BaseModel):
    """A follower (or former follower) of the official account, linked to a user by unionid."""

    openid = CharField(max_length=64, primary_key=True)
    unionid = CharField(max_length=64, null=True, index=True)
    user = ForeignKeyField(User, null=True, backref="oa_followers", on_delete="SET NULL")
    subscribed = BooleanField(default=True)
    first_scene = CharField(max_length=64, null=True)
    subscribed_at = UTCDateTimeField(null=True)
    unsubscribed_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)


class OaInboundMessage(BaseModel):
    """A callback handled once: WeChat's retries find it here and get the same reply."""

    dedupe_key = CharField(max_length=191, primary_key=True)
    openid = CharField(max_length=64, index=True)
    kind = CharField(max_length=32)  # text | event:subscribe | event:scan | ...
    reply = TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow, index=True)


class OaAutoReply(BaseModel):
    """An operator's automatic reply: to a keyword (exact or contained), a menu key, or a
    new follower."""

    id = AutoField()
    match = CharField(max_length=16)  # exact | contains | click | subscribe
    keyword = CharField(max_length=64, default="")
    reply_text = TextField()
    enabled = BooleanField(default=True)
    priority = IntegerField(default=0)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("match", "keyword"), True),)


def _register() -> None:
    from alliance.accounts.merge import register_user_data

    register_user_data(
        "oa_followers", models=(OaFollower,),
        move=lambda source_id, target_id: (OaFollower.update(user=target_id)
                                           .where(OaFollower.user == source_id).execute()),
        # The openid is personal data: a deleted account's follower rows go with it.
        erase=lambda user_id: OaFollower.delete().where(OaFollower.user == user_id).execute())


_register()
