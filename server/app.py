"""make_app: the Tornado application with its adapters chosen once, from the settings."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import tornado.web
from tornado.ioloop import IOLoop, PeriodicCallback

import console

from alliance.accounts.codes import CodeLimits
from alliance.analytics import traffic
from alliance.accounts.tokens import TokenService
from alliance.coupons.claims import SOLD_OUT, SOLD_OUT_MEMORY_S
from alliance.db import init_db
from alliance.infra.localcache import InvalidationFeed
from alliance.members.member_code import MemberCodeSigner
from alliance.merchants.geoindex import GEO_INDEX, LIST_ENTRY_LIFETIMES
from alliance.merchants.queries import PUBLIC_DETAILS
from alliance.platform.settings import PUBLIC as PLATFORM_PUBLIC
from alliance.notifications.outbox import OutboxNotifier
from alliance.orders.context import OrderContext
from alliance.orders.wiring import install as install_orders
from alliance.protect import FieldProtector
from alliance.settlement.platform_commission import configure_platform_rate
from config.settings import Settings
from payments import make_gateways
from integrations.mail_smtp import SmtpMailer
from integrations.sms_aliyun import AliyunSms
from server import logs
from server.base import NotFoundHandler, dumps
from server.clients import ClientAddresses
from server.context import AppContext
from server.deliveries import PromptDelivery, make_channels
from server.openapi import build_document
from server.ratelimit import make_rate_limiter
from server.routes import api_routes, openapi_fragments
from server.routing import index_routes
from server.storage import make_storage
from wechat_handlers.api import make_wechat_clients
from wechat_handlers.miniapp import WechatMiniAppAuth
from wechat_handlers.qrcodes import WechatOaProfiles, WechatQrCodes

VERSION = "0.1.0"
SANDBOX_THREADS = 8
BACKUP_THREADS = 2  # a backup's writer and its heartbeat


def build_context(settings: Settings, executor: ThreadPoolExecutor | None = None) -> AppContext:
    """The adapters and services the handlers use, for these settings."""
    wechat_clients = make_wechat_clients(settings)
    miniapp_client = wechat_clients["miniapp"]
    oa_client = wechat_clients["official_account"]
    executor = executor or ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="worker")
    deliveries = ThreadPoolExecutor(settings.delivery_threads, thread_name_prefix="delivery")
    channels = make_channels(settings, wechat_clients)
    prompt_delivery = PromptDelivery(channels, deliveries)
    ctx = AppContext(
        settings=settings,
        executor=executor,
        tokens=TokenService(settings.secret_key, settings.access_token_ttl_s,
                            settings.refresh_token_ttl_s),
        wechat_auth=WechatMiniAppAuth(miniapp_client, settings.wechat_miniapp_appid),
        rate_limiter=make_rate_limiter(settings.redis_url),
        # After the commit that wrote a notification, the delivery process or a delivery
        # thread sends it at once (not a request worker: it waits on WeChat); the
        # scheduler's deliver_due picks up whatever that attempt did not finish.
        notifier=OutboxNotifier(dispatch=prompt_delivery),
        delivery_executor=deliveries,
        backup_executor=ThreadPoolExecutor(1, thread_name_prefix="backup"),
        qr_codes=WechatQrCodes(miniapp_client, oa_client),
        oa_profiles=WechatOaProfiles(oa_client),
        outbox_channels=channels,
        member_codes=MemberCodeSigner(settings.secret_key),
        sms=AliyunSms(settings.aliyun_sms_access_key_id, settings.aliyun_sms_access_key_secret,
                      settings.aliyun_sms_sign_name, settings.aliyun_sms_template_code,
                      settings.aliyun_sms_endpoint, settings.upstream_timeout_s),
        mailer=SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_security,
                          settings.smtp_user, settings.smtp_password, settings.smtp_from,
                          settings.upstream_timeout_s),
        code_limits=CodeLimits(settings.code_daily_limit_per_address,
                               settings.code_daily_limit_per_ip),
        storage=make_storage(settings),
        protector=FieldProtector(settings.secret_key),
        client_addresses=ClientAddresses(settings.trusted_proxies),
    )
    ctx.extras["wechat_clients"] = wechat_clients
    ctx.extras["views"] = traffic.ViewCounter()  # this process's detail page views
    ctx.extras["prompt_delivery"] = prompt_delivery
    PUBLIC_DETAILS.configure(settings.detail_cache_seconds)
    PLATFORM_PUBLIC.configure(settings.detail_cache_seconds)
    configure_platform_rate(settings.platform_commission_bp)
    SOLD_OUT.configure(SOLD_OUT_MEMORY_S if settings.detail_cache_seconds else 0)
    GEO_INDEX.configure(settings.detail_cache_seconds * LIST_ENTRY_LIFETIMES)
    # Bulk sends (merchant pushes) leave delivery to the scheduler's sweep
    # (notifications.deliver_outbox): thousands of messages never queue on the workers
    # that serve requests.
    ctx.extras["bulk_notifier"] = OutboxNotifier()
    ctx.extras["payment_gateways"] = make_gateways(settings)
    ctx.extras["orders"] = OrderContext(gateways=ctx.extras["payment_gateways"],
                                        notifier=ctx.notifier,
                                        miniapp_appid=settings.wechat_miniapp_appid,
                                        referral_reward_points=settings.referral_reward_points)
    install_orders(ctx.extras["orders"])
    return ctx


def start_cache_feed(executor: ThreadPoolExecutor, every_ms: int = 1000) -> PeriodicCallback:
    """Apply other processes' cache invalidations to this one's caches about once a second
    (alliance.infra.localcache), on a worker thread."""
    feed = InvalidationFeed()
    callback = PeriodicCallback(lambda: executor.submit(feed.poll_quietly), every_ms)
    callback.start()
    return callback


class TrafficFlush:
    """Adds this process's counted detail page views to the database about every
    ``every_ms``: the pending counts are taken on the event loop (where they are counted) and
    added on a worker thread; a batch that could not be added goes back to the counter."""

    def __init__(self, ctx: AppContext, every_ms: int = traffic.FLUSH_SECONDS * 1000) -> None:
        self.counter: traffic.ViewCounter = ctx.extras["views"]
        self.executor = ctx.executor
        self.loop = IOLoop.current()
        self.periodic = PeriodicCallback(self.tick, every_ms)

    def tick(self) -> Future | None:
        """On the event loop: hand the pending counts to a worker; its future, if any."""
        batch = self.counter.take()
        if not batch:
            return None

        def flushed(future: Future) -> None:  # on the worker thread
            if not future.result():
                self.loop.add_callback(self.counter.give_back, batch)

        future = self.executor.submit(traffic.flush, batch)
        future.add_done_callback(flushed)
        return future


def start_traffic_flush(ctx: AppContext,
                        every_ms: int = traffic.FLUSH_SECONDS * 1000) -> TrafficFlush:
    """The periodic flush of this process's view counts, started."""
    flush = TrafficFlush(ctx, every_ms)
    flush.periodic.start()
    return flush


def flush_traffic_now(ctx: AppContext) -> bool:
    """At shutdown, on the event loop: add the views counted since the last flush."""
    return traffic.flush(ctx.extras["views"].take())


def make_app(settings: Settings, executor: ThreadPoolExecutor | None = None,
             **tornado_settings) -> tornado.web.Application:
    """The application for ``settings``; binds the domain to ``settings.database_url``."""
    init_db(settings.database_url,
            settings.worker_threads + settings.delivery_threads + SANDBOX_THREADS
            + BACKUP_THREADS)
    routes = api_routes() + console.routes()
    extras: dict = {}
    if settings.is_sandbox:
        from sandbox.app import sandbox_routes, sandbox_extras

        extras = sandbox_extras(settings)
        routes += sandbox_routes()
        if settings.smtp_port == 0:  # mail goes to the sandbox's SMTP server, on its port
            settings = settings.replace(smtp_port=extras["mail_sandbox"].port)
    ctx = build_context(settings, executor)
    ctx.extras.update(extras)
    fragments, schemas = openapi_fragments()
    document = build_document(fragments, schemas, VERSION)
    app = tornado.web.Application(
        routes,
        ctx=ctx,
        openapi_json=dumps(document),
        openapi=document,
        default_handler_class=NotFoundHandler,
        log_function=logs.log_request,
        compress_response=False,
        **tornado_settings,
    )
    index_routes(app.wildcard_router)
    return app
