<<<<<<< left
from typing import Any, Dict, Types, Set
||||||| base
from typing import Any, Dict, List, Types, Set
=======
from typing import Any, Dict, List, Set
>>>>>>> right


def keys(table: Dict[str, Any]) -> Set[str]:
    return set(table.keys())
