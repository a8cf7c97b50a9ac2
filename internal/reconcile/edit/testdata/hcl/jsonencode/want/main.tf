resource "aws_iam_policy" "p" {
  name = "readers"
  # Read-only access to the reports bucket.
  policy = jsonencode({
    Statement = [{
      Action   = ["s3:GetObject", "s3:ListBucket"]
      Effect   = "Allow"
      Resource = "arn:aws:s3:::reports/*"
    }]
    Version = "2012-10-17"
  })
}

resource "aws_iam_policy" "q" {
  name   = "computed"
  policy = jsonencode({ Resource = var.arn })
}
