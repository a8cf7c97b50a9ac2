# Base values for prod.
replicas = 5
image    = "app:1.0"
