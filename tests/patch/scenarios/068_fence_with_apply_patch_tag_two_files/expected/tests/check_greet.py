from src.app import greet


def check_greet():
    assert greet("Ada") == "Hello, Ada!"
