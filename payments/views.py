import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.selectors import customer_name
from catalog.models import Diamond
from gateway.base import GatewayError
from gateway.registry import payment_gateway
from gateway.simulator import SimulatorError, simulated_checkout, simulator_enabled
from monitoring.metrics import checkout_refusal_count
from orders.models import Status
from orders.selectors.shopper import order_for_customer, order_shopper_status
from payments import selectors, services, simulator
from payments.checkout_result import checkout_result, checkout_retry
from payments.event_parsing import InvalidPayload, parse_json
from payments.fulfilment import session_fulfil
from payments.webhooks import webhook_receive

logger = logging.getLogger(__name__)

# The HTTP answer for each reason a checkout could not start.
CHECKOUT_ERROR_STATUS = {
    "invalid_diamond_id": 400,
    "diamond_not_found": 404,
    "diamond_reserved": 409,
    "diamond_unavailable": 409,
    "checkout_in_progress": 409,
    "checkout_expiring": 409,
    "availability_unknown": 503,
    "price_unavailable": 422,
    "rate_limited": 429,
    "payment_provider_unavailable": 503,
}

REFERENCE_MAX_LENGTH = 100
COMMENTS_MAX_LENGTH = 1000


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _diamond_page(diamond_id) -> str:
    """The diamond's page when the id names one, else the catalog."""
    try:
        pk = uuid.UUID(str(diamond_id))
    except (TypeError, ValueError, AttributeError):
        return reverse("catalog:list")
    if not Diamond.objects.filter(pk=pk).exists():
        return reverse("catalog:list")
    return reverse("catalog:detail", args=[pk])


# ---------------------------------------------------------------- checkout


@require_POST
def checkout_create_view(request):
    diamond_id = request.POST.get("diamond_id", "")
    if not request.user.is_authenticated:
        return redirect_to_login(_diamond_page(diamond_id))
    try:
        order = services.checkout_create(user=request.user, diamond_id=diamond_id)
    except services.CheckoutError as exc:
        checkout_refusal_count(exc.code)
        messages.error(request, exc.message)
        return _see_other(_diamond_page(diamond_id))
    return _see_other(order.stripe_checkout_url)


def _json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _checkout_error_response(error: services.CheckoutError) -> JsonResponse:
    checkout_refusal_count(error.code)
    return _json_error(error.code, error.message, CHECKOUT_ERROR_STATUS[error.code])


def _csrf_failure(request):
    """Django's own CSRF check, answered in JSON instead of the HTML 403 page."""
    check = CsrfViewMiddleware(lambda r: None)
    if check.process_view(request, None, (), {}) is None:
        return None
    return _json_error(
        "csrf_failed",
        "Your session's security token is missing or out of date. Reload the page and try again.",
        403,
    )


def _checkout_payload(request) -> tuple[dict | None, JsonResponse | None]:
    try:
        data = parse_json(request.body or b"")
    except InvalidPayload as exc:
        return None, _json_error(
            "invalid_json",
            f"The request body must be a JSON object of plain text values ({exc})",
            400,
        )
    if not isinstance(data, dict):
        return None, _json_error("invalid_json", "The request body must be a JSON object.", 400)
    if not isinstance(data.get("diamond_id"), str):
        return None, _checkout_error_response(services.checkout_error("invalid_diamond_id"))
    for field, limit in (("reference", REFERENCE_MAX_LENGTH), ("comments", COMMENTS_MAX_LENGTH)):
        value = data.get(field)
        if value is None:
            data[field] = ""
        elif not isinstance(value, str) or len(value) > limit:
            return None, _json_error(
                "invalid_field",
                f"'{field}' must be text of at most {limit} characters.",
                400,
            )
    return data, None


@csrf_exempt
@require_POST
def api_checkout_create_view(request):
    """Session-authenticated JSON checkout. CSRF is still enforced (checked here, so that
    the failure is JSON): send the `X-CSRFToken` header like any same-site AJAX call."""
    if not request.user.is_authenticated:
        return _json_error("not_authenticated", "Please log in to buy a diamond.", 401)
    if request.content_type not in ("", "application/json"):
        return _json_error(
            "unsupported_media_type",
            "Send the order as JSON, with the header Content-Type: application/json.",
            415,
        )
    failure = _csrf_failure(request)
    if failure is not None:
        return failure
    data, error = _checkout_payload(request)
    if error is not None:
        return error
    try:
        order = services.checkout_create(
            user=request.user,
            diamond_id=data["diamond_id"],
            reference=data["reference"].strip(),
            comments=data["comments"].strip(),
        )
    except services.CheckoutError as exc:
        return _checkout_error_response(exc)
    return JsonResponse(
        {"checkoutUrl": order.stripe_checkout_url, "orderNumber": order.order_number},
        status=201,
    )


# ---------------------------------------------------------------- webhook


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's signed events: no login, no CSRF — the signature is the authentication."""
    status, message = webhook_receive(
        payload=request.body, signature=request.headers.get("Stripe-Signature", "")
    )
    return JsonResponse({"message": message}, status=status)


# ---------------------------------------------------------------- success page


def _checkout_session_retrieve(session_id: str, *, order_number: str = "") -> dict | None:
    """The Checkout Session as the payment gateway reports it now (Stripe, or the simulator's
    own sessions); None when it cannot be asked (no key, Stripe down): the page then shows the
    order as recorded, optimistically."""
    try:
        return payment_gateway().checkout_session_retrieve(session_id)
    except GatewayError as exc:
        logger.warning(
            "Success page of order %s: retrieving Checkout Session %s failed; showing the "
            "order as recorded: %s",
            order_number,
            session_id,
            exc.detail,
        )
        return None


def _fulfil_from_success_page(order, session: dict) -> None:
    """Stripe's advice: fulfil on the success page too, so a late webhook does not delay it."""
    try:
        if session_fulfil(session=session).changed:
            order.refresh_from_db()
    except Exception:
        logger.exception(
            "Success-page fulfilment of order %s (session %s) failed; the webhook or "
            "reconcile_payments will apply it",
            order.order_number,
            session.get("id"),
        )


@never_cache
@require_safe
@login_required
def checkout_success_view(request):
    order = order_for_customer(user=request.user, order_number=request.GET.get("order", ""))
    if order is None:
        raise Http404("No such order.")
    session_id = request.GET.get("session_id", "")
    session = None
    if order.status == Status.PENDING_PAYMENT and session_id == order.stripe_checkout_session_id:
        session = _checkout_session_retrieve(session_id, order_number=order.order_number)
        if session is not None:
            _fulfil_from_success_page(order, session)
    result = checkout_result(order=order, session=session)
    return render(
        request,
        "payments/success.html",
        {
            "order": order,
            "diamond": order.diamond,
            "result": result,
            "status": order_shopper_status(order=order),
            "retry": (
                checkout_retry(order=order, user=request.user, result=result)
                if result.offer_retry
                else None
            ),
        },
    )


# ---------------------------------------------------------------- simulator


def _simulator_order(request, session_id: str):
    if not simulator_enabled():
        raise Http404("The payment simulator is off.")
    order = selectors.order_by_checkout_session(session_id=session_id)
    if order is None or order.user_id != request.user.pk:
        raise Http404("No such test checkout.")
    return order


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def checkout_simulator_view(request, session_id):
    order = _simulator_order(request, session_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        user = request.user
        try:
            simulator.simulator_deliver(
                order=order, action=action, shipping_name=customer_name(user)
            )
        except SimulatorError as exc:
            messages.error(request, str(exc))
            return _see_other(request.path)
        except Exception as exc:
            logger.exception("Payment simulator: %s for %s failed", action, order.order_number)
            messages.error(request, f"The simulated event could not be delivered: {exc}")
            return _see_other(request.path)
        if action in ("pay", "settle"):
            return _see_other(simulator.simulator_success_path(order))
        if action == "expire":
            return _see_other(simulator.simulator_cancel_path(order))
        if action in simulator.AFTER_PAYMENT:
            messages.success(request, "Sent. The order now needs attention in the ops dashboard.")
        return _see_other(request.path)
    checkout = simulated_checkout(session_id=session_id)
    return render(
        request,
        "payments/simulator.html",
        {
            "order": order,
            "diamond": order.diamond,
            "processing": checkout is not None and checkout.intent_status == "processing",
            "is_open": checkout is not None and checkout.status == "open",
            "paid": checkout is not None and checkout.intent_status in PAID_INTENT,
            "capture_manual": settings.CHECKOUT_CAPTURE == "manual",
            "success_url": simulator.simulator_success_path(order),
            "cancel_url": simulator.simulator_cancel_path(order),
        },
    )


# A simulated PaymentIntent whose money is held or taken: disputes and fraud warnings apply.
PAID_INTENT = ("requires_capture", "succeeded")
