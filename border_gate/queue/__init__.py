"""The electronic queue: capacity, slot booking, the waiting area, calls and expected times."""
