resource "aws_iam_policy" "p" {
  name = "readers"
  # Read-only access to the reports bucket.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = "arn:aws:s3:::reports/*"
    }]
  })
}

resource "aws_iam_policy" "q" {
  name   = "computed"
  policy = jsonencode({ Resource = var.arn })
}
