from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.money import money_display
from orders.fulfilment import order_return_request
from orders.invoices import invoice_pdf, order_has_invoice, order_invoice
from orders.selectors.progress import order_progress
from orders.selectors.shopper import (
    order_for_customer,
    order_receipt_url,
    order_rows_for_customer,
    order_shopper_status,
    order_shopper_timeline,
    shipping_address_lines,
    time_zone_label,
)

PAGE_SIZE = 20


@require_safe
@login_required
def order_list_view(request):
    page = Paginator(order_rows_for_customer(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "orders/list.html", {"page": page, "rows": page.object_list})


@require_safe
@login_required
def order_detail_view(request, order_number):
    """The shopper's own order; 404 for anyone else's (no hint that it exists)."""
    order = order_for_customer(user=request.user, order_number=order_number)
    if order is None:
        raise Http404("No such order.")
    refunded = order.refunded_cents
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "diamond": order.diamond,
            "status": order_shopper_status(order=order),
            "timeline": order_shopper_timeline(order=order),
            "shipping_lines": shipping_address_lines(order=order),
            "shipping_phone": getattr(order, "shipping_phone", "") or "",
            "refunded_cents": refunded,
            "refunded_display": money_display(refunded, order.currency),
            "time_zone_label": time_zone_label(),
            "receipt_url": order_receipt_url(order=order),
            "store_contact_email": settings.STORE_CONTACT_EMAIL,
            "has_invoice": order_has_invoice(order=order),
            "progress": order_progress(order=order),
            "return_days": settings.RETURN_DAYS,
            "return_reason_max": RETURN_REASON_MAX,
        },
    )


RETURN_REASON_MAX = 1000


@require_POST
@login_required
def order_return_request_view(request, order_number):
    """The shopper asks to return their delivered stone, with a reason (within
    `RETURN_DAYS` of delivery); 404 for anyone else's order."""
    order = order_for_customer(user=request.user, order_number=order_number)
    if order is None:
        raise Http404("No such order.")
    reason = request.POST.get("reason", "").strip()[:RETURN_REASON_MAX]
    if not reason:
        messages.error(request, "Please tell us why you are returning the diamond.")
    elif order_return_request(order=order, actor=request.user, reason=reason):
        messages.success(
            request,
            "Your return request is with us. We'll email you how to send the diamond back.",
        )
    else:
        messages.error(request, "This order can no longer be returned online: please email us.")
    return redirect("orders:detail", order_number=order.order_number)


@require_safe
@login_required
def order_invoice_view(request, order_number):
    """The tax invoice of the shopper's own order, as a page or (`?format=pdf`) its PDF; 404
    for anyone else's order, as the order page, and for an order that has no invoice."""
    order = order_for_customer(user=request.user, order_number=order_number)
    invoice = None if order is None else order_invoice(order=order)
    if invoice is None:
        raise Http404("No such invoice.")
    if request.GET.get("format") == "pdf":
        response = HttpResponse(invoice_pdf(invoice=invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.filename}"'
        return response
    return render(request, "orders/invoice.html", {"invoice": invoice})
