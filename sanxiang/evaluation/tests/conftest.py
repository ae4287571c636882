import pytest

from sanxiang.evaluation import services
from sanxiang.evaluation.models import Scheme


@pytest.fixture
def scheme(db) -> Scheme:
    services.load_schemes(actor="test-fixture")
    return Scheme.objects.get(code="demo-penalty", version=1)
