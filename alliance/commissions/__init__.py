"""Commissions owed between merchants for attributed customers (a partner distributed the
coupon that was redeemed): entries the settlement work aggregates into statements."""
