"""Local stand-ins for WeChat, WeChat Pay, Alipay, Aliyun SMS and a mail server, mounted
under /_sandbox in sandbox mode.

They speak the providers' real protocols (paths, fields, error codes, signatures; SMTP for
mail), so the production client code (wechatpy, wechatpayv3, alipay-sdk-python, the Aliyun
SMS and SMTP adapters in ``integrations/``) talks to them unchanged.
Their state lives in the database so that every server process sees the same codes and
tokens. Endpoints under ``/_sandbox/*/_control/`` are for developers and tests: they mint
one-time codes and inject the providers' failures.
"""
