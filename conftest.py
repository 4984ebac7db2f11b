"""Root pytest configuration, shared by tests/ and by nbval runs over notebooks/.

Runs made during tests go to a temporary logs folder, never into the repository's logs/.
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_TEST_LOGS_PREFIX = "cnn-course-test-logs-"
# Each pytest-xdist worker inherits the controller's environment: it gets a folder of its own.
if "CNN_COURSE_LOGS_DIR" not in os.environ or (
        "PYTEST_XDIST_WORKER" in os.environ
        and os.path.basename(os.environ["CNN_COURSE_LOGS_DIR"]).startswith(_TEST_LOGS_PREFIX)):
    os.environ["CNN_COURSE_LOGS_DIR"] = tempfile.mkdtemp(prefix=_TEST_LOGS_PREFIX)

try:  # property tests: the same 40 examples on every run (a red CI names a change, not a draw);
    # HYPOTHESIS_PROFILE=deep explores 500 random ones
    from hypothesis import settings

    settings.register_profile("ci", max_examples=40, derandomize=True)
    settings.register_profile("deep", max_examples=500)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover - hypothesis is a test-only dependency
    pass


def pytest_collectstart(collector):
    """nbval: never compare stderr (TensorFlow's C++ log lines land there, differently on
    every machine); stdout and rich outputs of checked cells are still compared."""
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # pragma: no cover - nbval is a test-only dependency
        return
    if isinstance(collector, IPyNbFile):
        collector.skip_compare = (*collector.skip_compare, "stderr")
