"""Contacts, their people, e-mail addresses and domains, and message links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailservice.db.base import Base, utcnow
from mailservice.db.types import UtcDateTime

# How a message came to be linked to a contact.
LINK_ADDRESS = "address"
LINK_DOMAIN = "domain"


class Contact(Base):
    """A customer or supplier: a company or a person (kontrahent)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="company")  # company, person
    name: Mapped[str] = mapped_column(String(500), index=True)
    nip: Mapped[str | None] = mapped_column(String(10), index=True)
    street: Mapped[str | None] = mapped_column(String(500))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), default="PL")
    owner: Mapped[str | None] = mapped_column(String(320))  # staff member's e-mail
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    people: Mapped[list[Person]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )
    addresses: Mapped[list[ContactAddress]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )
    domains: Mapped[list[ContactDomain]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )


class Person(Base):
    """A person at a contact (osoba kontaktowa)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(500))
    position: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))

    contact: Mapped[Contact] = relationship(back_populates="people")
    addresses: Mapped[list[ContactAddress]] = relationship(back_populates="person")


class ContactAddress(Base):
    """An e-mail address that belongs to a contact, optionally to one of its people.

    `address_norm` is lowercased with any +tag removed from the local part, the
    form every message address is matched in.
    """

    __tablename__ = "contact_addresses"
    __table_args__ = (UniqueConstraint("contact_id", "address_norm"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    address: Mapped[str] = mapped_column(String(320))
    address_norm: Mapped[str] = mapped_column(String(320), index=True)

    contact: Mapped[Contact] = relationship(back_populates="addresses")
    person: Mapped[Person | None] = relationship(back_populates="addresses")


class ContactDomain(Base):
    """A mail domain owned by a contact: mail from anyone there links to it."""

    __tablename__ = "contact_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(String(255), unique=True)

    contact: Mapped[Contact] = relationship(back_populates="domains")


class MessageContact(Base):
    """A link between a message and a contact, and how it was made."""

    __tablename__ = "message_contacts"
    __table_args__ = (
        UniqueConstraint("message_id", "contact_id"),
        Index("ix_message_contacts_contact", "contact_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    via: Mapped[str] = mapped_column(String(10))  # address, domain


class IgnoredAddress(Base):
    """An address the staff chose to leave out of the to-assign list (newsletters...)."""

    __tablename__ = "ignored_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_norm: Mapped[str] = mapped_column(String(320), unique=True)
