"""`flask documents …`: render and issue printed documents from the command line."""
import click
from flask.cli import AppGroup

documents_cli = AppGroup("documents", help="Render printed documents (PDF).")
