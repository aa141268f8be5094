import os


<<<<<<< left
||||||| base
class Reader:
    """Reads things."""

    def __init__(self, path):
        self.path = path

    def read(self):
        with open(self.path) as f:
            return f.read()
=======
class Reader:
    """Reads things."""

    def __init__(self, path):
        self.path = path

    def read(self):
        with open(self.path) as f:
            return f.read().strip()
>>>>>>> right


class Writer:
    def __init__(self, path):
        self.path = path

    def write(self, text):
        with open(self.path, "w") as f:
            f.write(text)


def helper():
    return os.path.abspath(os.getcwd())
