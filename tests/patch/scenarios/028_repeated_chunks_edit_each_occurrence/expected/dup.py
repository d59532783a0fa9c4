def first():
    value = compute()
    return value + 1


def second():
    value = compute()
    return value + 2
