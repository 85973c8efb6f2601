from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from orders.models import Status
from orders.selectors import order_customer_status_label, order_list_for_customer

PAGE_SIZE = 20


@require_safe
@login_required
def order_list_view(request):
    page = Paginator(order_list_for_customer(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "order": order,
            "status_label": order_customer_status_label(order=order),
            "awaiting_payment": order.status == Status.PENDING_PAYMENT,
        }
        for order in page.object_list
    ]
    return render(request, "orders/list.html", {"page": page, "rows": rows})
