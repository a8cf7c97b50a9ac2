package drift

import "testing"

func TestMatchAddress(t *testing.T) {
	for _, tc := range []struct {
		pattern, addr string
		want          bool
	}{
		{"aws_security_group.app_public", "aws_security_group.app_public", true},
		{"aws_security_group.*", "aws_security_group.app_public", true},
		{"aws_security_group.*", "aws_security_group.app_public[0]", true},
		{"aws_security_group.app_*", "aws_security_group.app_public", true},
		{"aws_security_group.*", "module.net.aws_security_group.x", false},
		{"module.*.aws_security_group.x", "module.net.aws_security_group.x", true},
		{`module.net["a.b"].aws_iam_role.r`, `module.net["a.b"].aws_iam_role.r`, true},
		{"*.x", "aws_instance.x", true},
		{"aws_instance.x", "aws_instance.y", false},
		{"apps/v1/Deployment/*/web", "apps/v1/Deployment/prod/web", true},
	} {
		if got := MatchAddress(tc.pattern, tc.addr); got != tc.want {
			t.Errorf("MatchAddress(%q, %q) = %v, want %v", tc.pattern, tc.addr, got, tc.want)
		}
	}
}

func TestResourceType(t *testing.T) {
	for addr, want := range map[string]string{
		"aws_iam_role.r":                          "aws_iam_role",
		"module.x.aws_iam_role.r[0]":              "aws_iam_role",
		`module.x["k"].module.y.aws_s3_bucket.b`:  "aws_s3_bucket",
		"data.aws_iam_policy_document.d":          "aws_iam_policy_document",
		"module.m.data.aws_iam_policy_document.d": "aws_iam_policy_document",
		`aws_security_group.sg["a.b"]`:            "aws_security_group",
	} {
		if got := ResourceType(addr); got != want {
			t.Errorf("ResourceType(%q) = %q, want %q", addr, got, want)
		}
	}
}
