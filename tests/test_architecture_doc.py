import re
from pathlib import Path

import pytest
from django.conf import settings

from catalog import availability
from orders import states

DOC = Path(settings.BASE_DIR) / "docs" / "ARCHITECTURE.md"


@pytest.mark.parametrize(
    ("marker", "table", "command"),
    [
        ("state-table", states.table_markdown, "manage.py state_table"),
        ("availability-table", availability.table_markdown, "manage.py state_table --diamond"),
    ],
)
def test_the_architecture_page_shows_the_tables_the_code_has(marker, table, command):
    text = DOC.read_text()
    match = re.search(rf"<!-- {marker}:begin -->\n(.*?)<!-- {marker}:end -->", text, re.S)
    assert match, f"docs/ARCHITECTURE.md lost its {marker} markers"
    assert match.group(1) == table(), (
        f"docs/ARCHITECTURE.md disagrees with the code: paste the output of `{command}` "
        "between the markers."
    )
