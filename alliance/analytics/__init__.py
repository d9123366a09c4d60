"""Analytics: figures rolled up from the business tables for merchants and operators."""
