package kube

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// FuzzDecodeManifests: arbitrary manifest bytes never panic; errors name the file; every decoded
// object normalizes and compares with itself as no drift.
func FuzzDecodeManifests(f *testing.F) {
	f.Add([]byte(managedLive))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"))
	f.Add([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\ndata: {c: null}\n---\n{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":{\"ports\":[{\"port\":\"80\"}]}}"))
	f.Add([]byte("apiVersion: example.com/v1\nkind: W\nmetadata: {name: w}\nspec: {items: [{name: a}, {name: a}], q: {limits: {cpu: 0.5}}}\n"))
	// Nesting at and beyond drift.MaxJSONDepth, in JSON and in YAML flow style.
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":` + strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600) + "}"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: " + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}\n"))
	f.Add([]byte("# only a comment\n---\n"))
	// The recorded config/live pairs (testdata/corpus, `make corpus`), which are always there, and
	// gitops-engine's diff test objects in ../shared/corpus when present.
	recorded, _ := filepath.Glob("../../../testdata/corpus/k8s-diff/*")
	if len(recorded) == 0 {
		f.Fatal("the recorded corpus testdata/corpus/k8s-diff is missing (`make corpus` records it)")
	}
	shared, _ := filepath.Glob("../../../../shared/corpus/k8s-diff/*")
	for _, p := range append(recorded, shared...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := DecodeManifests("fuzz.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, m := range ms {
			o, err := Compare(m.Object.Object, m.Object.DeepCopy().Object)
			if err != nil {
				continue // bad managedFields are reported, not panicked on
			}
			if d := drift.Diff(o.Recorded, o.Actual); o.Deleted || len(d) != 0 {
				t.Fatalf("an object differs from itself: deleted=%v %+v", o.Deleted, d)
			}
			a, _ := json.Marshal(o.Recorded)
			b, _ := json.Marshal(Normalize(m.Object.Object).Object)
			if !bytes.Equal(a, b) {
				t.Fatalf("normalization is not deterministic:\n%s\n%s", a, b)
			}
		}
	})
}

// FuzzReadAuditLog: arbitrary audit bytes never panic, and errors name the log and line.
func FuzzReadAuditLog(f *testing.F) {
	f.Add([]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"1","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/web/deployments/web?fieldManager=kubectl-set","verb":"patch","user":{"username":"alice","groups":["devs"]},"userAgent":"kubectl/v1.34.4","objectRef":{"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-22T10:00:00.100000Z"}` + "\n"))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"kind":"EventList"}`))
	f.Add([]byte(`{"stage":"ResponseComplete","verb":"update","objectRef":{"name":"x"},"requestURI":"%zz"}`))
	f.Add([]byte(`{"kind":"Event","x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}\n"))
	f.Add([]byte(`{"kind":"Event","stage":"ResponseComplete","verb":"patch","objectRef":{"name":"x","subresource":"scale"},"user":{"username":"system:anonymous"},"stageTimestamp":"bad"}`))
	// The real API server's audit log of the recorded corpus (`make corpus`).
	recorded, err := os.ReadFile("../../../testdata/corpus/k8s-audit/audit.log")
	if err != nil {
		f.Fatalf("the recorded audit log: %v (`make corpus` records it)", err)
	}
	f.Add(recorded)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ReadAuditLog("audit.log", bytes.NewReader(data))
		if err != nil {
			if !strings.Contains(err.Error(), "audit.log") {
				t.Fatalf("error does not name the log: %v", err)
			}
			return
		}
		_ = a.LastWrite("", "", "", "", "")
		_ = a.LastWrite("", "", "", "x", "x")
	})
}
