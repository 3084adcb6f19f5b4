"""Calls on the single number: PBX webhooks, the operator's live call card, the voice menu."""
