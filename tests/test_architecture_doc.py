import re
from pathlib import Path

from django.conf import settings

from orders.states import table_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "ARCHITECTURE.md"


def test_the_architecture_page_shows_the_state_table_the_code_has():
    text = DOC.read_text()
    match = re.search(r"<!-- state-table:begin -->\n(.*?)<!-- state-table:end -->", text, re.S)
    assert match, "docs/ARCHITECTURE.md lost its state-table markers"
    assert match.group(1) == table_markdown(), (
        "docs/ARCHITECTURE.md disagrees with orders/states.py: paste the output of "
        "`manage.py state_table` between the markers."
    )
