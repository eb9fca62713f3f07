"""A local HTTP mirror on 127.0.0.1 serving the real files of ../shared/data/mnist-10k, for download tests.

Routes: /good/<file> serves the file, /missing/ answers 404, /wrong/ sends a different body of the same
length, /drop/ promises the full length and closes the connection half-way, /slow/ trickles the file
(16 KiB every 50 ms, for the browser test of Cancel).
"""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MNIST_10K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist-10k"
# The sha256 values published in ../shared/data/README.md (not computed by the code under test).
SHA256 = {
    "train-images-idx3-ubyte.gz": "c2386f10613cf72ec372946581ced23d190b15407236aa2717d877d62b1fe682",
    "train-labels-idx1-ubyte.gz": "dd359dfb638f7ca252aad32dfbfcd07c3009b8bbe7fb51ea6115f141a570b456",
    "t10k-images-idx3-ubyte.gz": "b7cfa44e0f63d87f028e949c3e42cfb0087e9b4349737178ed0c34701ac1c93a",
    "t10k-labels-idx1-ubyte.gz": "ab60807ea3ab0fe0ca8ee2aacaa23722a9c1c73b35550c906abd0f04e51e8d63",
}


class Server:
    """A tiny mirror on 127.0.0.1 that logs every request path."""

    def __init__(self, root: Path):
        self.root, self.log = root, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.log.append(self.path)
                route, _, name = self.path.strip("/").partition("/")
                path = server.root / name
                if route == "missing" or not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes()
                if route == "wrong":
                    body = body[::-1]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if route == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                step = 16_384 if route == "slow" else max(len(body), 1)
                try:
                    for start in range(0, len(body), step):
                        self.wfile.write(body[start : start + step])
                        time.sleep(0.05 if route == "slow" else 0)
                except (BrokenPipeError, ConnectionResetError):  # the client cancelled
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
