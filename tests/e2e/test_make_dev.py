"""`make dev`'s entry point: it starts, says where everything is, serves /docs, prints one line per API request and
nothing of the emulator's own traffic, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import httpx

from devtools.local_stack.template import ROOT


def test_the_dev_server_serves_docs_and_stops_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONPATH": "layers/shared:.", "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_stack", "--port", "0", "--aws-port", "0", "--schedule-every", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            banner.append(line)
            if "Ctrl-C stops." in line or not line:
                break
        text = "".join(banner)
        api_url = re.search(r"Media Platform API\s+(http://\S+)", text)
        assert api_url, text
        assert "Swagger UI" in text and "POST /media" in text and "poll-UploadProcessorFunction" in text
        port = api_url.group(1).rsplit(":", 1)[1]
        assert f"http://localhost:{port}, http://127.0.0.1:{port}" in text  # the stack's own origins, both names
        assert "HTTP/1.1" not in text  # provisioning's emulator traffic stays off the screen too

        after_banner: list[str] = []
        reader = threading.Thread(target=lambda: after_banner.extend(process.stdout or []), daemon=True)
        reader.start()

        docs = httpx.get(f"{api_url.group(1)}/docs", timeout=10)
        missing = httpx.get(f"{api_url.group(1)}/nowhere", timeout=10)
        time.sleep(2.5)  # the queue poller asks the emulator every second: none of that may reach the screen

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        reader.join(timeout=5)
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        assert missing.status_code == 404
        request_lines = [line.strip() for line in after_banner if re.match(r"^(GET|POST) ", line)]
        assert [line.rsplit(" ", 2)[0] for line in request_lines] == ["GET /docs 200 -", "GET /nowhere 404 -"]
        assert not [line for line in after_banner if "HTTP/1.1" in line], after_banner  # no werkzeug access log
    finally:
        if process.poll() is None:
            process.kill()
