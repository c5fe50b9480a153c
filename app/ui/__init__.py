"""The desktop window. The only package that imports Qt; it holds no business rules."""
