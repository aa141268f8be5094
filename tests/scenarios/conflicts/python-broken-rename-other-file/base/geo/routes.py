"""Routes as lists of (lat, lon) points."""

from geo.distance import haversine


def route_length(points):
    return sum(haversine(a, b) for a, b in zip(points, points[1:]))
