"""SIGTERM under load: a real `streamlit run` with trainings running and queued exits within 10 s
and leaves no half-written checkpoint (no temp file, every .pt loads with weights_only=True).

No browser: sessions come through the agent API (`--server.enableAgentApi true` on the command line
only, as bench/load.py does), on a free 127.0.0.1 port.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import torch

from bench import load

EXIT_LIMIT_S = 10.0
PAGES = ("LSTM_Forecasting", "Word_Embeddings", "Decision_Boundary", "Regression")


def _open(url: str, page: str, stop: threading.Event) -> None:
    import requests

    try:  # the answer does not matter: the server is stopped while the page trains
        requests.post(url + load.INTERACT, json={"page": page}, timeout=60)
    except requests.RequestException:
        pass


def test_sigterm_under_load_exits_promptly_and_leaves_no_partial_checkpoint():
    pytest.importorskip("requests")
    server = load.start_server()
    stop = threading.Event()
    try:
        threads = [threading.Thread(target=_open, args=(server.url, PAGES[i % len(PAGES)], stop), daemon=True)
                   for i in range(8)]
        for thread in threads:
            thread.start()
        # once the first default model is saved, the other pages' trainings run or wait in the queue
        waited = time.perf_counter()
        while not any(server.cache_dir.glob("*.pt")) and time.perf_counter() - waited < 120:
            time.sleep(0.1)
        time.sleep(1.0)
        assert server.process.poll() is None, server.log()[-3000:]
        sent = time.perf_counter()
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.process.wait(30)
        except Exception:
            pass
        exit_s = time.perf_counter() - sent
        print(f"\nSIGTERM -> exit in {exit_s:.1f} s")
        assert server.process.poll() is not None, "the server did not exit within 30 s of SIGTERM"
        assert exit_s < EXIT_LIMIT_S, f"exit took {exit_s:.1f} s\n{server.log()[-3000:]}"
        files = sorted(server.cache_dir.iterdir())
        temps = [f.name for f in files if not f.name.endswith(".pt")]
        assert not temps, f"left behind: {temps}"
        for path in files:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            assert "state_dict" in payload, path.name
    finally:
        stop.set()
        load.stop_server(server)
