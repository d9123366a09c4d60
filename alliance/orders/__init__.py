"""Orders: cart, server-side pricing, checkout with reservations, payments through the
PaymentGateway port, refunds, service codes, after-sales and the views of consumers,
merchant staff and operators."""
