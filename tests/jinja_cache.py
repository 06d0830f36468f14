"""Compiled Jinja templates shared by every Flask app a test process builds.

Each Flask app has a Jinja environment of its own, and compiles each template again
on its first render: a quarter of a second per template, paid by every test that
builds a demo app (most browser tests). Jinja's bytecode cache keys code by the
template's name and source; here the key also holds what the environment's compiler
depends on (extensions, syntax, autoescaping, the filters and tests it checks for),
so an app configured otherwise never runs code compiled for another one.
"""

from __future__ import annotations

import hashlib

from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket


def compiler_settings(environment: Environment, name: str) -> str:
    """What the code compiled from one source depends on in ``environment``."""
    autoescape = environment.autoescape
    settings = (
        sorted(environment.extensions),
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        environment.optimized,
        environment.is_async,
        environment.finalize is not None,
        autoescape(name) if callable(autoescape) else autoescape,
        sorted(environment.filters),
        sorted(environment.tests),
    )
    return repr(settings)


class SharedTemplateCode(BytecodeCache):
    """An in-memory bytecode cache for all the environments of one process."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def get_bucket(
        self, environment: Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        """Jinja's bucket, its key widened with the environment's compiler settings."""
        key = self.get_cache_key(name, filename)
        key += hashlib.sha1(compiler_settings(environment, name).encode()).hexdigest()
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()
