"""Credit pages, mounted at /credit/. Each area's module declares its own url patterns."""

from kehu.credit.views import accountability, groups, holds, lines, proposal, ratings, settings

app_name = "credit"

urlpatterns = [
    *ratings.urlpatterns,
    *lines.urlpatterns,
    *holds.urlpatterns,
    *accountability.urlpatterns,
    *proposal.urlpatterns,
    *settings.urlpatterns,
    *groups.urlpatterns,
]
