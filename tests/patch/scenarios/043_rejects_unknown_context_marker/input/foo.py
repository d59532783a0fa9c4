def present():
    return 1
