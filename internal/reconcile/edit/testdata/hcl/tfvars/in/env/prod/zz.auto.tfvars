image = "app:1.1" # bumped by release bot
