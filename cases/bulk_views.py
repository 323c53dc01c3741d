"""Bulk intake of cases from CSV and XLSX exports: upload, mapping, preview, import."""
from flask import Blueprint

bp = Blueprint("bulk", __name__)
