"""Liveness: is the face in front of the camera a person, or a photo, a screen or a mask?"""
