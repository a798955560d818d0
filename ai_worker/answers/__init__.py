"""How an answer is made (DESIGN.md): catalog → curated → generated (checked) → extractive → fallback.

Each way is a `Responder`; the pipeline asks them in order and the first that answers wins.
"""
