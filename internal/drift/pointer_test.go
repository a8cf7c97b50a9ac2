package drift

import "testing"

func TestParsePointerRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		toks []string
	}{
		{"", nil},
		{"/", []string{""}},
		{"/a/b", []string{"a", "b"}},
		{"/a~1b/c~0d", []string{"a/b", "c~d"}},
		{"/ingress/0/cidr_blocks", []string{"ingress", "0", "cidr_blocks"}},
		{"/~01", []string{"~1"}},
	} {
		p, err := ParsePointer(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if len(p) != len(tc.toks) {
			t.Fatalf("%q: got %q want %q", tc.in, []string(p), tc.toks)
		}
		for i := range p {
			if p[i] != tc.toks[i] {
				t.Fatalf("%q: got %q want %q", tc.in, []string(p), tc.toks)
			}
		}
		if got := p.String(); got != tc.in {
			t.Errorf("String() = %q, want %q", got, tc.in)
		}
	}
}

func TestParsePointerErrors(t *testing.T) {
	for _, in := range []string{"a/b", "/a~", "/a~2", "x"} {
		if _, err := ParsePointer(in); err == nil {
			t.Errorf("ParsePointer(%q) succeeded, want error", in)
		}
	}
}

func TestPointerMatching(t *testing.T) {
	for _, tc := range []struct {
		p, pattern      string
		prefix, matches bool
	}{
		{"/ingress/0/cidr_blocks", "/ingress", true, false},
		{"/ingress", "/ingress", true, true},
		{"/ingress_rules", "/ingress", false, false},
		{"/tags/Owner", "/tags/*", true, true},
		{"/spec/template/spec/containers/0/image", "/spec/template/spec/containers/*/image", true, true},
		{"/spec/template/spec/containers/0/image", "/**/image", true, true},
		{"/image", "/**/image", true, true},
		{"/spec/replicas", "/spec/template", false, false},
		{"/a/b", "", true, false},
		{"", "", true, true},
		{"/a", "/a/b", false, false},
	} {
		p, pat := MustPointer(tc.p), MustPointer(tc.pattern)
		if got := p.HasPrefix(pat); got != tc.prefix {
			t.Errorf("%q.HasPrefix(%q) = %v, want %v", tc.p, tc.pattern, got, tc.prefix)
		}
		if got := p.Matches(pat); got != tc.matches {
			t.Errorf("%q.Matches(%q) = %v, want %v", tc.p, tc.pattern, got, tc.matches)
		}
	}
}
