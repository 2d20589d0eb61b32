"""Notifications: e-mail (SMTP, the cron stock-sync service's variables), Telegram and a JSON webhook (the stand-in for
the Stock Service's Pub/Sub topics). Each channel is on when its settings are present. Delivery is retried
and its outcome returned; it never raises, so alerting can never fail a stock sync."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

import requests
from dagster import ConfigurableResource
from pydantic import PrivateAttr
from tenacity import retry, stop_after_attempt, wait_exponential

from inventory_pipeline.redact import redact_urls


@dataclass
class Delivery:
    delivered: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class NotifierResource(ConfigurableResource):
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "inventory-pipeline@localhost"
    alert_email: str = ""
    telegram_token: str = ""
    telegram_chat_id: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    webhook_url: str = ""
    timeout_seconds: float = 10.0
    attempts: int = 3

    _down: set[str] = PrivateAttr(default_factory=set)

    @property
    def channels(self) -> list[str]:
        return [
            name
            for name, on in (
                ("email", self.smtp_host and self.alert_email),
                ("telegram", self.telegram_token and self.telegram_chat_id),
                ("webhook", self.webhook_url),
            )
            if on
        ]

    def send(self, subject: str, text: str, payload: dict, html: str | None = None) -> Delivery:
        outcome = Delivery()
        for channel in self.channels:
            if channel in self._down:  # failed every attempt earlier in this run: do not stall on it again
                outcome.errors.append(f"{channel}: skipped, it failed earlier in this run")
                continue
            sender = {
                "email": lambda: self._email(subject, text, html),
                "telegram": lambda: self._telegram(f"{subject}\n{text}"),
                "webhook": lambda: self._webhook(payload),
            }[channel]
            try:
                retry(stop=stop_after_attempt(max(1, self.attempts)), wait=wait_exponential(0.2, max=5), reraise=True)(
                    sender
                )()
                outcome.delivered.append(channel)
            except Exception as exc:  # reported, never raised: see the module docstring
                self._down.add(channel)
                outcome.errors.append(redact_urls(f"{channel}: {type(exc).__name__}: {exc}")[:300])
        return outcome

    def _email(self, subject: str, text: str, html: str | None) -> None:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = subject, self.mail_from, self.alert_email
        message.set_content(text)
        if html:
            message.add_alternative(html, subtype="html")
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_seconds) as smtp:
            if self.smtp_starttls:
                smtp.starttls()
            if self.smtp_user:
                smtp.login(self.smtp_user, self.smtp_password)
            smtp.send_message(message)

    def _telegram(self, text: str) -> None:
        # The bot token is part of the URL, and requests' errors quote the URL: say only what failed.
        try:
            answer = requests.post(
                f"{self.telegram_api_url.rstrip('/')}/bot{self.telegram_token}/sendMessage",
                json={"chat_id": self.telegram_chat_id, "text": text[:4000]},
                timeout=self.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise RuntimeError(f"Telegram unreachable ({type(exc).__name__})") from None
        if not answer.ok:
            raise RuntimeError(f"Telegram answered HTTP {answer.status_code}")

    def _webhook(self, payload: dict) -> None:
        # Webhook URLs carry their secret in the path or query: never quote them.
        try:
            answer = requests.post(self.webhook_url, json=payload, timeout=self.timeout_seconds)
        except requests.RequestException as exc:
            raise RuntimeError(f"webhook unreachable ({type(exc).__name__})") from None
        if not answer.ok:
            raise RuntimeError(f"webhook answered HTTP {answer.status_code}")
