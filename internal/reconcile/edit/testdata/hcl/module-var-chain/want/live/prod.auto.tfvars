# Marketing owns this text.
site_body = "welcome back" # reviewed 2026-11
