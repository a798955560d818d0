"""What the bot says on its own (everything else is the assistant's answer)."""

DEFAULT_GREETING = "Hello! I'm the assistant of {business}. Ask me anything — I'll answer right here."
HELP = (
    "Just write your question in a message and I'll answer it.\n\n"
    "/reset — start a new conversation (I forget the earlier one)\n"
    "/language — choose the language I answer in\n"
    "/help — this message\n\n"
    "Under each answer you can tap 👍 or 👎 to tell us whether it helped."
)
RESET_DONE = "Done — let's start fresh. What can I help you with?"
LANGUAGE_PROMPT = "Which language should I answer in?"
LANGUAGE_SET = "Got it — I'll answer in {name}."
ANSWER_LATER = "Thanks for your message! I'll answer as soon as I can."
FAILED_ANSWER = "Sorry — I couldn't prepare an answer just now. Please try again in a moment or rephrase your question."
REJECTED = "Sorry, I couldn't take that message. Please try writing it a bit shorter or differently."
THROTTLED = "You're writing faster than I can read — please wait a few seconds and send that again."
UNSUPPORTED = "Thanks! I can only read text messages{voice} for now — please write your question in words."
VOICE_UNSUPPORTED = "Thanks for the voice note! I can't listen to voice messages yet — please type your question."
VOICE_FAILED = "Sorry, I couldn't make out that voice note — could you type your question?"
FEEDBACK_THANKS = "Thank you for your feedback!"
FEEDBACK_LATER = "Thanks! I couldn't save that just now — please try again later."
UNAVAILABLE_SHORT = "Sorry, I can't do that right now — please try again in a minute."

LANGUAGES = {
    "en": "English",
    "ru": "Русский",
    "ar": "العربية",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
}
