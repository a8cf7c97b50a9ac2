package kube

import (
	"bytes"
	"strings"
	"testing"
)

func sameSplit(t testing.TB, data []byte) {
	t.Helper()
	got, gerr := SplitDocuments(data)
	want, werr := readerSplit(data)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("errors differ: %v, reader %v\n%q", gerr, werr, data)
	}
	if len(got) != len(want) {
		t.Fatalf("%d documents, reader %d\n%q", len(got), len(want), data)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("document %d: %q, reader %q\nstream %q", i+1, got[i], want[i], data)
		}
	}
}

var splitCases = []string{
	"",
	"\n",
	"a: 1\n",
	"a: 1",
	"---\n# Source: x\na: 1\n---\n# Source: y\nb: 2\n",
	"---\n---\na: 1\n---\n---\n",
	"a: 1\n--- # comment\nb: 2\n---   \nc: 3\n",
	"a: 1\n---x\n",
	"a: 1\n--- x\n",
	"a: 1\n----\n",
	"a: 1\r\n---\r\nb: 2\r\n",
	"a: 1\n ---\nb: 2\n",
	"a: |\n  ---\n  text\n",
	"\n\n---\n\n",
}

func TestSplitDocumentsMatchesReader(t *testing.T) {
	for _, c := range splitCases {
		sameSplit(t, []byte(c))
	}
	long := "a: " + strings.Repeat("x", 10000) + "\n---\nb: 1\n"
	sameSplit(t, []byte(long))
}

// FuzzSplitDocuments: SplitDocuments splits every stream as utilyaml.YAMLReader does.
func FuzzSplitDocuments(f *testing.F) {
	for _, c := range splitCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameSplit(t, data)
	})
}
