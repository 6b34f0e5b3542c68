"""The web push channel (RFC 8030, RFC 8291 payloads, RFC 8292 VAPID): its transport and keys."""
