"""server.clients: the client's address is the peer's unless the peer is a trusted proxy."""
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

from server.clients import ClientAddresses


def request(peer: str, **headers: str) -> HTTPServerRequest:
    made = HTTPServerRequest(start_line=RequestStartLine("GET", "/", "HTTP/1.1"),
                             headers=HTTPHeaders({"Host": "example.com", **{
                                 name.replace("_", "-"): value
                                 for name, value in headers.items()}}))
    made.remote_ip = peer
    return made


def test_a_trusted_proxy_names_the_client_by_x_real_ip_else_the_last_forwarded_for():
    addresses = ClientAddresses(("10.0.0.0/8", "::1"))
    assert addresses.of(request("10.1.2.3", X_Real_Ip="203.0.113.7")) == "203.0.113.7"
    assert addresses.of(request("::1", X_Forwarded_For="198.51.100.1, 203.0.113.8")) == \
        "203.0.113.8"
    assert addresses.of(request("10.1.2.3")) == "10.1.2.3"
    assert addresses.of(request("10.1.2.3", X_Real_Ip="not an address")) == "10.1.2.3"


def test_any_other_peer_is_the_client_whatever_it_says():
    addresses = ClientAddresses(("10.0.0.0/8",))
    assert addresses.of(request("203.0.113.9", X_Real_Ip="10.0.0.1")) == "203.0.113.9"
    assert ClientAddresses(()).of(request("127.0.0.1", X_Real_Ip="1.2.3.4")) == "127.0.0.1"
