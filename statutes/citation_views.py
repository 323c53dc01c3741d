"""Citations on the case page: suggestions and pinned articles."""
from flask import Blueprint

bp = Blueprint("citations", __name__)
