"""Trips as lists of (lat, lon) points."""

from geo.distance import distance_km


def length(points):
    return sum(distance_km(a, b) for a, b in zip(points, points[1:]))


def stops(points):
    return max(0, len(points) - 2)
