"""The cases blueprint; its routes live in views_list (list, intake) and views_case (one case)."""
from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")

from cases import views_case, views_list  # noqa: E402,F401  (they register routes on bp)
