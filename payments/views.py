from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.webhooks import webhook_receive


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's signed events: no login, no CSRF — the signature is the authentication."""
    status, message = webhook_receive(
        payload=request.body, signature=request.headers.get("Stripe-Signature", "")
    )
    return JsonResponse({"message": message}, status=status)
