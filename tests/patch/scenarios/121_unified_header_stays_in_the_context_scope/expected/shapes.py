class Square:
    def __init__(self, size):
        self.size = size
        self.color = "black"


class Circle:
    def __init__(self, size):
        self.size = size
        self.color = None
