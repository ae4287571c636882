"""A URLconf with no routes (the error-page tests)."""

urlpatterns: list = []
