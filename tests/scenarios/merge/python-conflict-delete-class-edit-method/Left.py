import os


class Writer:
    def __init__(self, path):
        self.path = path

    def write(self, text):
        with open(self.path, "w") as f:
            f.write(text)


def helper():
    return os.path.abspath(os.getcwd())
