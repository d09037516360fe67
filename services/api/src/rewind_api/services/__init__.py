"""What the routes do, one module per resource; routes only translate HTTP to calls."""
