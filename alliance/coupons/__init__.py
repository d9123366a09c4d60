"""Coupons: templates issued by a merchant (or the platform), claimed by consumers through
their channels (own page, partner counters, the platform, points exchange), used at checkout
or redeemed at the counter."""
