"""Credit pages, one module per area; each module holds its views and its `urlpatterns`."""
