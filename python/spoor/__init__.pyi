"""Type stubs for spoor (the module is written in Rust)."""

from os import PathLike
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

__version__: str

class HuntError(Exception):
    """A hunt that does not check; the message shows each problem under its source line."""

class SpoorError(Exception):
    """A problem reading logs, the store or a file."""

class Diagnostic:
    """One problem `check` found: a stable code (E001...), where, what, and a hint."""

    code: str
    severity: str
    message: str
    line: int
    column: int
    hint: Optional[str]

class IngestResult:
    """What `Store.ingest` did: every record read is stored, skipped or rejected."""

    rows: Dict[str, int]
    read: int
    stored: int
    skipped: int
    rejected: int
    files: List[Dict[str, Any]]

class HuntResult:
    """A hunt's rows; Arrow-native through `__arrow_c_stream__`."""

    num_rows: int
    columns: List[str]
    def __len__(self) -> int: ...
    def __arrow_c_schema__(self) -> object: ...
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def to_pyarrow(self) -> Any: ...
    def to_pandas(self) -> Any: ...
    def to_polars(self) -> Any: ...
    def _repr_html_(self) -> str: ...

class Finding:
    """One finding of a pack run. `str()` shows it as text, Jupyter as HTML, with the process
    tree of a process-chain finding."""

    id: str
    hunt: str
    title: str
    severity: str
    confidence: Optional[str]
    author: Optional[str]
    attack: List[str]
    timestamp: Optional[str]
    entities: Dict[str, str]
    evidence: List[Tuple[str, Optional[int]]]
    fields: Dict[str, Any]
    process_tree: List[Dict[str, Optional[str]]]
    def to_dict(self) -> Dict[str, Any]: ...
    def _repr_html_(self) -> str: ...

class PackResult:
    """What `Store.run_pack` found: one row per finding (Arrow), or `.findings` as objects."""

    skipped: List[str]
    findings: List[Finding]
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...
    def __arrow_c_schema__(self) -> object: ...
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def to_pyarrow(self) -> Any: ...

class Store:
    """A log store: Parquet tables that `ingest` appends to and hunts read."""

    path: Union[str, PathLike]
    def __init__(
        self,
        path: Union[str, PathLike],
        memory_limit: Optional[str] = None,
        timeout: Optional[str] = None,
        cluster: Optional[str] = None,
    ) -> None: ...
    def ingest(
        self,
        paths: Sequence[Union[str, PathLike]],
        format: str = "auto",
        mapping: Optional[Union[str, PathLike]] = None,
        assets: Optional[Union[str, PathLike]] = None,
    ) -> IngestResult: ...
    def tables(self) -> List[Dict[str, Any]]: ...
    def hunt(
        self,
        query_or_path: str,
        params: Optional[Mapping[str, str]] = None,
        since: Optional[str] = None,
        iocs: Optional[Sequence[Union[str, PathLike]]] = None,
    ) -> HuntResult: ...
    def register(self, name: str, data: Any) -> None: ...
    def run_pack(
        self,
        path: Union[str, PathLike] = "hunts",
        since: Optional[str] = None,
        iocs: Optional[Sequence[Union[str, PathLike]]] = None,
        params: Optional[Mapping[str, str]] = None,
    ) -> PackResult: ...

def check(query_or_path: str) -> List[Diagnostic]: ...
def explain(query_or_path: str, store: Store, sql: bool = False) -> str: ...
