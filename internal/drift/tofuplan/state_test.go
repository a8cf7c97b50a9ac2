package tofuplan

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// A state written by OpenTofu 1.10.10 (`tofu show -json`) of two local files, one sensitive.
func TestStateIDs(t *testing.T) {
	data, err := os.ReadFile("testdata/local-state.json")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := StateIDs("local-state.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if ids["local_file.a"]["id"] != "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d" || ids["local_sensitive_file.s"]["filename"] != "./s.txt" {
		t.Errorf("ids %v", ids)
	}
	out, _ := json.Marshal(ids)
	if strings.Contains(string(out), "topsecret") {
		t.Errorf("a sensitive state value survived: %s", out)
	}
	for in, want := range map[string]string{`{"format_version":"1.0"}`: "has no values", `[1]`: "not the JSON of a state"} {
		if _, err := StateIDs("s.json", []byte(in)); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "s.json") {
			t.Errorf("%s: %v", in, err)
		}
	}
}
