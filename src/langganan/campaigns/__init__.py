"""Campaigns: audiences, triggers, templates, an outbox, channels, guardrails and ROI."""
