"""Customer channels: one adapter per channel (webchat, email, WhatsApp)."""
