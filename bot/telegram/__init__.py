"""The Telegram channel: the conversation spoken through aiogram (adapter) and the notices sent to chats (transport)."""
