from typing import Any, Dict, List, Set


def keys(table: Dict[str, Any]) -> Set[str]:
    return set(table.keys())
