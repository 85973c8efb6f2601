import uuid
from decimal import Decimal
from urllib.parse import quote

from django.db import models
from django.db.models import Q
from django.urls import reverse

from catalog.availability import Availability

__all__ = ["Availability", "Diamond", "Feed", "Origin"]


class Feed(models.TextChoices):
    DEMO = "demo", "Demo"
    NIVODA = "nivoda", "Nivoda"


# The grading vocabulary, best first: the storefront's filter order, the feeds' values.
COLOR_SCALE = tuple("DEFGHIJKLMNOPQRSTUVWXYZ")
CLARITY_SCALE = ("FL", "IF", "VVS1", "VVS2", "VS1", "VS2", "SI1", "SI2", "SI3", "I1", "I2", "I3")
CUT_SCALE = ("ID", "EX", "VG", "G", "GD", "F", "FR", "P", "PR")
SHAPE_ORDER = (
    "ROUND",
    "OVAL",
    "PRINCESS",
    "EMERALD",
    "CUSHION",
    "PEAR",
    "RADIANT",
    "MARQUISE",
    "ASSCHER",
    "HEART",
)


class Origin(models.TextChoices):
    NATURAL = "natural", "Natural"
    LAB_GROWN = "lab_grown", "Lab-grown"


# The labs' own report checks, by lab: a shopper can confirm the grading there.
CERTIFICATE_CHECK_URLS = {
    "GIA": "https://www.gia.edu/report-check?reportno={number}",
    "IGI": "https://www.igi.org/verify-your-report/?r={number}",
    "HRD": "https://my.hrdantwerp.com/?record_number={number}",
}


def certificate_check_url(*, lab: str, number: str) -> str:
    """The lab's report-check URL for the certificate number; empty for other labs."""
    template = CERTIFICATE_CHECK_URLS.get((lab or "").strip().upper())
    number = (number or "").strip()
    if not template or not number:
        return ""
    return template.format(number=quote(number, safe=""))


LAB_ORDER = ("GIA", "IGI", "HRD", "AGS", "GCAL")


# The catalog's equality filters, carried in the price and carat indexes after their keys.
FILTER_KEY_COLUMNS = ("lab_grown", "shape", "color", "clarity", "cut", "lab")


class Diamond(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    feed = models.CharField(max_length=20, choices=Feed.choices)
    supplier_stone_id = models.CharField(max_length=100)
    offer_id = models.CharField(max_length=100, blank=True)

    shape = models.CharField(max_length=30)
    carats = models.DecimalField(max_digits=6, decimal_places=2)
    color = models.CharField(max_length=10, blank=True)
    clarity = models.CharField(max_length=10, blank=True)
    cut = models.CharField(max_length=20, blank=True)
    polish = models.CharField(max_length=20, blank=True)
    symmetry = models.CharField(max_length=20, blank=True)
    lab = models.CharField(max_length=20, blank=True)
    certificate_number = models.CharField(max_length=50, blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    lab_grown = models.BooleanField("lab-grown", default=False)
    video_url = models.URLField("360° video URL", max_length=500, blank=True)
    certificate_url = models.URLField(
        "certificate URL",
        max_length=500,
        blank=True,
        help_text="The lab PDF or report check; else built from lab and number.",
    )
    fluorescence = models.CharField(max_length=20, blank=True)
    length_mm = models.DecimalField(
        "length (mm)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    width_mm = models.DecimalField(
        "width (mm)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    depth_mm = models.DecimalField(
        "depth (mm)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    depth_percent = models.DecimalField(
        "depth %", max_digits=5, decimal_places=2, null=True, blank=True
    )
    table_percent = models.DecimalField(
        "table %", max_digits=5, decimal_places=2, null=True, blank=True
    )

    price_nzd = models.DecimalField(
        "supplier cost (NZD)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    price_model_nzd = models.DecimalField(
        "retail price (NZD)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    availability = models.CharField(
        max_length=20, choices=Availability.choices, default=Availability.AVAILABLE
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["price_model_nzd", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["feed", "supplier_stone_id"], name="diamond_unique_feed_stone"
            ),
            models.CheckConstraint(condition=Q(carats__gt=0), name="diamond_carats_positive"),
            models.CheckConstraint(
                condition=Q(price_nzd__isnull=True) | Q(price_nzd__gte=0),
                name="diamond_price_nzd_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(price_model_nzd__isnull=True) | Q(price_model_nzd__gte=0),
                name="diamond_price_model_nzd_not_negative",
            ),
            # Only the availability table's states (catalog/availability.py).
            models.CheckConstraint(
                condition=Q(availability__in=Availability.values),
                name="diamond_availability_valid",
            ),
        ]
        indexes = [
            # The storefront lists available stones, filtered and sorted; these serve
            # the default price sort, the carat sort and the equality filters. The price and
            # carat indexes cover only available stones and each carries the other column, so
            # a carat range sorted by price (or a price range sorted by carats) is checked in
            # the index, not in the table.
            # Both also carry origin, shape, the grades and the lab as (trailing) keys, so
            # every catalog filter is checked in the index: a range on one column sorted by
            # the other, and the capped count under any filters, visit the table only for
            # stones that match. And both end with the id, so a page's ids are read from the
            # index alone (`catalog.selectors.diamond_page`) and only its rows from the table.
            models.Index(
                fields=["price_model_nzd", "carats", *FILTER_KEY_COLUMNS, "id"],
                condition=Q(availability="available"),
                name="diamond_avail_price_page",
            ),
            models.Index(
                fields=["carats", "price_model_nzd", *FILTER_KEY_COLUMNS, "id"],
                condition=Q(availability="available"),
                name="diamond_avail_carats_page",
            ),
            models.Index(
                fields=["availability", "shape", "price_model_nzd"], name="diamond_avail_shape"
            ),
            models.Index(fields=["availability", "-created_at"], name="diamond_avail_newest"),
        ]

    def __str__(self):
        return f"{self.shape} {self.carats}ct {self.color} {self.clarity}".strip()

    def get_absolute_url(self):
        return reverse("catalog:detail", args=[self.id])

    @property
    def price(self) -> Decimal | None:
        """The retail price charged: the price model's, else the supplier cost."""
        return self.price_model_nzd if self.price_model_nzd is not None else self.price_nzd

    @property
    def title(self) -> str:
        return f"{self.shape.title()} {self.carats}ct Diamond"

    @property
    def origin(self) -> str:
        """`lab_grown` or `natural`: the catalog's `origin` filter values."""
        return Origin.LAB_GROWN if self.lab_grown else Origin.NATURAL

    @property
    def origin_label(self) -> str:
        return Origin(self.origin).label

    @property
    def certificate_link(self) -> str:
        """The certificate: the feed's link, else the lab's own report check (or empty)."""
        return self.certificate_url or certificate_check_url(
            lab=self.lab, number=self.certificate_number
        )
