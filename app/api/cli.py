"""`flask api-token …`: integration tokens for the JSON API."""
from flask.cli import AppGroup

api_token_cli = AppGroup("api-token", help="Manage integration API tokens.")
