"""Adapters of the domain's ports to providers other than WeChat and the payment channels:
text messages (Aliyun SMS) and mail (SMTP)."""
