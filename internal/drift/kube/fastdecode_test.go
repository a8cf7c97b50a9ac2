package kube

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fastDecode is DocumentDecoder's shortcut with a fresh line buffer.
func fastDecode(doc []byte) (map[string]any, bool) {
	var d DocumentDecoder
	return d.DecodeFast(doc)
}

// sameAsKube fails unless a document fastDecode decodes decodes through DecodeManifests into one
// object, equal to fastDecode's and encoding to the same JSON (MarshalJSON included). It reports
// whether fastDecode took the document.
func sameAsKube(t testing.TB, doc []byte) bool {
	t.Helper()
	got, ok := fastDecode(doc)
	if !ok {
		return false
	}
	want, err := DecodeManifests("doc", doc)
	if err != nil {
		t.Fatalf("fastDecode took a document kube refuses (%v):\n%s", err, doc)
	}
	if len(want) != 1 {
		t.Fatalf("fastDecode took a document kube reads as %d objects:\n%s", len(want), doc)
	}
	if !reflect.DeepEqual(got, want[0].Object.Object) {
		t.Fatalf("fastDecode:\n%#v\nkube:\n%#v\ndocument:\n%s", got, want[0].Object.Object, doc)
	}
	gj, err1 := json.Marshal(got)
	wj, err2 := json.Marshal(want[0].Object.Object)
	if err1 != nil || err2 != nil || !bytes.Equal(gj, wj) {
		t.Fatalf("JSON differs (%v, %v):\n%s\n%s\ndocument:\n%s", err1, err2, gj, wj, doc)
	}
	sameJSON(t, got)
	return true
}

const fyHead = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"

// fyTaken are documents in fastDecode's subset: each must be decoded by it, and as
// DecodeManifests does.
var fyTaken = []string{
	fyHead,
	"# Source: chart/templates/a.yaml\n" + fyHead + "data:\n  a: b\n",
	fyHead + "data:\n  - a\n",
	"---\n" + fyHead,
	fyHead + "data:\n  i: 1\n  f: 1.5\n  neg: -3\n  big: 123456789012345678\n  huge: 18446744073709551615\n  hex: 0x1F\n  oct: 0o17\n  leadingzero: 017\n  exp: 1e3\n  dot: .5\n  dotted: 1.2.3\n  ip: 10.0.0.1\n  q: 100m\n  mem: 64Mi\n  minus0: -0.0\n  inf: 1e999\n",
	fyHead + "data:\n  t: true\n  y1: yes\n  y2: Y\n  o1: on\n  o2: OFF\n  n1: ~\n  n2: null\n  n3: ~x\n  empty:\n  word: yesno\n",
	fyHead + "spec:\n  s: 'it''s'\n  d: \"a: b # c\"\n  e: ''\n  f: \"\"\n  url: http://x.example/a?b=c&d=e\n  image: nginx:1.25\n  path: /healthz\n  under: _x\n  sp: hello   world   # comment\n  br: a[0]{1},x\n",
	fyHead + "spec:\n  containers:\n  - name: app\n    args: [--a, -b, .c, +d]\n    command:\n    - --port=80\n    ports:\n      - containerPort: 80\n        name: http\n  -   name: sidecar\n      image: busybox\n  list:\n  -\n  - # empty\n  - x\n  deep:\n    - a: 1\n      b:\n      - 2\n",
	fyHead + "spec:\n  selector: {app: web, tier: \"front\", 'x': 'y'}\n  env: [{name: A, value: \"1\"}, {name: B, value: '2'}]\n  empty: {}\n  none: [ ]\n  nested: {a: [1, {b: c}], d: [ ]}\n  sp: [ a b , c ]\n",
	fyHead + "  labels:\n    app.kubernetes.io/name: web\n    helm.sh/chart: web-1.0.0\n    \"quoted key\": v\n    'single': v\n  annotations:   # why\n    checksum/config: abc123\n",
	fyHead + "\n\n   # indented comment\ndata:\n\n  a: b\n# trailing\n",
	fyHead + "data:\n  k: v\n  key_with_under: x\n  9to5: x\n",
	"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 3\n",
}

// fyRefused are documents outside the subset, or that DecodeManifests refuses or decodes differently
// from a naive reading: fastDecode must leave them to it.
var fyRefused = []string{
	"",
	"# only a comment\n",
	"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"x\"}}",
	"apiVersion: v1\nkind: List\nmetadata:\n  name: x\nitems: []\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: x-\n",
	"kind: ConfigMap\nmetadata:\n  name: x\n",
	"apiVersion: 1\nkind: ConfigMap\nmetadata:\n  name: x\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: x\n",
	fyHead + "data:\n  a: &x b\n  c: *x\n",
	fyHead + "data:\n  a: !!str 1\n",
	fyHead + "data:\n  a: |\n    text\n",
	fyHead + "data:\n  a: >-\n    text\n",
	fyHead + "data:\n  a: \"esc\\n\"\n",
	fyHead + "data:\n  a: \"multi\n    line\"\n",
	fyHead + "data:\n  a: multi\n    line\n",
	fyHead + "data:\n  a: b\n  a: c\n",
	fyHead + "data:\n  a:\tb\n",
	fyHead + "data:\n  a: b\r\n",
	fyHead + "data:\n  a: caf\xc3\xa9\n",
	fyHead + "data:\n  a: 2001-12-14\n",
	fyHead + "data:\n  a: 1_000\n",
	fyHead + "data:\n  a: .inf\n",
	fyHead + "data:\n  a: .nan\n",
	fyHead + "data:\n  on: x\n",
	fyHead + "data:\n  1: x\n",
	fyHead + "data:\n  <<: {a: b}\n",
	fyHead + "data:\n  a: b: c\n",
	fyHead + "data:\n  a: b:\n",
	fyHead + "data:\n  a: [1, 2\n",
	fyHead + "data:\n  a: {b: c,}\n",
	fyHead + "data:\n  a: {b:c}\n",
	fyHead + "data:\n  a: [b: c]\n",
	fyHead + "data:\n  a: \"b\" c\n",
	fyHead + "data:\n  a: - b\n",
	fyHead + "spec:\n  a:\n    - b\n    c: d\n",
	fyHead + "spec:\n  a:\n  - - b\n",
	fyHead + "spec:\n  a:\n    text\n",
	fyHead + "spec:\n a: 1\n  b: 2\n",
	fyHead + "spec:\n  -   a: 1\n    b: 2\n",
	fyHead + "? complex\n: key\n",
	"%YAML 1.1\n---\n" + fyHead,
	"  " + fyHead,
	fyHead + "...\n",
	fyHead + "data:\n  a: #b\n  c: d#e\n",
}

// TestDocumentDecoderMatchesDecodeManifests: Decode gives DecodeManifests' objects, Sources and
// errors, one decoder reused across documents in and out of the subset (its line buffer must not
// leak from one document into the next).
func TestDocumentDecoderMatchesDecodeManifests(t *testing.T) {
	var d DocumentDecoder
	for _, doc := range append(append(append([]string{}, fyTaken...), fyRefused...), fyTaken...) {
		got, gerr := d.Decode("chart (rendered) document 3", []byte(doc))
		want, werr := DecodeManifests("chart (rendered) document 3", []byte(doc))
		if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Fatalf("Decode error %v, DecodeManifests %v\n%s", gerr, werr, doc)
		}
		if len(got) != len(want) {
			t.Fatalf("Decode: %d objects, DecodeManifests %d\n%s", len(got), len(want), doc)
		}
		for i := range got {
			if got[i].Source != want[i].Source || !reflect.DeepEqual(got[i].Object.Object, want[i].Object.Object) {
				t.Fatalf("Decode %s %#v, DecodeManifests %s %#v", got[i].Source, got[i].Object.Object, want[i].Source, want[i].Object.Object)
			}
		}
	}
}

func TestFastDecodeMatchesKube(t *testing.T) {
	for i, doc := range fyTaken {
		if !sameAsKube(t, []byte(doc)) {
			t.Errorf("fyTaken[%d]: fastDecode left it to kube:\n%s", i, doc)
		}
	}
	for i, doc := range fyRefused {
		if sameAsKube(t, []byte(doc)) {
			t.Errorf("fyRefused[%d]: fastDecode decoded it:\n%s", i, doc)
		}
	}
}

// TestFastDecodeCorpus holds fastDecode to DecodeManifests' decoding on every YAML document in the
// repository's test data.
func TestFastDecodeCorpus(t *testing.T) {
	taken, docs := 0, 0
	err := filepath.WalkDir("../../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "dist") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(p); d.IsDir() || (ext != ".yaml" && ext != ".yml") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, doc := range splitDocs(data) {
			docs++
			if sameAsKube(t, doc) {
				taken++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if taken < 50 {
		t.Fatalf("fastDecode took %d of %d documents: the comparison would prove little", taken, docs)
	}
	t.Logf("fastDecode took %d of %d documents", taken, docs)
}

func splitDocs(data []byte) [][]byte {
	all, _ := readerSplit(data)
	var docs [][]byte
	for _, doc := range all {
		if strings.TrimSpace(string(doc)) != "" {
			docs = append(docs, doc)
		}
	}
	return docs
}

// FuzzFastDecode: whatever fastDecode decodes, DecodeManifests decodes to the same object.
func FuzzFastDecode(f *testing.F) {
	for _, doc := range fyTaken {
		f.Add([]byte(doc))
	}
	for _, doc := range fyRefused {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		sameAsKube(t, doc)
	})
}

// TestFastDecodeGenerated holds fastDecode to DecodeManifests' decoding on documents built at random from
// tricky scalars, keys and layouts (block and flow, compact sequences, comments, odd
// indentation), which random byte mutation rarely reaches.
func TestFastDecodeGenerated(t *testing.T) {
	scalars := []string{"a", "yes", "No", "on", "OFF", "y", "~", "null", "1", "-1", "+1", "0", "-0", "-0.0", "0x1F", "017",
		"0o17", "1e3", "1.5", ".5", "-.5", "+.5", "1.", "1.2.3", "100m", "64Mi", "2001-12-14", "1_000", ".inf", "-.inf", ".nan",
		"0b101", "0b2", "1e400", "123456789012345678901", "18446744073709551615", "a:b", "a b", "http://x/y?z=1", "-x", "--x",
		"~x", "/p", "_u", "a'b", "a\"b", "a[0]", "a{b}", "a,b", "'q'", "\"d\"", "'it''s'", "\"a # b\"", "\"\"", "''",
		"a #c", "a#c", "x:", "- x", "[]", "{}", "[a, b]", "{k: v}", "[ a , 'b' ]", "{k: [1, {j: x}]}", "{k:v}", "[a: b]",
		"\"esc\\n\"", "&a x", "*a", "!!str 1", "|", ">-", "? x", "%x", "@x", "`x`", ": x", "1 #c", "v1", "3s"}
	keys := []string{"a", "b", "c", "app.kubernetes.io/name", "on", "y", "no", "1", "x-y", "\"q k\"", "'s k'", "_k", "k_",
		"-k", ".k", "a:b", "true", "k.1", "0x1", "\"a\""}
	rnd := rand.New(rand.NewPCG(1, 2))
	pick := func(l []string) string { return l[rnd.IntN(len(l))] }
	var node func(b *strings.Builder, indent, depth int, inline bool)
	pad := func(n int) string { return strings.Repeat(" ", n) }
	node = func(b *strings.Builder, indent, depth int, inline bool) {
		step := 1 + rnd.IntN(3)
		switch r := rnd.IntN(10); {
		case depth > 3 || r < 4:
			if inline {
				b.WriteString(" ")
			}
			b.WriteString(pick(scalars))
			if rnd.IntN(8) == 0 {
				b.WriteString(" # note")
			}
			b.WriteString("\n")
		case r < 7:
			b.WriteString("\n")
			for range 1 + rnd.IntN(3) {
				if rnd.IntN(10) == 0 {
					b.WriteString(pad(rnd.IntN(6)) + "# comment\n")
				}
				b.WriteString(pad(indent+step) + pick(keys) + ":")
				node(b, indent+step, depth+1, true)
			}
		default:
			b.WriteString("\n")
			ind := indent + step
			if rnd.IntN(3) == 0 {
				ind = indent // a sequence at its key's column
			}
			for range 1 + rnd.IntN(3) {
				b.WriteString(pad(ind) + "-")
				if rnd.IntN(3) == 0 {
					b.WriteString(" " + pick(keys) + ":")
					node(b, ind+2, depth+1, true)
					if rnd.IntN(2) == 0 {
						b.WriteString(pad(ind+2) + pick(keys) + ":")
						node(b, ind+2, depth+1, true)
					}
				} else {
					node(b, ind, depth+1, true)
				}
			}
		}
	}
	taken := 0
	for range 20000 {
		var b strings.Builder
		if rnd.IntN(4) == 0 {
			b.WriteString("---\n# Source: chart/templates/x.yaml\n")
		}
		b.WriteString(fyHead)
		for range 1 + rnd.IntN(3) {
			b.WriteString(pick([]string{"data", "spec", "status", "on", "x"}) + ":")
			node(&b, 0, 0, true)
		}
		if sameAsKube(t, []byte(b.String())) {
			taken++
		}
	}
	if taken < 1000 {
		t.Fatalf("fastDecode took only %d of 20,000 generated documents: the comparison would prove little", taken)
	}
	t.Logf("fastDecode took %d of 20,000 generated documents", taken)
}
