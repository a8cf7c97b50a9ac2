package kube

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DocumentDecoder decodes the documents of a YAML stream, as SplitDocuments splits it, one at a
// time into what DecodeManifests makes of each. DecodeManifests (YAML parsed by yaml.v2,
// re-encoded as JSON, decoded again) costs about as much as helm rendering a chart, so the
// decoder first tries a shortcut for the plain block YAML templates almost always render (block
// mappings and sequences, one-line flow collections, one-line quoted scalars, plain scalars),
// decoded straight into the object DecodeManifests would make of it: float64 numbers, yaml.v2's
// scalar resolution. Anything outside that subset (anchors, tags, block scalars, escapes,
// multi-line scalars, tabs, non-ASCII text, duplicate keys, lists, objects DecodeManifests would
// refuse...) goes to DecodeManifests itself, so what is accepted and what is an error never
// depends on the shortcut. FuzzFastDecode and TestFastDecodeGenerated hold the two decoders to
// the same result.
//
// The zero value is ready to use. A decoder keeps its line buffer from one document to the next,
// so each goroutine needs its own.
type DocumentDecoder struct {
	p fyParser
}

// Decode is DecodeManifests(name, doc) for one document: the same objects, Sources and errors.
func (d *DocumentDecoder) Decode(name string, doc []byte) ([]Manifest, error) {
	if obj, ok := d.p.decode(doc); ok {
		return []Manifest{{Object: &unstructured.Unstructured{Object: obj}, Source: name + "#1"}}, nil
	}
	return DecodeManifests(name, doc)
}

// DecodeFast is the shortcut alone: the object of doc, or ok false where Decode hands doc to
// DecodeManifests. It is exported so a caller can test that the documents it cares about take
// the shortcut (a benchmark chart's render, so the benchmark measures the shortcut and not the
// fallback).
func (d *DocumentDecoder) DecodeFast(doc []byte) (map[string]any, bool) {
	return d.p.decode(doc)
}

// fyMaxDepth bounds nesting well below drift.MaxJSONDepth, so a document decoded here never needed
// DecodeManifests' depth check.
const fyMaxDepth = 64

// fyMaxKey is below libyaml's 1,024-character limit on implicit keys.
const fyMaxKey = 1000

type fyLine struct {
	indent int
	text   string // after the indentation; neither blank nor a comment
}

type fyParser struct {
	lines []fyLine
	i     int
}

// decode returns the object of one document, or ok false when the document is not in the subset
// or is not a single object DecodeManifests would accept as it is. It reuses the line buffer.
func (p *fyParser) decode(doc []byte) (map[string]any, bool) {
	n := 1
	for _, c := range doc {
		if c == '\n' {
			n++
			continue
		}
		if c < 0x20 || c > 0x7e {
			return nil, false
		}
	}
	s := string(doc)
	// The first document of a stream keeps its "---" line (utilyaml.YAMLReader).
	if rest, ok := strings.CutPrefix(s, "---\n"); ok {
		s = rest
	}
	lines := p.lines[:0]
	if cap(lines) < n {
		lines = make([]fyLine, 0, n)
	}
	for len(s) > 0 {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		ind := 0
		for ind < len(line) && line[ind] == ' ' {
			ind++
		}
		t := line[ind:]
		if t == "" || t[0] == '#' {
			continue
		}
		lines = append(lines, fyLine{indent: ind, text: t})
	}
	if len(lines) == 0 || lines[0].indent != 0 {
		return nil, false
	}
	p.lines, p.i = lines, 0
	m, ok := p.mapping(0, 1)
	if !ok || p.i != len(p.lines) || !fyIsObject(m) {
		return nil, false
	}
	return m, true
}

// fyIsObject is DecodeManifests' test of a decoded object (checkObject, and not a List), false
// where it would refuse the object or read it as a List: those documents go to it for its verdict.
func fyIsObject(m map[string]any) bool {
	if _, ok := m["items"]; ok {
		return false
	}
	av, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	md, ok := m["metadata"].(map[string]any)
	if !ok {
		return false
	}
	name, _ := md["name"].(string)
	return av != "" && kind != "" && name != ""
}

// mapping reads a block mapping whose keys sit at column ind.
func (p *fyParser) mapping(ind, depth int) (map[string]any, bool) {
	if depth > fyMaxDepth {
		return nil, false
	}
	m := map[string]any{}
	for p.i < len(p.lines) {
		ln := p.lines[p.i]
		if ln.indent < ind {
			break
		}
		if ln.indent > ind {
			return nil, false
		}
		key, rest, ok := fyKey(ln.text)
		if !ok {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false
		}
		p.i++
		rest = strings.TrimLeft(rest, " ")
		var v any
		if rest == "" || rest[0] == '#' {
			v, ok = p.blockValue(ind, true, depth+1)
		} else {
			v, ok = fyInline(rest, depth+1)
		}
		if !ok {
			return nil, false
		}
		m[key] = v
	}
	return m, true
}

// blockValue reads the value of a key (or sequence item) at column ind that has nothing after
// it on its line: a block node indented deeper, a sequence at the same column when the parent
// is a mapping, or else null.
func (p *fyParser) blockValue(ind int, compactSeq bool, depth int) (any, bool) {
	if p.i >= len(p.lines) {
		return nil, true
	}
	ln := p.lines[p.i]
	switch {
	case ln.indent > ind:
		if fyIsSeqItem(ln.text) {
			return p.sequence(ln.indent, depth)
		}
		if _, _, ok := fyKey(ln.text); !ok {
			return nil, false // a multi-line scalar
		}
		return p.mapping(ln.indent, depth)
	case ln.indent == ind && compactSeq && fyIsSeqItem(ln.text):
		return p.sequence(ind, depth)
	}
	return nil, true
}

func fyIsSeqItem(t string) bool {
	return t == "-" || strings.HasPrefix(t, "- ")
}

// sequence reads a block sequence whose dashes sit at column ind.
func (p *fyParser) sequence(ind, depth int) ([]any, bool) {
	if depth > fyMaxDepth {
		return nil, false
	}
	var out []any
	for p.i < len(p.lines) {
		ln := p.lines[p.i]
		if ln.indent < ind {
			break
		}
		if ln.indent > ind {
			return nil, false
		}
		if !fyIsSeqItem(ln.text) {
			break // the parent mapping's next key, after a sequence at its own column
		}
		rest := strings.TrimLeft(ln.text[1:], " ")
		var v any
		var ok bool
		switch {
		case rest == "" || rest[0] == '#':
			p.i++
			v, ok = p.blockValue(ind, false, depth+1)
		case fyIsSeqItem(rest):
			return nil, false // "- - x"
		default:
			if _, _, isKey := fyKey(rest); isKey {
				// "- key: value" opens a mapping at the key's column.
				p.lines[p.i] = fyLine{indent: ln.indent + len(ln.text) - len(rest), text: rest}
				v, ok = p.mapping(p.lines[p.i].indent, depth+1)
			} else {
				p.i++
				v, ok = fyInline(rest, depth+1)
			}
		}
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// fyKey splits "key: rest" (or "key:") into a string key and what follows the colon.
func fyKey(t string) (string, string, bool) {
	if t[0] == '"' || t[0] == '\'' {
		k, n, ok := fyQuoted(t, 0)
		if !ok || n >= len(t) || t[n] != ':' || (n+1 < len(t) && t[n+1] != ' ') {
			return "", "", false
		}
		return k, t[n+1:], true
	}
	j := 0
	for j < len(t) && fyKeyChar(t[j]) {
		j++
	}
	if j == 0 || j > fyMaxKey || j >= len(t) || t[j] != ':' || (j+1 < len(t) && t[j+1] != ' ') || !fyPlainStart(t[:j]) {
		return "", "", false
	}
	k := t[:j]
	if v, ok := fyResolve(k); !ok || v != any(k) {
		return "", "", false // a key yaml.v2 reads as a bool, number or null
	}
	return k, t[j+1:], true
}

func fyKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-'
}

// fyPlainStart reports whether a plain scalar may start as s does: letters, digits, '/', '_',
// '~', or '-', '+' or '.' followed by more than a space.
func fyPlainStart(s string) bool {
	c := s[0]
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '/', c == '_':
		return true
	case c == '-' || c == '+' || c == '.' || c == '~':
		// Not "- x" (a sequence), nor what could read as a document marker.
		return (len(s) == 1 && c == '~') || len(s) > 1 && s[1] != ' ' && !strings.HasPrefix(s, "---") && !strings.HasPrefix(s, "...")
	}
	return false
}

// fyInline reads the rest of a line as one node: quoted, flow or plain, then at most a comment.
func fyInline(t string, depth int) (any, bool) {
	switch t[0] {
	case '"', '\'', '{', '[':
		v, n, ok := fyFlowNode(t, 0, depth)
		if !ok {
			return nil, false
		}
		rest := t[n:]
		if r := strings.TrimLeft(rest, " "); r != "" && (r[0] != '#' || r == rest) {
			return nil, false
		}
		return v, true
	}
	end := len(t)
	if k := strings.Index(t, " #"); k >= 0 {
		end = k
	}
	s := strings.TrimRight(t[:end], " ")
	if s == "" || !fyPlainStart(s) || strings.IndexByte(s, '#') >= 0 || strings.Contains(s, ": ") || s[len(s)-1] == ':' {
		return nil, false
	}
	return fyResolve(s)
}

// fyFlowNode reads a quoted scalar or a flow collection starting at t[i], all on this line.
func fyFlowNode(t string, i, depth int) (any, int, bool) {
	if depth > fyMaxDepth {
		return nil, 0, false
	}
	switch t[i] {
	case '"', '\'':
		s, n, ok := fyQuoted(t, i)
		return s, n, ok
	case '{':
		m := map[string]any{}
		i = fySkip(t, i+1)
		if i < len(t) && t[i] == '}' {
			return m, i + 1, true
		}
		for {
			var k string
			if i >= len(t) {
				return nil, 0, false
			}
			if t[i] == '"' || t[i] == '\'' {
				var ok bool
				if k, i, ok = fyQuoted(t, i); !ok {
					return nil, 0, false
				}
			} else {
				j := i
				for j < len(t) && fyKeyChar(t[j]) {
					j++
				}
				if j == i || j-i > fyMaxKey || !fyPlainStart(t[i:j]) {
					return nil, 0, false
				}
				k = t[i:j]
				if v, ok := fyResolve(k); !ok || v != any(k) {
					return nil, 0, false
				}
				i = j
			}
			if i+1 >= len(t) || t[i] != ':' || t[i+1] != ' ' {
				return nil, 0, false
			}
			if _, dup := m[k]; dup {
				return nil, 0, false
			}
			v, n, ok := fyFlowValue(t, fySkip(t, i+1), depth+1)
			if !ok {
				return nil, 0, false
			}
			m[k] = v
			i = fySkip(t, n)
			if i < len(t) && t[i] == '}' {
				return m, i + 1, true
			}
			if i >= len(t) || t[i] != ',' {
				return nil, 0, false
			}
			i = fySkip(t, i+1)
		}
	case '[':
		out := []any{}
		i = fySkip(t, i+1)
		if i < len(t) && t[i] == ']' {
			return out, i + 1, true
		}
		for {
			v, n, ok := fyFlowValue(t, i, depth+1)
			if !ok {
				return nil, 0, false
			}
			out = append(out, v)
			i = fySkip(t, n)
			if i < len(t) && t[i] == ']' {
				return out, i + 1, true
			}
			if i >= len(t) || t[i] != ',' {
				return nil, 0, false
			}
			i = fySkip(t, i+1)
		}
	}
	return nil, 0, false
}

// fyFlowValue reads a value inside a flow collection: a quoted scalar, a nested collection, or a
// plain scalar without ':' or '#', which ends at a flow indicator.
func fyFlowValue(t string, i, depth int) (any, int, bool) {
	if i >= len(t) {
		return nil, 0, false
	}
	switch t[i] {
	case '"', '\'', '{', '[':
		return fyFlowNode(t, i, depth)
	}
	j := i
	for j < len(t) && !strings.ContainsRune(",[]{}", rune(t[j])) {
		if t[j] == ':' || t[j] == '#' || t[j] == '"' || t[j] == '\'' {
			return nil, 0, false
		}
		j++
	}
	s := strings.TrimRight(t[i:j], " ")
	if s == "" || !fyPlainStart(s) {
		return nil, 0, false
	}
	v, ok := fyResolve(s)
	return v, j, ok
}

func fySkip(t string, i int) int {
	for i < len(t) && t[i] == ' ' {
		i++
	}
	return i
}

// fyQuoted reads a quoted scalar closed on this line: double-quoted without escapes, or
// single-quoted (two quotes stand for one). It returns the text and the index after the closing quote.
func fyQuoted(t string, i int) (string, int, bool) {
	q := t[i]
	if q == '"' {
		j := strings.IndexByte(t[i+1:], '"')
		if j < 0 {
			return "", 0, false
		}
		s := t[i+1 : i+1+j]
		if strings.IndexByte(s, '\\') >= 0 {
			return "", 0, false
		}
		return s, i + j + 2, true
	}
	var b strings.Builder
	i++
	for {
		j := strings.IndexByte(t[i:], '\'')
		if j < 0 {
			return "", 0, false
		}
		if i+j+1 < len(t) && t[i+j+1] == '\'' {
			b.WriteString(t[i : i+j+1])
			i += j + 2
			continue
		}
		if b.Len() == 0 {
			return t[i : i+j], i + j + 1, true
		}
		b.WriteString(t[i : i+j])
		return b.String(), i + j + 1, true
	}
}

// fyWords are the plain scalars yaml.v2 resolves by name (its resolve table): bools and nulls.
// Its NaN and infinities have no JSON form, and "<<" merges; they are left to DecodeManifests.
var fyWords = map[string]any{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"true": true, "True": true, "TRUE": true,
	"on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false,
	"false": false, "False": false, "FALSE": false,
	"off": false, "Off": false, "OFF": false,
	"~": nil, "null": nil, "Null": nil, "NULL": nil,
}

var fyUnresolvable = map[string]bool{
	".nan": true, ".NaN": true, ".NAN": true,
	".inf": true, ".Inf": true, ".INF": true,
	"+.inf": true, "+.Inf": true, "+.INF": true,
	"-.inf": true, "-.Inf": true, "-.INF": true,
	"<<": true,
}

// fyNumberChars are the characters of every number yaml.v2 parses (strconv's base prefixes and
// hexadecimal digits, signs, points, exponents).
const fyNumberChars = "0123456789abcdefABCDEFxXoO+-."

// fyYAMLStyleFloat is yaml.v2's test of a float.
var fyYAMLStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// fyResolve is yaml.v2's resolution of a plain scalar followed by the JSON round trip of
// sigs.k8s.io/yaml: numbers become float64. ok is false where the shortcut does not follow
// yaml.v2 (timestamps, underscores, binary literals, NaN and infinities).
func fyResolve(s string) (any, bool) {
	switch c := s[0]; {
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		// Only words starting with these letters are in the table.
		if !strings.ContainsRune("yYnNtTfFoO", rune(c)) {
			return s, true
		}
	case c == '/' || c == '_':
		return s, true
	}
	if v, ok := fyWords[s]; ok {
		return v, true
	}
	if fyUnresolvable[s] {
		return nil, false
	}
	switch c := s[0]; {
	case c == '.':
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return fyFloat(f)
		}
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		if fyTimestampLike(s) || strings.IndexByte(s, '_') >= 0 {
			return nil, false
		}
		if strings.Trim(s, fyNumberChars) != "" {
			return s, true // a character no number yaml.v2 parses holds (100m, 64Mi, v1)
		}
		if n, err := strconv.ParseInt(s, 0, 64); err == nil {
			return float64(n), true
		}
		if n, err := strconv.ParseUint(s, 0, 64); err == nil {
			return float64(n), true
		}
		if fyYAMLStyleFloat.MatchString(s) {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return fyFloat(f)
			}
		}
		if strings.HasPrefix(s, "0b") || strings.HasPrefix(s, "-0b") {
			return nil, false
		}
	}
	return s, true
}

func fyFloat(f float64) (any, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false
	}
	return f, true
}

// fyTimestampLike is yaml.v2's quick test for a timestamp: four digits and a dash.
func fyTimestampLike(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i == 4 && i < len(s) && s[i] == '-'
}
