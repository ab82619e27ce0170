"""Automation triggers, actions and rule templates that plugins register."""
