def hello():
    return 'final'
