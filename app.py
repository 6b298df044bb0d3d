"""Entry point: ``flask --app app run``, ``python app.py`` or ``gunicorn 'app:create_app()'``."""
from __future__ import annotations

import os

from bot import create_app

__all__ = ["create_app"]


def main() -> None:
    port = int(os.environ.get("PORT", "5000"))
    host = os.environ.get("HOST", "127.0.0.1")
    app = create_app()
    base = f"http://{host}:{port}"
    lines = [f"ウェブチャット:   {base}/"]
    for rule, label in (("/console/", "オペレーター画面"), ("/insights/", "分析画面")):
        if any(r.rule.startswith(rule.rstrip("/")) for r in app.url_map.iter_rules()):
            lines.append(f"{label}: {base}{rule}")
    if app.extensions["ninbai"].line is not None:
        lines.append(f"LINE webhook:     {base}/callback")
    else:
        lines.append("LINE webhook:     off (LINE_CHANNEL_SECRET / LINE_CHANNEL_ACCESS_TOKEN 未設定)")
    print("\n".join(lines), flush=True)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
