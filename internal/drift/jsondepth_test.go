package drift

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func nested(depth int, open, close string) []byte {
	return []byte(strings.Repeat(open, depth) + strings.Repeat(close, depth))
}

func TestCheckJSONDepth(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		max  int
		deep bool
	}{
		{"scalar", `1`, 1, false},
		{"empty", ``, 1, false},
		{"flat object", `{"a":1}`, 1, false},
		{"two levels", `{"a":[1]}`, 1, true},
		{"two levels allowed", `{"a":[1]}`, 2, false},
		{"siblings do not add up", `[[1],[2],[3]]`, 2, false},
		{"brackets in strings", `{"a":"[[[[{{{{"}`, 1, false},
		{"escaped quote in string", `{"a":"\"[[[["}`, 1, false},
		{"escaped backslash ends string", `{"a":"\\"}`, 1, false},
		{"escaped backslash then bracket", `{"a":"\\",  "b":[1]}`, 1, true},
		{"unicode escape", `{"a":"\u005b\u005b"}`, 1, false},
		{"key with brackets", `{"[[[": 1}`, 1, false},
		{"json lines", "{\"a\":1}\n{\"b\":2}\n", 1, false},
		{"json lines, one deep", "{\"a\":1}\n{\"b\":{\"c\":2}}\n", 1, true},
		{"unbalanced closers do not go negative", `]]]][[`, 1, true},
		{"default max", string(nested(MaxJSONDepth, "[", "]")), 0, false},
		{"default max exceeded", string(nested(MaxJSONDepth+1, "[", "]")), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckJSONDepth([]byte(tc.doc), tc.max)
			if tc.deep != (err != nil) {
				t.Fatalf("CheckJSONDepth(%q, %d) = %v, want deep=%v", tc.doc, tc.max, err, tc.deep)
			}
			if err != nil && !errors.Is(err, ErrJSONTooDeep) {
				t.Fatalf("error %v does not match ErrJSONTooDeep", err)
			}
			// The streaming form agrees, fed one byte at a time.
			_, rerr := io.ReadAll(JSONDepthReader(iotest.OneByteReader(strings.NewReader(tc.doc)), tc.max))
			if (rerr != nil) != (err != nil) {
				t.Fatalf("JSONDepthReader = %v, CheckJSONDepth = %v", rerr, err)
			}
		})
	}
}

func TestCheckJSONDepthErrorText(t *testing.T) {
	err := CheckJSONDepth([]byte(`{"a":[[[1]]]}`), 3)
	var de *JSONDepthError
	if !errors.As(err, &de) || de.Max != 3 || de.Offset != 7 {
		t.Fatalf("err = %#v", err)
	}
	if got := err.Error(); got != "JSON nested deeper than 3 levels (at byte 7)" {
		t.Fatalf("text = %q", got)
	}
}

// A 10,000-level document is refused for a few bytes of memory, where decoding it would
// allocate per level. The bound is 50 MB.
func TestCheckJSONDepthMemory(t *testing.T) {
	doc := nested(10_000, `{"a":`, `}`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := CheckJSONDepth(doc, MaxJSONDepth)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrJSONTooDeep) {
		t.Fatalf("err = %v", err)
	}
	used := after.TotalAlloc - before.TotalAlloc
	t.Logf("10,000-level document (%d bytes) rejected after %d bytes allocated", len(doc), used)
	if used > 50<<20 {
		t.Fatalf("allocated %d bytes", used)
	}
	if n := testing.AllocsPerRun(10, func() { _ = CheckJSONDepth(doc, MaxJSONDepth) }); n > 1 {
		t.Fatalf("%v allocations per run, want at most the error", n)
	}
	if n := testing.AllocsPerRun(10, func() { _ = CheckJSONDepth(doc, 20_000) }); n != 0 {
		t.Fatalf("%v allocations per run on an accepted document", n)
	}
}

// refDepth is the nesting depth by encoding/json's own tokenizer.
func refDepth(data []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return deepest, true
		}
		if err != nil {
			return 0, false
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			if depth > deepest {
				deepest = depth
			}
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

// FuzzCheckJSONDepth: on every input encoding/json accepts, the scanner agrees with the
// tokenizer's depth exactly, and whole or streamed in pieces gives the same answer.
func FuzzCheckJSONDepth(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"[\"{"}]}`, `"\\"`, `[[],[[]]]`, `{"\\\"[":[]}`, "1 [2] {\"x\":[3]}"} {
		f.Add([]byte(s), 2)
	}
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 1 || max > 64 {
			max = 1 + (max%64+64)%64
		}
		err := CheckJSONDepth(data, max)
		_, rerr := io.ReadAll(JSONDepthReader(iotest.HalfReader(bytes.NewReader(data)), max))
		if (err != nil) != (rerr != nil) {
			t.Fatalf("whole %v, streamed %v", err, rerr)
		}
		if d, ok := refDepth(data); ok && (d > max) != (err != nil) {
			t.Fatalf("depth %d, max %d, CheckJSONDepth = %v", d, max, err)
		}
	})
}
