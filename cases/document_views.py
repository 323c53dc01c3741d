"""Documents: downloads for clerks and parties, public verification."""
from flask import Blueprint

bp = Blueprint("documents", __name__)
