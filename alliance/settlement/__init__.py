"""Settlement: what the platform owes each merchant and each merchant owes the platform or a
partner, period by period, in statements that balance to the fen.

Every money event that a statement counts (a payment, a refund, the platform's commission,
a partner's commission, a discount another party funded) reaches it as a
``SettlementEvent`` from a source (``events.py``); each event is counted on exactly one
statement of each merchant it concerns."""
