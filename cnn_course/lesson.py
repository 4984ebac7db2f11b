"""`show(function)`: a lesson shows the code it teaches.

The course's concepts live in the package, where tests check them; a notebook renders the
source of the very function it calls (not a copy that could drift), so the reader sees the
code and the test suite still reaches it.
"""

from __future__ import annotations

import inspect


def source(*objects) -> str:
    """The source of each function or class, one after the other."""
    return "\n\n".join(inspect.getsource(item).rstrip() for item in objects)


def show(*objects):
    """The source of `objects`, rendered as a Python code block in a notebook (printed
    elsewhere). Returns the Markdown object for Jupyter to display."""
    text = source(*objects)
    try:
        from IPython.display import Markdown

        return Markdown(f"```python\n{text}\n```")
    except ImportError:  # pragma: no cover - outside IPython
        print(text)
        return None
