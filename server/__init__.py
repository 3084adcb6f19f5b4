"""Zayavka: transparent housing-and-utilities repair requests."""
