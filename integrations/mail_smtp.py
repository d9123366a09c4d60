"""The MailSender port over SMTP (smtplib): implicit TLS, STARTTLS or plain, with login."""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from alliance.accounts.contacts import EmailInvalid
from alliance.errors import UpstreamError, UpstreamUnavailable

log = logging.getLogger("alliance.mail")


class MailSendFailed(UpstreamError):
    code = "MAIL_SEND_FAILED"
    message = "邮件发送失败，请稍后再试"


class SmtpMailer:
    """Sends plain-text mail through one SMTP server."""

    def __init__(self, host: str, port: int, security: str, user: str | None,
                 password: str | None, sender: str, timeout: float):
        self._host, self._port, self._security = host, port, security
        self._user, self._password = user, password
        self._sender, self._timeout = sender, timeout

    def _connect(self) -> smtplib.SMTP:
        if self._security == "ssl":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout,
                                    context=ssl.create_default_context())
        smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        if self._security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, to: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message.set_content(text)
        try:
            with self._connect() as smtp:
                if self._user:
                    smtp.login(self._user, self._password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise EmailInvalid("该邮箱无法接收邮件",
                               details={"field": "email", "issue": "refused by the mail server"}
                               ) from None
        except smtplib.SMTPResponseException as exc:
            details = {"smtp_code": exc.smtp_code}
            if 400 <= exc.smtp_code < 500:  # transient: the server asks to come back later
                raise UpstreamUnavailable("邮件服务繁忙，请稍后再试", details=details) from None
            log.warning("smtp refused the message: %s", exc.smtp_code)
            raise MailSendFailed(details=details) from None
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("smtp unreachable: %s", type(exc).__name__)
            raise UpstreamUnavailable("邮件服务繁忙，请稍后再试",
                                      details={"reason": type(exc).__name__}) from None
