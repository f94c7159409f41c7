"""Flask CLI: speech download-model, speech info."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import AppGroup

speech_cli = AppGroup("speech", help="Speech recognition models.")


@speech_cli.command("download-model")
@click.argument("name")
@click.option(
    "--dest",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory to unpack into (default: <data dir>/models/vosk).",
)
@click.option(
    "--base-url",
    envvar="WANGGE_VOSK_BASE_URL",
    default=None,
    help="A mirror of https://alphacephei.com/vosk/models/ (env WANGGE_VOSK_BASE_URL).",
)
@click.option("--sha256", "sha256", default=None, help="Expected sha256 of the zip archive.")
@click.option("--timeout", default=60.0, show_default=True, help="Network timeout in seconds.")
def download_model(name, dest, base_url, sha256, timeout) -> None:
    """Download an official Chinese Vosk model, verify it and unpack it.

    NAME is vosk-model-small-cn-0.22 (42 MB) or vosk-model-cn-0.22 (1.3 GB).
    """
    from speech import SpeechError
    from speech.models import VOSK_BASE_URL, VOSK_MODELS, download_vosk_model

    settings = current_app.extensions["wangge_settings"]
    target = dest or str(settings.data_dir / "models" / "vosk")
    spec = VOSK_MODELS.get(name)
    if spec is not None:
        click.echo(f"下载 {name}（{spec.note}）到 {target} …")
    try:
        path = download_vosk_model(
            name,
            target,
            timeout=timeout,
            base_url=base_url or VOSK_BASE_URL,
            expected_sha256=sha256,
        )
    except SpeechError as exc:
        click.echo(f"错误 [{exc.code}]：{exc.message_zh}", err=True)
        if exc.detail:
            click.echo(f"  ({exc.detail})", err=True)
        if exc.code == "speech.model_unknown":
            click.echo(f"  可选模型：{', '.join(VOSK_MODELS)}", err=True)
        raise SystemExit(1) from None
    click.echo(f"模型已就绪：{path}")
    click.echo("启用方法 / to use it:")
    click.echo(f"  export WANGGE_VOSK_MODEL={path}")


@speech_cli.command("info")
def info() -> None:
    """Show which speech engine and model this configuration loads, and load it once."""
    from server.wiring import speech_engine
    from speech import SpeechError
    from speech.engine import resolve_engine_name

    settings = current_app.extensions["wangge_settings"]
    try:
        name = resolve_engine_name(settings.speech_engine)
        engine = speech_engine()
    except SpeechError as exc:
        click.echo(f"错误 [{exc.code}]：{exc.message_zh} ({exc.detail})", err=True)
        raise SystemExit(1) from None
    click.echo(f"engine: {name}")
    click.echo(f"model: {engine.model}")
    click.echo(f"path: {getattr(engine, 'path', os.environ.get('WANGGE_VOSK_MODEL', ''))}")
