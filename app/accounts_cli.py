"""The `footfall user` and `footfall token` commands: dashboard users and API tokens.

Like the site commands, they go through a running server's API when one owns
the data dir, and straight to ClickHouse and Redis when none runs. A token's
secret is printed once, when it is made.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from app.accounts_client import accounts_client
from app.cli_errors import client_errors
from footfall.tokens import SCOPES


@click.group()
def user() -> None:
    """Manage dashboard users."""


@user.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "editor"]),
    default="editor",
    show_default=True,
    help="admin: everything; editor: reads the sites given.",
)
@click.option("--site", "sites", multiple=True, help="A site the editor reads (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_add(ctx: Any, email: str, role: str, sites: tuple[str, ...], password_stdin: bool) -> None:
    """Add a user who logs in to the dashboard with EMAIL and a password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    body = {"email": email, "password": password, "role": role, "sites": list(sites)}
    with client_errors():
        added = accounts_client(ctx.settings).add_user(body)
    click.echo(f"added {added['role']} {added['email']}" + _sites_of(added))


@user.command("list")
@click.pass_obj
def user_list(ctx: Any) -> None:
    """List the users."""
    with client_errors():
        users = accounts_client(ctx.settings).list_users()
    for u in users:
        click.echo(f"{u['email']:<40} {u['role']:<8}" + _sites_of(u))


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--name", required=True, help="What the token is for, to recognise it by.")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(SCOPES),
    multiple=True,
    required=True,
    help="A right the token carries (repeatable).",
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    help="A site the token is limited to (repeatable; none: every site).",
)
@click.pass_obj
def token_create(ctx: Any, name: str, scopes: tuple[str, ...], sites: tuple[str, ...]) -> None:
    """Create an API token and print its secret (shown this once only)."""
    body = {"name": name, "scopes": list(scopes), "sites": list(sites)}
    with client_errors():
        made = accounts_client(ctx.settings).create_token(body)
    click.echo(f"created token {made['id']} ({made['name']}): {', '.join(made['scopes'])}"
               + _sites_of(made), err=True)  # fmt: skip
    click.echo(made["token"])
    click.echo("Copy it now: it is not shown again.", err=True)


@token.command("list")
@click.pass_obj
def token_list(ctx: Any) -> None:
    """List the API tokens (never their secrets)."""
    with client_errors():
        tokens = accounts_client(ctx.settings).list_tokens()
    for t in tokens:
        click.echo(f"{t['id']}  {t['name']:<24} {','.join(t['scopes']):<40}" + _sites_of(t))


@token.command("revoke")
@click.argument("token_id")
@click.pass_obj
def token_revoke(ctx: Any, token_id: str) -> None:
    """Revoke an API token by its id."""
    with client_errors():
        accounts_client(ctx.settings).revoke_token(token_id)
    click.echo(f"revoked {token_id}")


def _sites_of(document: dict[str, Any]) -> str:
    sites = document.get("sites") or []
    if document.get("role") == "admin" or ("scopes" in document and not sites):
        return " on every site"
    return f" on {', '.join(sites)}" if sites else " on no site yet"
