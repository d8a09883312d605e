"""Names the dead-code check (vulture, in `make lint`) cannot see used, each with who uses it.

Framework hooks (pydantic's ``model_config`` and validators, the pickle ``find_class`` override) are ignored by name or
decorator in ``[tool.vulture]`` of pyproject.toml.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# Fields of the seed's Management model: parsed from the pipeline's objects and kept when they are written back.
_.cancel
_.stopped
_.languages

# Fields of Streamlit's BackMsg protobuf, set by the load generator (bench/load.py) as the browser's frontend does.
_.query_string
_.page_name

# What the upload benchmark's run reports; tests/browser/test_big_upload.py reads it.
_.stored_message

# The fault proxy's switch, flipped by the browser fault tests (tests/browser/test_faults.py).
_.set_mode

# The history dataset read back whole: the collect tests check what collect stored through it.
_.stored_jobs

# io.TextIOBase's protocol: print() and logging ask a stream whether it is writable (core/cli.py's terminal stream).
_.writable
