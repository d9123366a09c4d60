"""The browse aggregates other domains feed: ratings (reviews) and sales (orders).

Both run inside the caller's transaction as single guarded UPDATEs, so concurrent reviews
and sales add up exactly. ``popularity`` (the "popular" order) rises by one per unit sold.
"""
from __future__ import annotations

from alliance.prepared import Arg, Prepared
from alliance.errors import ValidationFailed
from alliance.merchants.models import Merchant


def record_rating(merchant_id: int, stars: int) -> None:
    """Count one review of ``stars`` (1-5) into the merchant's rating."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationFailed("评分须为 1 到 5 的整数", details={"field": "stars"})
    (Merchant.update(rating_sum=Merchant.rating_sum + stars,
                     rating_count=Merchant.rating_count + 1)
     .where(Merchant.id == merchant_id).execute())


# Run for every paid order: its SQL is built once (alliance.prepared.Prepared).
_COUNT_SALE = Prepared(lambda: Merchant.update(
    sales_count=Merchant.sales_count + Arg(2, Merchant.sales_count),
    sales_fen=Merchant.sales_fen + Arg(1, Merchant.sales_fen),
    popularity=Merchant.popularity + Arg(2, Merchant.popularity))
    .where(Merchant.id == Arg(0)))


def record_sale(merchant_id: int, amount_fen: int, quantity: int) -> None:
    """Count a completed sale (``quantity`` units for ``amount_fen``) into the sales ranking
    and the popularity of the merchant."""
    _COUNT_SALE.execute(merchant_id, amount_fen, quantity)
