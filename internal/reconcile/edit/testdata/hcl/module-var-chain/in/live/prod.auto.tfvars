# Marketing owns this text.
site_body = "welcome" # reviewed 2026-11
