"""Pool page fixtures: the web tests' signed-in clients and the pool tests' pooled customers."""

from tests.pool.conftest import limits, pooled, to_pool  # noqa: F401
from tests.web.conftest import _web_settings, login  # noqa: F401
