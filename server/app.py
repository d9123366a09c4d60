"""make_app: the Tornado application with its adapters chosen once, from the settings."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import tornado.web

import console

from alliance.accounts.tokens import TokenService
from alliance.db import init_db
from alliance.members.member_code import MemberCodeSigner
from alliance.notifications.outbox import OutboxNotifier
from alliance.orders.context import OrderContext
from alliance.orders.wiring import install as install_orders
from config.settings import Settings
from payments import make_gateways
from server import logs
from server.base import NotFoundHandler, dumps
from server.context import AppContext
from server.openapi import build_document
from server.ratelimit import make_rate_limiter
from server.routes import api_routes, openapi_fragments
from wechat_handlers.api import make_client, make_session_storage
from wechat_handlers.miniapp import WechatMiniAppAuth

VERSION = "0.1.0"
SANDBOX_THREADS = 8


def build_context(settings: Settings, executor: ThreadPoolExecutor | None = None) -> AppContext:
    """The adapters and services the handlers use, for these settings."""
    storage = make_session_storage(settings.redis_url)
    miniapp_client = make_client(settings.wechat_miniapp_appid, settings.wechat_miniapp_secret,
                                 settings.wechat_api_base, settings.upstream_timeout_s, storage)
    ctx = AppContext(
        settings=settings,
        executor=executor or ThreadPoolExecutor(settings.worker_threads,
                                                thread_name_prefix="worker"),
        tokens=TokenService(settings.secret_key, settings.access_token_ttl_s,
                            settings.refresh_token_ttl_s),
        wechat_auth=WechatMiniAppAuth(miniapp_client, settings.wechat_miniapp_appid),
        rate_limiter=make_rate_limiter(settings.redis_url),
        notifier=OutboxNotifier(),
        member_codes=MemberCodeSigner(settings.secret_key),
    )
    ctx.extras["wechat_client"] = miniapp_client
    ctx.extras["payment_gateways"] = make_gateways(settings)
    ctx.extras["orders"] = OrderContext(gateways=ctx.extras["payment_gateways"],
                                        notifier=ctx.notifier,
                                        miniapp_appid=settings.wechat_miniapp_appid)
    install_orders(ctx.extras["orders"])
    return ctx


def make_app(settings: Settings, executor: ThreadPoolExecutor | None = None,
             **tornado_settings) -> tornado.web.Application:
    """The application for ``settings``; binds the domain to ``settings.database_url``."""
    init_db(settings.database_url, settings.worker_threads + SANDBOX_THREADS)
    ctx = build_context(settings, executor)
    routes = api_routes() + console.routes()
    if settings.is_sandbox:
        from sandbox.app import sandbox_routes, sandbox_extras

        ctx.extras.update(sandbox_extras(settings))
        routes += sandbox_routes()
    fragments, schemas = openapi_fragments()
    document = build_document(fragments, schemas, VERSION)
    return tornado.web.Application(
        routes,
        ctx=ctx,
        openapi_json=dumps(document),
        openapi=document,
        default_handler_class=NotFoundHandler,
        log_function=logs.log_request,
        compress_response=False,
        **tornado_settings,
    )
