"""Locust users and load shapes that speak only the public Invoke API."""
