"""Flat-earth approximations, good enough for a city."""

from math import cos, radians, sqrt


def planar_distance_km(a, b):
    dx = (b[1] - a[1]) * 111.32 * cos(radians((a[0] + b[0]) / 2))
    dy = (b[0] - a[0]) * 110.57
    return sqrt(dx * dx + dy * dy)
