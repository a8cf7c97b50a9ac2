# Base values for prod.
replicas = 2
image    = "app:1.0"
