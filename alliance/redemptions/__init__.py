"""Redemption (核销) at the counter: staff enter or scan a code; the code's kind (coupon,
an order's service code, ...) marks it used; the redemption is recorded with its shop, staff
and attribution, and can be undone by a manager for a while."""
