"""Shared logic of the strawberry-spelling pipeline; the stage scripts in stages/ are thin mains over it."""
