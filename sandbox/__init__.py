"""Local stand-ins for WeChat, WeChat Pay and Alipay, mounted under /_sandbox in sandbox mode.

They speak the providers' real protocols (paths, fields, error codes, signatures), so the
production client code (wechatpy, wechatpayv3, alipay-sdk-python) talks to them unchanged.
Their state lives in the database so that every server process sees the same codes and
tokens. Endpoints under ``/_sandbox/*/_control/`` are for developers and tests: they mint
one-time codes and inject the providers' failures.
"""
