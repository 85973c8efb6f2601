"""The Shipping and Returns pages say what the store now does: the tracking link and the order
page's progress line; a return asked for from the order page, approved by email, refunded once
the stone is back. A page staff have edited since it was seeded is left as they wrote it."""

from importlib import import_module

from django.db import migrations

SEEDED = import_module("catalog.migrations.0004_content_pages").PAGES
# The pages as 0004 first seeded them.
BEFORE = {
    "/pages/shipping/": '\n<p class="lede">Every diamond travels fully insured, free of charge, to any address in New Zealand.</p>\n<h2>How your diamond reaches you</h2>\n<ul>\n  <li><strong>Free insured delivery</strong> by tracked courier, anywhere in New Zealand. The diamond is insured for its full price until you have signed for it.</li>\n  <li><strong>Signature on delivery.</strong> We never leave a parcel at the door. If nobody is home, the courier leaves a card and holds the parcel at the depot for you.</li>\n  <li><strong>Discreet packaging.</strong> The outer box does not say what is inside or who it is from.</li>\n</ul>\n<h2>When it arrives</h2>\n<p>Our diamonds are held by trusted suppliers. Once your payment is received we confirm the stone with the supplier, it is sent to us, and we check it against its grading report before it goes to you. Most orders are delivered within <strong>5 to 10 working days</strong>; we email you a tracking number as soon as your diamond is on its way.</p>\n<p>Delivery is to New Zealand addresses only for now. For a delivery date that matters (a proposal, an anniversary), <a href="/pages/contact/">tell us</a> before you order and we will say honestly whether we can meet it.</p>\n',
    "/pages/returns/": '\n<p class="lede">If the diamond is not right for you, send it back within 30 days of delivery for a full refund.</p>\n<h2>Our 30-day promise</h2>\n<ul>\n  <li>Return any loose diamond within <strong>30 days of delivery</strong>, natural or lab-grown, for any reason.</li>\n  <li>It must come back as it left us: unset, unaltered and with its grading report.</li>\n  <li>We arrange the <strong>insured return courier at no cost to you</strong>.</li>\n</ul>\n<h2>How to return a diamond</h2>\n<ol>\n  <li><a href="/pages/contact/">Contact us</a> with your order number (it starts with DO-).</li>\n  <li>We email a prepaid, insured courier label and packing instructions.</li>\n  <li>Once the diamond has arrived and been checked against its report, we refund the full price to your original payment method, usually within 5 working days.</li>\n</ol>\n<p>This promise is in addition to your rights under the Consumer Guarantees Act 1993, which no policy of ours can take away.</p>\n',
}


def update_pages(apps, schema_editor):
    FlatPage = apps.get_model("flatpages", "FlatPage")
    for url, before in BEFORE.items():
        FlatPage.objects.filter(url=url, content=before.strip()).update(
            content=SEEDED[url][1].strip()
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_content_pages_one_contact_address")]

    operations = [migrations.RunPython(update_pages, migrations.RunPython.noop)]
