from typing import Any, Dict, List, Types, Set


def keys(table: Dict[str, Any]) -> Set[str]:
    return set(table)
