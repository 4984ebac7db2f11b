"""`python -m cnn_course` is the same as the `cnn-course` command."""

from cnn_course.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
