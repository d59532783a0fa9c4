class Cart:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)

    def total(self):
        prices = [item.price * item.quantity for item in self.items]
        return sum(prices)
