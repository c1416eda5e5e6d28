import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from config.local_setup import local_folders_ensure


class Command(BaseCommand):
    help = "Run the web server and one Celery worker together; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host, port, **options):
        local_folders_ensure()  # the filesystem broker's folders, before the worker reads them
        python = sys.executable
        processes = [
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "--quiet",  # no banner: the demo's login and links stay on screen
                    "worker",
                    "--pool=solo",
                    "--loglevel=INFO",
                    "--concurrency=1",
                ]
            ),
            subprocess.Popen([python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]),
        ]
        self.stdout.write(f"Serving on http://{host}:{port}/ with one Celery worker; Ctrl-C stops.")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.3)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Stopped the web server and the worker.")
