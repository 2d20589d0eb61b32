import pytest

# The support helpers assert on the tests' behalf: their failures show the values, as a test's own do.
pytest.register_assert_rewrite("inventory_pipeline_tests.support.ledger_views")
