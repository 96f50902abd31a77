"""Tests against local emulators, started by the tests themselves."""
