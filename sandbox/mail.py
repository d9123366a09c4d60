"""A mailbox for sandbox mode: a small SMTP server on loopback, and its messages over HTTP.

It speaks enough of SMTP (RFC 5321) for any client, smtplib included: EHLO/HELO, AUTH
PLAIN and LOGIN (the sandbox's SMTP_USER/SMTP_PASSWORD; mail is refused without them),
MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT. What it receives is stored, one row
per recipient, and readable at ``GET /_sandbox/mail/messages?to=``.
"""
from __future__ import annotations

import base64
import email
import email.policy
import re

from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError, UnsatisfiableReadError
from tornado.netutil import bind_sockets
from tornado.tcpserver import TCPServer

from alliance.clock import to_local_iso
from alliance.db import transaction
from sandbox.base import SandboxHandler
from sandbox.models import SandboxMailMessage

HOSTNAME = "sandbox.alliance.test"
MAX_LINE = 4096
MAX_MESSAGE = 10 * 1024 * 1024
_ADDRESS = re.compile(r"^(?:FROM|TO):\s*<([^>]*)>", re.IGNORECASE)


def store(mail_from: str, recipients: list[str], raw: bytes) -> None:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content().replace("\r\n", "\n") if body is not None else ""
    with transaction():
        for rcpt in recipients:
            SandboxMailMessage.create(mail_from=mail_from, rcpt_to=rcpt.lower(),
                                      subject=str(message.get("Subject", "")), text=text,
                                      raw=raw.decode("utf-8", "replace"))


def messages(to: str | None, limit: int = 50) -> list[dict]:
    query = SandboxMailMessage.select().order_by(SandboxMailMessage.id.desc()).limit(limit)
    if to:
        query = query.where(SandboxMailMessage.rcpt_to == to.strip().lower())
    return [{"from": m.mail_from, "to": m.rcpt_to, "subject": m.subject, "text": m.text,
             "received_at": to_local_iso(m.created_at)} for m in query]


class _Session:
    def __init__(self, server: "SandboxSmtpServer", stream: IOStream):
        self.server, self.stream = server, stream
        self.authenticated = False
        self.mail_from: str | None = None
        self.recipients: list[str] = []

    async def reply(self, text: str) -> None:
        await self.stream.write(text.encode() + b"\r\n")

    async def readline(self) -> str:
        line = await self.stream.read_until(b"\r\n", max_bytes=MAX_LINE)
        return line[:-2].decode("utf-8", "replace")

    async def run(self) -> None:
        await self.reply(f"220 {HOSTNAME} ESMTP sandbox")
        while True:
            verb, _, arg = (await self.readline()).partition(" ")
            handler = getattr(self, f"do_{verb.upper()}", None)
            if handler is None:
                await self.reply("502 5.5.2 Command not recognized")
            elif await handler(arg.strip()) is False:
                return

    async def do_EHLO(self, arg: str):
        self.mail_from, self.recipients = None, []
        await self.reply(f"250-{HOSTNAME}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                         f"250 AUTH PLAIN LOGIN")

    async def do_HELO(self, arg: str):
        self.mail_from, self.recipients = None, []
        await self.reply(f"250 {HOSTNAME}")

    async def do_AUTH(self, arg: str):
        mechanism, _, initial = arg.partition(" ")
        try:
            if mechanism.upper() == "PLAIN":
                if not initial:
                    await self.reply("334 ")
                    initial = await self.readline()
                _, user, password = base64.b64decode(initial).decode().split("\x00")
            elif mechanism.upper() == "LOGIN":
                if not initial:
                    await self.reply("334 " + base64.b64encode(b"Username:").decode())
                    initial = await self.readline()
                user = base64.b64decode(initial).decode()
                await self.reply("334 " + base64.b64encode(b"Password:").decode())
                password = base64.b64decode(await self.readline()).decode()
            else:
                await self.reply("504 5.5.4 Unrecognized authentication type")
                return
        except ValueError:
            await self.reply("501 5.5.2 Cannot decode the response")
            return
        if (user, password) != self.server.credentials:
            await self.reply("535 5.7.8 Authentication credentials invalid")
            return
        self.authenticated = True
        await self.reply("235 2.7.0 Authentication successful")

    async def do_MAIL(self, arg: str):
        if not self.authenticated:
            await self.reply("530 5.7.0 Authentication required")
            return
        match = _ADDRESS.match(arg)
        if match is None or not arg.upper().startswith("FROM:"):
            await self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
            return
        self.mail_from, self.recipients = match.group(1), []
        await self.reply("250 2.1.0 OK")

    async def do_RCPT(self, arg: str):
        if self.mail_from is None:
            await self.reply("503 5.5.1 Need MAIL before RCPT")
            return
        match = _ADDRESS.match(arg)
        if match is None or "@" not in match.group(1) or not arg.upper().startswith("TO:"):
            await self.reply("501 5.1.3 Bad recipient address syntax")
            return
        self.recipients.append(match.group(1))
        await self.reply("250 2.1.5 OK")

    async def do_DATA(self, arg: str):
        if not self.recipients:
            await self.reply("503 5.5.1 Need RCPT before DATA")
            return
        await self.reply("354 End data with <CR><LF>.<CR><LF>")
        data = await self.stream.read_until(b"\r\n.\r\n", max_bytes=MAX_MESSAGE)
        lines = data[:-5].split(b"\r\n")
        raw = b"\r\n".join(line[1:] if line.startswith(b".") else line for line in lines)
        await IOLoop.current().run_in_executor(self.server.executor, store, self.mail_from,
                                               list(self.recipients), raw)
        self.mail_from, self.recipients = None, []
        await self.reply("250 2.0.0 OK: queued")

    async def do_RSET(self, arg: str):
        self.mail_from, self.recipients = None, []
        await self.reply("250 2.0.0 OK")

    async def do_NOOP(self, arg: str):
        await self.reply("250 2.0.0 OK")

    async def do_QUIT(self, arg: str):
        await self.reply("221 2.0.0 Bye")
        self.stream.close()
        return False


class SandboxSmtpServer(TCPServer):
    """The SMTP server of sandbox mode, on a loopback port (0: any free port)."""

    def __init__(self, user: str, password: str, executor, port: int = 0):
        super().__init__()
        self.credentials = (user, password)
        self.executor = executor
        sockets = bind_sockets(port, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self.add_sockets(sockets)

    async def handle_stream(self, stream: IOStream, address) -> None:
        try:
            await _Session(self, stream).run()
        except (StreamClosedError, UnsatisfiableReadError):
            stream.close()


class MessagesHandler(SandboxHandler):
    async def get(self):
        self.write_json({"items": await self.run_sync(messages, self.query("to"))})


def routes(prefix: str = "/_sandbox/mail") -> list:
    return [(rf"{prefix}/messages", MessagesHandler)]
