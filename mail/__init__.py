"""Mail: SMTP out (aiosmtplib), IMAP in (aioimaplib)."""
