package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"generate", "../../generate/testdata/hpa"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "kind: DriftReport") {
		t.Errorf("generate: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"generate", "../../generate/testdata/invalid-policy"}, &out, &errb); code != 1 || out.Len() != 0 ||
		!strings.Contains(errb.String(), `unknown field "spec.riskTeir"`) {
		t.Errorf("invalid policy: exit %d, stdout %q (must be empty), stderr %q", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := run([]string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("unknown command: exit %d, stderr %q", code, errb.String())
	}
	if code := run(nil, &out, &errb); code != 2 {
		t.Errorf("no command: exit %d", code)
	}
}
