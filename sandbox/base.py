"""The base of the sandbox's handlers: its own thread pool."""
from __future__ import annotations

from server.base import BaseHandler


class SandboxHandler(BaseHandler):
    @property
    def executor(self):
        return self.ctx.extras["sandbox_executor"]
