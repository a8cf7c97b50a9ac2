image = "app:1.2-hotfix" # bumped by release bot
