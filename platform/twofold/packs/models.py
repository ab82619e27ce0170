"""Which packs each tenant has enabled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from twofold.db import TenantScoped, db, utcnow


class TenantPack(TenantScoped, db.Model):
    __tablename__ = "tenant_packs"
    __table_args__ = (UniqueConstraint("tenant_id", "pack"),)

    pack: Mapped[str] = mapped_column(String(63))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Seeding defaults happens once; re-enabling only shows the data again.
    seeded: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
