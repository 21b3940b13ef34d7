"""spoor: hunt threats in security logs from Python.

Open a store, ingest logs, hunt, and get Arrow data back without copies::

    import spoor
    store = spoor.Store("hunt-store")
    store.ingest(["logs/"])
    result = store.hunt('process | where process.parent.name =~ "node" | select host.name, process.command_line')
    result.to_pandas()        # or pyarrow.table(result), polars.DataFrame(result)
    for finding in store.run_pack("hunts").findings:
        print(finding)        # severity, hunt, entities, process tree, evidence

`spoor.check(query)` lists a hunt's problems without running it; invalid hunts raise
`spoor.HuntError` with each problem shown under its source line.
"""

from ._spoor import (
    Diagnostic,
    Finding,
    HuntError,
    HuntResult,
    IngestResult,
    PackResult,
    SpoorError,
    Store,
    __version__,
    check,
    explain,
)

__all__ = [
    "Diagnostic",
    "Finding",
    "HuntError",
    "HuntResult",
    "IngestResult",
    "PackResult",
    "SpoorError",
    "Store",
    "__version__",
    "check",
    "explain",
]
