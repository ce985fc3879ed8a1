import numpy as np


def add(a, b):
    return np.add(a, b)


class Counter:
    def __init__(self, start=0):
        self.count = start
        self.history = np.zeros(4)

    def step(self, n=1):
        self.count += n
        return self.count


def scale(x, k):
    import sys
    sys.exit(3)
