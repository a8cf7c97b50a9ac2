package drift

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// MaxJSONDepth is the deepest nesting of arrays and objects driftplane accepts in any JSON it
// reads (plans, state, CloudTrail, evidence, manifests, audit logs, API answers). Real OpenTofu
// plans and Kubernetes objects stay far below it (a few dozen levels); anything deeper is hostile
// or broken, and decoding it would cost memory out of proportion to its size.
const MaxJSONDepth = 512

// ErrJSONTooDeep is what every *JSONDepthError matches with errors.Is.
var ErrJSONTooDeep = errors.New("JSON nested too deeply")

// JSONDepthError reports a document nested deeper than Max. Offset is the byte (counted from the
// start of the input) of the bracket that went one level too deep.
type JSONDepthError struct {
	Max    int
	Offset int64
}

func (e *JSONDepthError) Error() string {
	return fmt.Sprintf("JSON nested deeper than %d levels (at byte %d)", e.Max, e.Offset)
}

// Unwrap lets errors.Is(err, ErrJSONTooDeep) match.
func (e *JSONDepthError) Unwrap() error { return ErrJSONTooDeep }

// CheckJSONDepth returns a *JSONDepthError when data nests arrays and objects deeper than max
// (max <= 0 means MaxJSONDepth), and nil otherwise. It is a single pass over the bytes that
// allocates nothing and does not validate the JSON: brackets inside strings (escapes included)
// are skipped, everything else is left to the decoder that runs after it. Concatenated documents
// and JSON Lines are checked as one stream. Call it before json.Unmarshal on untrusted input.
func CheckJSONDepth(data []byte, max int) error {
	var s jsonDepthScanner
	s.init(max)
	return s.scan(data)
}

// JSONDepthReader returns a reader that passes r through and fails with a *JSONDepthError as
// soon as the bytes read so far nest deeper than max (max <= 0 means MaxJSONDepth), for inputs
// that are streamed rather than held in memory.
func JSONDepthReader(r io.Reader, max int) io.Reader {
	d := &depthReader{r: r}
	d.s.init(max)
	return d
}

type depthReader struct {
	r   io.Reader
	s   jsonDepthScanner
	err error
}

func (d *depthReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	if n > 0 {
		if serr := d.s.scan(p[:n]); serr != nil {
			d.err = serr
			return 0, serr
		}
	}
	return n, err
}

// jsonDepthScanner keeps its state between calls so input may arrive in pieces.
type jsonDepthScanner struct {
	max      int
	depth    int
	inString bool
	escaped  bool  // the previous byte inside a string was an unconsumed backslash
	offset   int64 // bytes consumed before the current piece
}

func (s *jsonDepthScanner) init(max int) {
	if max <= 0 {
		max = MaxJSONDepth
	}
	s.max = max
}

func (s *jsonDepthScanner) scan(data []byte) error {
	i := 0
	for i < len(data) {
		if s.inString {
			if s.escaped {
				s.escaped = false
				i++
				continue
			}
			// Jump to the next quote or backslash: string contents are most of the bytes of
			// a real plan or manifest.
			j := bytes.IndexAny(data[i:], `"\`)
			if j < 0 {
				break
			}
			i += j
			if data[i] == '\\' {
				s.escaped = true
			} else {
				s.inString = false
			}
			i++
			continue
		}
		switch data[i] {
		case '"':
			s.inString = true
		case '[', '{':
			s.depth++
			if s.depth > s.max {
				return &JSONDepthError{Max: s.max, Offset: s.offset + int64(i)}
			}
		case ']', '}':
			if s.depth > 0 {
				s.depth--
			}
		}
		i++
	}
	s.offset += int64(len(data))
	return nil
}

// DecodeRecord decodes a stored record (what names its kind, e.g. "ledger record"; name the
// record) into v: more than max bytes or hostile nesting is refused before decoding, and its
// schema_version must be want. Every error names the record. Stores are written by others, so a
// record is input like any other.
func DecodeRecord(what, name string, data []byte, max int, want string, v any) error {
	if len(data) > max {
		return fmt.Errorf("%s %s is larger than %d bytes", what, name, max)
	}
	if err := CheckJSONDepth(data, MaxJSONDepth); err != nil {
		return fmt.Errorf("%s %s: %w", what, name, err)
	}
	// One decode: a record's own SchemaVersion field is checked after it (readers such as
	// driftplane slo decode many records). A record of another schema that does not decode
	// is named as such rather than by the decode error.
	if err := json.Unmarshal(data, v); err != nil {
		var head struct {
			SchemaVersion string `json:"schema_version"`
		}
		if json.Unmarshal(data, &head) == nil && head.SchemaVersion != want {
			return fmt.Errorf("%s %s has schema_version %q, want %q", what, name, head.SchemaVersion, want)
		}
		return fmt.Errorf("%s %s: %w", what, name, err)
	}
	got, ok := schemaVersionOf(v)
	if !ok {
		var head struct {
			SchemaVersion string `json:"schema_version"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return fmt.Errorf("%s %s: %w", what, name, err)
		}
		got = head.SchemaVersion
	}
	if got != want {
		return fmt.Errorf("%s %s has schema_version %q, want %q", what, name, got, want)
	}
	return nil
}

// schemaVersionOf reads the SchemaVersion field of the struct v points to (false when it has none).
func schemaVersionOf(v any) (string, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return "", false
	}
	f := rv.Elem().FieldByName("SchemaVersion")
	if !f.IsValid() || f.Kind() != reflect.String {
		return "", false
	}
	return f.String(), true
}
