"""buildtool: MODULEINFO as the single source of module dependency data.

The pipeline: ``extract`` finds blocks, ``moduleinfo`` parses them, ``resolve``
classifies every name against the scanned set and the ``catalog``, giving a
``model.Tree``; ``generate`` emits headers from the tree, ``loader`` and
``check`` read the same tree back.
"""

__version__ = "0.1.0"
