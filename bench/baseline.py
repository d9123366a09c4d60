"""The baseline: a bare Tornado JSON handler, served the way ``python -m server`` serves.

    python -m bench.baseline --port P [--processes N]

Same Tornado, same one-socket ``fork_processes`` model, no database, no middleware: the
ceiling a Python handler on this machine can reach. Each scenario is reported as a ratio to it.
"""
from __future__ import annotations

import argparse
import asyncio

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.process import fork_processes


class HelloHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write({"hello": "world"})


async def _serve(sockets) -> None:
    server = HTTPServer(tornado.web.Application([(r"/", HelloHandler)]))
    server.add_sockets(sockets)
    await asyncio.Event().wait()  # until SIGTERM (the harness) ends the process


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    sockets = bind_sockets(args.port, args.host)
    if args.processes != 1:
        fork_processes(args.processes)
    asyncio.run(_serve(sockets))


if __name__ == "__main__":
    main()
