def load_users(db):
    rows = db.query("users")
    return [dict(row) for row in rows]


def load_orders(db):
    # newest first
    rows = db.query("orders")
    return [dict(row) for row in rows]
