"""Campaigns: flash sales (限时折扣 / 秒杀) and full reductions (满减), run by a merchant or by
the platform, and their part in an order's price."""
