"""Reads of orders, one module per reader: the shopper (`shopper`), the diamond page's
purchase box (`purchase`), ops' list and order page (`ops`), the dashboard (`dashboard`) and
the Stripe edge finding an order from a payment (`payments`)."""
