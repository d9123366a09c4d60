"""The HTTP under wechatpy's requests Session: http.client on kept connections.

For a small JSON call to a nearby API, requests and urllib3 cost several times the call
itself (measured on the bench's machine: 1.15 ms of CPU per subscribe message through them,
0.27 ms through http.client; every payment sends one). wechatpy talks only to a
``requests.Session``, so a Session it stays:

- ``KeptConnectionAdapter``, its transport, sends a prepared request over an
  ``http.client`` connection kept per thread and origin and answers a ``requests.Response``
  with the body read. It raises requests' own exceptions (ConnectTimeout, ReadTimeout,
  ConnectionError), so wechatpy and its callers see what they saw. A connection the server
  closed while it sat idle is noticed before it is reused (as urllib3 does); nothing is
  sent twice.
- ``KeptConnectionSession`` reads the environment's proxy and CA settings once per origin,
  and sends a plain call (bytes or JSON, no files, cookies, auth, hooks, proxy or client
  certificate) to that adapter without requests' preparation of every header, cookie and
  hook; redirects are followed by requests as before.

Whatever is not plain goes through requests' own machinery (``HTTPAdapter`` for the
transport).
"""
from __future__ import annotations

import http.client
import os
import re
import select
import socket
import ssl
import threading
import zlib

from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.compat import json as complexjson
from requests.cookies import RequestsCookieJar
from requests.hooks import default_hooks
from requests.models import PreparedRequest, RequestEncodingMixin
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

# Only what ``_response`` decodes is asked for (requests would also offer br and zstd when
# their modules are installed).
ACCEPT_ENCODING = "gzip, deflate"
# A URL sent as it is: requests would quote spaces and encode a non-ASCII host.
_PLAIN_URL = re.compile(r"https?://[\x21-\x7e]+\Z")
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS,
             "deflate": zlib.MAX_WBITS}


class _Consumed:
    """``Response.raw`` of an answer whose body was read whole: nothing left to read."""

    def read(self, *args, **kwargs) -> bytes:
        return b""

    def stream(self, *args, **kwargs):
        return iter(())

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        pass


class KeptConnectionAdapter(BaseAdapter):
    """A requests transport adapter over ``http.client``, one kept connection per thread and
    origin; ``timeout`` when the call names none."""

    def __init__(self, timeout: float):
        super().__init__()
        self._timeout = timeout
        self._local = threading.local()
        self._fallback = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
        self._ssl_contexts: dict = {}

    # -- requests' adapter interface ---------------------------------------------------------
    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        if timeout is None:
            timeout = self._timeout
        if (stream or cert or any(proxies.values() if proxies else ())
                or not isinstance(request.body, (bytes, type(None)))):
            return self._fallback.send(request, stream=stream, timeout=timeout, verify=verify,
                                       cert=cert, proxies=proxies)
        connect_timeout, read_timeout = (timeout if isinstance(timeout, tuple)
                                         else (timeout, timeout))
        parts = urlsplit(request.url)
        origin = (parts.scheme, parts.hostname, parts.port, verify)
        conn = self._connection(origin, connect_timeout, request)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            conn.sock.settimeout(read_timeout)
            conn.putrequest(request.method, path, skip_host="Host" in request.headers,
                            skip_accept_encoding=True)
            for name, value in request.headers.items():
                if name.lower() != "accept-encoding":
                    conn.putheader(name, value)
            conn.putheader("Accept-Encoding", ACCEPT_ENCODING)
            if request.body is not None and "Content-Length" not in request.headers:
                conn.putheader("Content-Length", str(len(request.body)))
            conn.endheaders(request.body)
            answer = conn.getresponse()
            body = answer.read()
        except socket.timeout as exc:
            self._drop(origin)
            raise requests.exceptions.ReadTimeout(exc, request=request) from None
        except (OSError, http.client.HTTPException) as exc:
            self._drop(origin)
            raise requests.exceptions.ConnectionError(exc, request=request) from None
        if answer.will_close:
            self._drop(origin)
        return self._response(request, answer, body)

    def close(self) -> None:
        """Close the calling thread's kept connections (another thread's close with it)."""
        for conn in getattr(self._local, "connections", {}).values():
            conn.close()
        self._local.connections = {}
        self._fallback.close()

    # -- connections -------------------------------------------------------------------------
    def _connection(self, origin: tuple, connect_timeout, request) -> http.client.HTTPConnection:
        connections = getattr(self._local, "connections", None)
        if connections is None:
            connections = self._local.connections = {}
        conn = connections.get(origin)
        if conn is not None and _dropped(conn):
            conn.close()
            conn = None
        if conn is None:
            scheme, host, port, verify = origin
            if scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout,
                                                   context=self._ssl_context(verify))
            else:
                conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
            try:
                conn.connect()
            except socket.timeout as exc:
                raise requests.exceptions.ConnectTimeout(exc, request=request) from None
            except ssl.SSLError as exc:
                raise requests.exceptions.SSLError(exc, request=request) from None
            except OSError as exc:
                raise requests.exceptions.ConnectionError(exc, request=request) from None
            connections[origin] = conn
        return conn

    def _drop(self, origin: tuple) -> None:
        conn = self._local.connections.pop(origin, None)
        if conn is not None:
            conn.close()

    def _ssl_context(self, verify) -> ssl.SSLContext:
        context = self._ssl_contexts.get(verify)
        if context is None:
            if verify is False:
                context = ssl._create_unverified_context()
            else:
                from requests.utils import DEFAULT_CA_BUNDLE_PATH

                bundle = verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE_PATH
                context = (ssl.create_default_context(capath=bundle) if os.path.isdir(bundle)
                           else ssl.create_default_context(cafile=bundle))
            self._ssl_contexts[verify] = context
        return context

    def _response(self, request, answer: http.client.HTTPResponse,
                  body: bytes) -> requests.Response:
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        headers = CaseInsensitiveDict()
        for name, value in answer.getheaders():  # a repeated header joined, as urllib3 does
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        response.headers = headers
        coding = (response.headers.get("Content-Encoding") or "").strip().lower()
        if coding in _DECODERS and body:
            try:
                body = zlib.decompress(body, _DECODERS[coding])
            except zlib.error as exc:
                raise requests.exceptions.ContentDecodingError(exc, request=request) from None
        response._content = body
        response._content_consumed = True
        response.raw = _Consumed()
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = request.url
        response.request = request
        response.connection = self
        return response


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether a kept connection can no longer be used: the server closed it while it sat
    idle (its socket reads as ready: the end of the stream, or bytes nobody asked for)."""
    if conn.sock is None:
        return True
    try:
        return bool(select.select([conn.sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class KeptConnectionSession(requests.Session):
    """A requests Session whose plain calls go straight to its ``KeptConnectionAdapter``
    (see the module's docstring), and which reads the environment's proxy and CA settings
    once per origin: requests scans the whole environment (``*_proxy``, ``no_proxy``, the
    CA bundle variables) for every request, and a server's environment does not change
    while it runs."""

    def __init__(self):
        super().__init__()
        self._environment: dict[tuple, dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())), stream,
               verify, cert if not isinstance(cert, list) else tuple(cert))
        settings = self._environment.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._environment[key] = settings
        return dict(settings, proxies=dict(settings["proxies"]))

    def request(self, method, url, params=None, data=None, headers=None, cookies=None,
                files=None, auth=None, timeout=None, allow_redirects=True, proxies=None,
                hooks=None, stream=None, verify=None, cert=None, json=None):
        adapter = self._plain_adapter(url, data, json, files, cookies, auth, hooks, stream,
                                      verify, cert, proxies)
        settings = adapter and self.merge_environment_settings(url, {}, None, None, None)
        if adapter is None or settings["proxies"]:
            return super().request(method, url, params=params, data=data, headers=headers,
                                   cookies=cookies, files=files, auth=auth, timeout=timeout,
                                   allow_redirects=allow_redirects, proxies=proxies,
                                   hooks=hooks, stream=stream, verify=verify, cert=cert,
                                   json=json)
        request = PreparedRequest()
        request.method = method.upper()
        request.url = url
        if params:
            encoded = RequestEncodingMixin._encode_params(params)
            if encoded:
                request.url += ("&" if "?" in url else "?") + encoded
        request.headers = CaseInsensitiveDict(self.headers)
        if json is not None:
            data = complexjson.dumps(json, allow_nan=False).encode("utf-8")
            request.headers["Content-Type"] = "application/json"
        request.headers.update(headers or {})
        request.body = data
        if data is not None:
            request.headers["Content-Length"] = str(len(data))
        elif request.method not in ("GET", "HEAD"):
            request.headers["Content-Length"] = "0"
        request.hooks = default_hooks()
        request._cookies = RequestsCookieJar()
        kwargs = {"timeout": timeout, "verify": settings["verify"]}
        response = adapter.send(request, **kwargs)
        if allow_redirects and response.is_redirect:
            history = [response, *self.resolve_redirects(response, request, **kwargs)]
            response = history.pop()
            response.history = history
        return response

    def _plain_adapter(self, url, data, json, files, cookies, auth, hooks, stream, verify,
                       cert, proxies) -> "KeptConnectionAdapter | None":
        """The adapter to send a plain call to directly; None when the call is not plain."""
        if (files or cookies or auth or hooks or stream or verify is not None or cert
                or proxies or self.auth or self.cookies or self.cert or self.proxies
                or any(self.hooks.values()) or self.verify is not True
                or not isinstance(data, (bytes, type(None))) or (data and json is not None)
                or not _PLAIN_URL.match(url)):
            return None
        adapter = self.get_adapter(url)
        return adapter if isinstance(adapter, KeptConnectionAdapter) else None
