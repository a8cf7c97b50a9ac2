package live

import (
	"strings"
	"testing"
)

// FuzzParseImageID: a Pod's status is text anyone who may write the status sets. Whatever it
// holds, the parser never panics, and what it accepts is a well-formed digest that the text
// really ends with.
func FuzzParseImageID(f *testing.F) {
	for _, s := range []string{
		"docker-pullable://registry.example.com/web@sha256:" + strings.Repeat("a", 64),
		"docker://sha256:" + strings.Repeat("0", 64),
		"sha256:" + strings.Repeat("f", 64),
		"web@sha512:" + strings.Repeat("1", 128),
		"web@sha256:" + strings.Repeat("A", 64),
		"@sha256:" + strings.Repeat("a", 64),
		"web:1", "", "://", "a@b@c", "sha256:", "docker-pullable://web@sha256:zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseImageID(s)
		if !ok {
			if id != (ImageID{}) {
				t.Fatalf("rejected %q but returned %+v", s, id)
			}
			return
		}
		if _, ok := ParseDigest(id.Digest); !ok || !strings.HasSuffix(s, id.Digest) {
			t.Fatalf("accepted %q with digest %q", s, id.Digest)
		}
		if strings.ContainsAny(id.Repository, " \t\n@") {
			t.Fatalf("accepted repository %q", id.Repository)
		}
	})
}

// FuzzParseImageRef: a spec's image is user text; splitting it never panics, a digest it finds
// is well-formed, and the parts put back together are the input.
func FuzzParseImageRef(f *testing.F) {
	for _, s := range []string{
		"nginx", "nginx:1.27", "registry.example.com:5000/team/web:1.2",
		"web@sha256:" + strings.Repeat("a", 64), "web:1@sha256:" + strings.Repeat("b", 64),
		"localhost:5000/web", "a:b:c", "@", ":", "web@sha256:short",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := ParseImageRef(s)
		want := r.Repository
		if r.Tag != "" || strings.HasPrefix(s[len(r.Repository):], ":") {
			want += ":" + r.Tag
		}
		if r.Digest != "" {
			if _, ok := ParseDigest(r.Digest); !ok {
				t.Fatalf("%q: digest %q", s, r.Digest)
			}
			want += "@" + r.Digest
		}
		if want != s {
			t.Fatalf("%q split into %+v, which reads back as %q", s, r, want)
		}
		if strings.Contains(r.Tag, "/") {
			t.Fatalf("%q: tag %q holds a path", s, r.Tag)
		}
		_ = NormalizedRepository(r.Repository)
	})
}
