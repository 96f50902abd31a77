"""`topology` must be a dict (or return one); this returns a list."""


def topology():
    return [["hello", "reverse"]]
