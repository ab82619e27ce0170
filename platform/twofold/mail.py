"""Outgoing email, sent from a background job through SMTP.

With no ``MAIL_SERVER`` configured (the embedded default), messages are written to the
log instead, so a laptop demo can still follow a password-reset link.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from twofold import jobs

log = logging.getLogger(__name__)


def send_email(to: str, subject: str, body: str) -> None:
    """Queue a plain-text email; it leaves after the current transaction commits."""
    jobs.enqueue(deliver_email, to, subject, body, queue_name="mail")


def deliver_email(to: str, subject: str, body: str) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not config.get("MAIL_SERVER"):
        log.warning("MAIL_SERVER is not set; email to %s not sent:\n%s", to, message)
        return
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
