"""The graph loader: loads built modules as a dependency graph (see docs/loader.md).

One concept per module:

- ``dl``       libc's dlopen/dlsym/dlclose/dlerror through ctypes (handles that really close)
- ``abi``      the ctypes mirror of ``struct ast_module_info`` and its version/size check
- ``meta``     a module's metadata (from the ELF record, no module code runs) and discovery
- ``cache``    the metadata cache beside the modules (like depmod's modules.dep)
- ``config``   modules.conf in Asterisk's syntax
- ``plan``     the implied rules, the order from the graph, and why each module is (not) loaded
- ``runtime``  the loader context: start-up, runtime load/unload/reload, use counts
- ``provided`` who provides what: provided names ("application:Gosub") and interfaces, preferred providers
- ``ondemand`` runtime ``load-provider`` and ``refresh`` (with rollback), and the report's explanations
"""

from buildtool.loader.config import ModulesConfig, parse_config, read_config
from buildtool.loader.meta import ModuleMeta, discover
from buildtool.loader.plan import LoadPlan, plan_load
from buildtool.loader.runtime import Loader

__all__ = ["Loader", "ModuleMeta", "ModulesConfig", "LoadPlan", "discover", "plan_load", "parse_config", "read_config"]
