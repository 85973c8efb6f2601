from orders.admin import orders  # noqa: F401  (registers the order admins)
