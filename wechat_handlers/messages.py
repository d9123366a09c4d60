"""MessageSender over wechatpy: mini-program subscribe messages and official-account
template messages, with WeChat's refusals sorted into permanent and transient."""
from __future__ import annotations

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from alliance.ports import SendFailed
from wechat_handlers.api import WECHAT_ORIGIN

# Refusals that will not change by retrying: user declined or quota of consent used
# (43101), bad openid (40003), not a follower (43004), bad template id (40037), bad data
# (47003), page missing or not released (41030).
PERMANENT = frozenset({43101, 40003, 43004, 40037, 47003, 41030})


class WechatMessageSender:
    def __init__(self, miniapp: WeChatClient, oa: WeChatClient, miniapp_appid: str):
        self._miniapp = miniapp
        self._oa = oa
        self._miniapp_appid = miniapp_appid

    def send_subscribe(self, openid: str, template_id: str, data: dict[str, str],
                       page: str | None) -> None:
        body = {"touser": openid, "template_id": template_id,
                "data": {key: {"value": value} for key, value in data.items()}}
        if page:
            body["page"] = page
        self._send(self._miniapp, "cgi-bin/message/subscribe/send", body)

    def send_template(self, openid: str, template_id: str, data: dict[str, str], *,
                      miniprogram_page: str | None, client_msg_id: str) -> None:
        body = {"touser": openid, "template_id": template_id, "client_msg_id": client_msg_id,
                "data": {key: {"value": value} for key, value in data.items()}}
        if miniprogram_page:
            body["miniprogram"] = {"appid": self._miniapp_appid, "pagepath": miniprogram_page}
        self._send(self._oa, "cgi-bin/message/template/send", body)

    @staticmethod
    def _send(client: WeChatClient, path: str, body: dict) -> None:
        try:
            client.post(WECHAT_ORIGIN + path, data=body)
        except WeChatClientException as exc:
            if exc.errcode is None:  # an HTTP error status: the platform is having trouble
                raise SendFailed("http", str(exc.response.status_code if exc.response is not None
                                             else ""), permanent=False) from None
            raise SendFailed(str(exc.errcode), str(exc.errmsg or ""),
                             permanent=exc.errcode in PERMANENT) from None
        except requests.RequestException as exc:
            raise SendFailed("network", type(exc).__name__, permanent=False) from None
