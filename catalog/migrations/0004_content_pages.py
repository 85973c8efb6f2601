"""The store's content pages (django.contrib.flatpages), editable by staff in the admin.

Seeded once: a page that already exists at the URL (edited by staff) is left alone, and
reversing the migration leaves the pages in place.
"""

from django.conf import settings
from django.db import migrations

PAGES = {
    "/pages/shipping/": (
        "Shipping",
        """
<p class="lede">Every diamond travels fully insured, free of charge, to any address in New Zealand.</p>
<h2>How your diamond reaches you</h2>
<ul>
  <li><strong>Free insured delivery</strong> by tracked courier, anywhere in New Zealand. The diamond is insured for its full price until you have signed for it.</li>
  <li><strong>Signature on delivery.</strong> We never leave a parcel at the door. If nobody is home, the courier leaves a card and holds the parcel at the depot for you.</li>
  <li><strong>Discreet packaging.</strong> The outer box does not say what is inside or who it is from.</li>
</ul>
<h2>When it arrives</h2>
<p>Our diamonds are held by trusted suppliers. Once your payment is received we confirm the stone with the supplier, it is sent to us, and we check it against its grading report before it goes to you. Most orders are delivered within <strong>5 to 10 working days</strong>; we email you the tracking number, with a link to follow the parcel, as soon as your diamond is on its way. Your order page (under <a href="/account/orders/">My orders</a>) shows each step with its date: ordered, confirmed, with us, shipped, delivered.</p>
<p>Delivery is to New Zealand addresses only for now. For a delivery date that matters (a proposal, an anniversary), <a href="/pages/contact/">tell us</a> before you order and we will say honestly whether we can meet it.</p>
""",
    ),
    "/pages/returns/": (
        "Returns",
        """
<p class="lede">If the diamond is not right for you, ask to return it within 30 days of delivery and we refund what you paid.</p>
<h2>Our 30-day promise</h2>
<ul>
  <li>Return any loose diamond within <strong>30 days of delivery</strong>, natural or lab-grown, for any reason.</li>
  <li>It must come back as it left us: unset, unaltered and with its grading report.</li>
</ul>
<h2>How to return a diamond</h2>
<ol>
  <li>Sign in, open the order under <a href="/account/orders/">My orders</a>, choose <strong>Request a return</strong> and tell us why. The button is there for 30 days after delivery; after that, <a href="/pages/contact/">contact us</a>.</li>
  <li>We approve the return and email you how to send the diamond back: how to pack it and the address. Send it by insured, tracked courier.</li>
  <li>Once the diamond has arrived and been checked against its report, we refund what you paid to your original payment method and email you. Refunds usually show within 5 to 10 business days, depending on your bank.</li>
</ol>
<p>This promise is in addition to your rights under the Consumer Guarantees Act 1993, which no policy of ours can take away.</p>
""",
    ),
    "/pages/contact/": (
        "Contact us",
        """
<p class="lede">Real people, happy to help you choose, answer a question about a stone, or sort out an order.</p>
<h2>How to reach us</h2>
<ul>
  <li>Email: <a href="mailto:hello@diamondstore.example">hello@diamondstore.example</a> &mdash; we answer within one working day.</li>
  <li>Hours: Monday to Friday, 9 am to 5 pm New Zealand time.</li>
</ul>
<h2>About an order</h2>
<p>Please include your order number (it starts with DO-); you will find it in your confirmation and under <a href="/account/orders/">My orders</a>.</p>
<h2>Choosing a diamond</h2>
<p>Tell us the shape, size and budget you have in mind and we will send you a short list of stones, with their certificates, to compare.</p>
""",
    ),
    "/pages/faq/": (
        "Questions & answers",
        """
<h2>Are lab-grown diamonds real diamonds?</h2>
<p>Yes. A lab-grown diamond is carbon crystallised as diamond, like a natural one; it is grown in weeks instead of formed over millions of years. Each of ours is graded by an independent lab, and its report says it is lab-grown. Every listing, and every page, says plainly whether a stone is natural or lab-grown.</p>
<h2>How do I know the grading is right?</h2>
<p>Each stone comes with a report from an independent lab (GIA, IGI or HRD). The diamond's page links to the lab's own report check, where you can confirm the report number and grades yourself.</p>
<h2>What do colour, clarity and cut mean?</h2>
<p>Our <a href="/guide/">grading guide</a> explains each grade in plain words, with what is worth paying for.</p>
<h2>Is the price the price I pay?</h2>
<p>Yes: prices are in New Zealand dollars, in whole dollars, and what you see is what is charged. Shipping is free and insured.</p>
<h2>How do I pay?</h2>
<p>By card, on Stripe's secure checkout page. We never see or store your card number.</p>
<h2>Can I return a diamond?</h2>
<p>Within 30 days of delivery, for a full refund: see <a href="/pages/returns/">Returns</a>.</p>
<h2>Do you set diamonds in rings?</h2>
<p>We sell loose diamonds. Your jeweller can set it, or <a href="/pages/contact/">ask us</a> for jewellers we trust.</p>
""",
    ),
    "/pages/terms/": (
        "Terms of sale",
        """
<p class="lede">The short version: the price you see is the price you pay, the diamond is as described on its report, and you have 30 days to change your mind.</p>
<h2>Your order</h2>
<p>When you pay, we reserve the diamond for you and confirm it with our supplier. If the supplier can no longer provide that exact stone, we tell you straight away and refund you in full; we never substitute another stone without your agreement.</p>
<h2>Prices and payment</h2>
<p>Prices are in New Zealand dollars and are charged by card through Stripe. The amount charged is the price shown on the diamond's page when you confirmed the purchase.</p>
<h2>Description of the diamonds</h2>
<p>Each diamond is described by its independent grading report. Photos and videos come from our suppliers and can differ slightly from the stone in colour and light.</p>
<h2>Delivery and returns</h2>
<p>See <a href="/pages/shipping/">Shipping</a> and <a href="/pages/returns/">Returns</a>. Your rights under the Consumer Guarantees Act 1993 and the Fair Trading Act 1986 are not affected by these terms.</p>
<h2>Law</h2>
<p>These terms are governed by the laws of New Zealand.</p>
""",
    ),
    "/pages/privacy/": (
        "Privacy",
        """
<p class="lede">We collect only what we need to sell and deliver your diamond, and we never sell your information.</p>
<h2>What we keep</h2>
<ul>
  <li>Your account: username, email address and a securely hashed password.</li>
  <li>Your orders: the diamond, the amount, the delivery name, address and phone number.</li>
  <li>Card payments are handled by Stripe: we never see or store your card number.</li>
</ul>
<h2>Who sees it</h2>
<p>Our staff, to look after your order; the courier, to deliver it; Stripe, to take the payment. Nobody else, unless the law requires it.</p>
<h2>Cookies</h2>
<p>We use only the cookies the site needs to work: to keep you signed in, to protect forms, and to remember the diamonds you are comparing.</p>
<h2>Your rights</h2>
<p>Under the Privacy Act 2020 you may ask to see or correct what we hold about you. <a href="/pages/contact/">Contact us</a> and we will answer within 20 working days.</p>
""",
    ),
}


def seed_pages(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    FlatPage = apps.get_model("flatpages", "FlatPage")
    site_id = getattr(settings, "SITE_ID", 1)
    site, _ = Site.objects.get_or_create(
        pk=site_id, defaults={"domain": "localhost:8000", "name": "Diamond Store"}
    )
    for url, (title, content) in PAGES.items():
        page, created = FlatPage.objects.get_or_create(
            url=url, defaults={"title": title, "content": content.strip()}
        )
        page.sites.add(site)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_diamond_origin_media_proportions"),
        ("flatpages", "0001_initial"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [migrations.RunPython(seed_pages, migrations.RunPython.noop)]
