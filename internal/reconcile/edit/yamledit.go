package edit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// yamlDoc is one document of a multi-document file: its byte range and its parsed root.
type yamlDoc struct {
	start, end int
	root       *kyaml.Node // nil for an empty document
	lines      []int       // absolute offset of each line of the document
}

// yamlFile is one manifest file as it currently reads (after earlier edits).
type yamlFile struct {
	path string
	src  []byte
	docs []yamlDoc
}

// errUnsafe marks an edit that cannot be made by changing only the value's bytes.
var errUnsafe = errors.New("not rewritable in place")

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := bytes.TrimRight(line[3:], "\r")
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t'
}

// parseYAMLFile splits on document separators itself, so every node position maps back to
// a byte of the file.
func parseYAMLFile(p string, src []byte) (*yamlFile, error) {
	f := &yamlFile{path: p, src: src}
	start := 0
	lineStart := 0
	var cuts [][2]int // document ranges
	for lineStart <= len(src) {
		nl := bytes.IndexByte(src[lineStart:], '\n')
		lineEnd := len(src)
		if nl >= 0 {
			lineEnd = lineStart + nl
		}
		if isSeparator(src[lineStart:lineEnd]) {
			cuts = append(cuts, [2]int{start, lineStart})
			start = lineEnd + 1
			if start > len(src) {
				start = len(src)
			}
		}
		if nl < 0 {
			break
		}
		lineStart = lineEnd + 1
	}
	cuts = append(cuts, [2]int{start, len(src)})
	for _, c := range cuts {
		d := yamlDoc{start: c[0], end: c[1]}
		d.lines = append(d.lines, c[0])
		for i := c[0]; i < c[1]; i++ {
			if src[i] == '\n' {
				d.lines = append(d.lines, i+1)
			}
		}
		var n kyaml.Node
		err := kyaml.NewDecoder(bytes.NewReader(src[c[0]:c[1]])).Decode(&n)
		switch {
		case errors.Is(err, io.EOF):
		case err != nil:
			return nil, fmt.Errorf("edit: %s: %w", p, err)
		case n.Kind == kyaml.DocumentNode && len(n.Content) == 1:
			d.root = n.Content[0]
		}
		f.docs = append(f.docs, d)
	}
	return f, nil
}

// offset converts a node's line/column (columns count characters) to a byte offset in the file.
func (d *yamlDoc) offset(src []byte, line, col int) (int, error) {
	if line < 1 || line > len(d.lines) {
		return 0, fmt.Errorf("line %d out of range", line)
	}
	off := d.lines[line-1]
	for i := 1; i < col; i++ {
		if off >= len(src) || src[off] == '\n' {
			return 0, fmt.Errorf("column %d out of range", col)
		}
		_, w := utf8.DecodeRune(src[off:])
		off += w
	}
	return off, nil
}

// docJSON decodes one document as JSON-shaped values, the form findings use.
func docJSON(b []byte) (any, error) {
	j, err := sigsyaml.YAMLToJSON(b)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// setJSON returns v with the value at ptr set (or deleted when del); false when a step is missing.
func setJSON(v any, ptr drift.Pointer, val any, del bool) (any, bool) {
	if len(ptr) == 0 {
		return val, true
	}
	switch x := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = e
		}
		child, ok := x[ptr[0]]
		if len(ptr) == 1 {
			if del {
				delete(c, ptr[0])
			} else {
				c[ptr[0]] = val
			}
			return c, true
		}
		if !ok || child == nil {
			child = map[string]any{}
		}
		nv, ok := setJSON(child, ptr[1:], val, del)
		if !ok {
			return nil, false
		}
		c[ptr[0]] = nv
		return c, true
	case []any:
		i, err := strconv.Atoi(ptr[0])
		if err != nil || i < 0 || i > len(x) || (i == len(x) && len(ptr) > 1) {
			return nil, false
		}
		c := append([]any{}, x...)
		if len(ptr) == 1 {
			switch {
			case del && i < len(c):
				return append(c[:i], c[i+1:]...), true
			case i == len(c):
				return append(c, val), true
			default:
				c[i] = val
				return c, true
			}
		}
		nv, ok := setJSON(c[i], ptr[1:], val, del)
		if !ok {
			return nil, false
		}
		c[i] = nv
		return c, true
	case nil:
		if _, err := strconv.Atoi(ptr[0]); err == nil {
			return nil, false
		}
		return setJSON(map[string]any{}, ptr, val, del)
	}
	return nil, false
}

// yamlSet writes val at ptr in document di of f, changing only the bytes of that value where it
// can (a scalar, a new key, a new list element), else re-serializing that one document. The result
// is checked by decoding it: the document must equal the old one with exactly that change, and
// every other document must be unchanged.
func yamlSet(f *yamlFile, di int, ptr drift.Pointer, val any, del bool) ([]byte, bool, error) {
	d := f.docs[di]
	before, err := docJSON(f.src[d.start:d.end])
	if err != nil {
		return nil, false, err
	}
	want, ok := setJSON(before, ptr, val, del)
	if !ok {
		return nil, false, fmt.Errorf("%w: the path does not exist in %s", errUnsafe, f.path)
	}
	if sameJSON(before, want) {
		return f.src, false, nil
	}
	check := func(out []byte) bool {
		g, err := parseYAMLFile(f.path, out)
		if err != nil || len(g.docs) != len(f.docs) {
			return false
		}
		for i := range g.docs {
			got, err := docJSON(out[g.docs[i].start:g.docs[i].end])
			if err != nil {
				return false
			}
			exp := any(nil)
			if i == di {
				exp = want
			} else if exp, err = docJSON(f.src[f.docs[i].start:f.docs[i].end]); err != nil {
				return false
			}
			if !sameJSON(got, exp) {
				return false
			}
		}
		return true
	}
	if out, err := yamlSplice(f, di, ptr, val, del); err == nil && check(out) {
		return out, false, nil
	} else if err != nil && !errors.Is(err, errUnsafe) {
		return nil, false, err
	}
	out, err := yamlReencode(f, di, ptr, val, del)
	if err != nil {
		return nil, false, err
	}
	if !check(out) {
		return nil, false, fmt.Errorf("%w: %s could not be rewritten so that only %s changes", errUnsafe, f.path, ptr.String())
	}
	return out, true, nil
}

// yamlSplice changes only the bytes of the value at ptr.
func yamlSplice(f *yamlFile, di int, ptr drift.Pointer, val any, del bool) ([]byte, error) {
	d := &f.docs[di]
	n := d.root
	if n == nil {
		return nil, errUnsafe
	}
	for i, tok := range ptr {
		if n.Kind == kyaml.AliasNode || n.Anchor != "" {
			return nil, fmt.Errorf("%w: %s goes through a YAML anchor or alias, which other fields share", errUnsafe, ptr.String())
		}
		last := i == len(ptr)-1
		switch n.Kind {
		case kyaml.MappingNode:
			var next *kyaml.Node
			var key *kyaml.Node
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == tok {
					key, next = n.Content[j], n.Content[j+1]
				}
			}
			if next == nil {
				if del {
					return f.src, nil
				}
				return insertMapping(f, d, n, ptr[i:], val)
			}
			if last && del {
				return deleteKey(f, d, n, key)
			}
			n = next
		case kyaml.SequenceNode:
			idx, err := strconv.Atoi(tok)
			if err != nil || idx < 0 || idx > len(n.Content) {
				return nil, errUnsafe
			}
			if idx == len(n.Content) {
				if !last || del {
					return nil, errUnsafe
				}
				return appendSequence(f, d, n, val)
			}
			if last && del {
				return nil, errUnsafe
			}
			n = n.Content[idx]
		default:
			return nil, errUnsafe
		}
	}
	if n.Kind == kyaml.AliasNode || n.Anchor != "" {
		return nil, fmt.Errorf("%w: %s is a YAML anchor or alias, which other fields share", errUnsafe, ptr.String())
	}
	if n.Kind != kyaml.ScalarNode {
		return nil, errUnsafe
	}
	switch val.(type) {
	case map[string]any, []any:
		return nil, errUnsafe
	}
	start, err := d.offset(f.src, n.Line, n.Column)
	if err != nil {
		return nil, errUnsafe
	}
	if n.Tag != "" && n.Tag[0] == '!' && !strings.HasPrefix(n.Tag, "!!") {
		return nil, errUnsafe
	}
	if f.src[start] == '!' || f.src[start] == '&' {
		return nil, errUnsafe
	}
	end, err := scalarEnd(f.src, start, d.end, n)
	if err != nil {
		return nil, err
	}
	text, err := renderScalar(val, n, f.src, start)
	if err != nil {
		return nil, err
	}
	return spliceBytes(f.src, start, end, text), nil
}

func spliceBytes(src []byte, start, end int, repl []byte) []byte {
	out := make([]byte, 0, len(src)+len(repl))
	out = append(out, src[:start]...)
	out = append(out, repl...)
	return append(out, src[end:]...)
}

// scalarEnd finds where a scalar's text ends. Multi-line plain scalars are refused (errUnsafe):
// their end is not where a line ends.
func scalarEnd(src []byte, start, limit int, n *kyaml.Node) (int, error) {
	switch n.Style {
	case kyaml.DoubleQuotedStyle:
		for i := start + 1; i < limit; i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case kyaml.SingleQuotedStyle:
		for i := start + 1; i < limit; i++ {
			if src[i] == '\'' {
				if i+1 < limit && src[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	case kyaml.LiteralStyle, kyaml.FoldedStyle:
		_, lineEnd := lineBounds(src[:limit], start)
		base := len(indentOf(src, start))
		end := lineEnd
		for p := lineEnd; p < limit; {
			_, e := lineBounds(src[:limit], p)
			line := src[p:e]
			if len(bytes.TrimSpace(line)) != 0 {
				ind := len(line) - len(bytes.TrimLeft(line, " "))
				if ind <= base {
					break
				}
				end = e
			}
			p = e
		}
		if end > start && src[end-1] == '\n' {
			end--
		}
		return end, nil
	default:
		_, lineEnd := lineBounds(src[:limit], start)
		line := string(src[start:lineEnd])
		line = strings.TrimRight(line, "\r\n")
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimRight(line, " \t\r")
		nullSpelling := n.Tag == "!!null" && (line == "~" || line == "null" || line == "Null" || line == "NULL" || line == "")
		if line != n.Value && !nullSpelling {
			return 0, errUnsafe
		}
		return start + len(line), nil
	}
	return 0, errUnsafe
}

// renderScalar writes a JSON value as YAML scalar text, keeping the old quoting style where the
// value allows it and quoting whatever YAML would read as another type ("1.0", "yes", "null").
func renderScalar(val any, old *kyaml.Node, src []byte, start int) ([]byte, error) {
	switch v := val.(type) {
	case nil:
		return []byte("null"), nil
	case bool:
		return []byte(strconv.FormatBool(v)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case json.Number:
		return []byte(v.String()), nil
	case string:
		if (old.Style == kyaml.LiteralStyle) && strings.Contains(v, "\n") && !strings.HasPrefix(v, " ") {
			if b, ok := literalBlock(v, src, start); ok {
				return b, nil
			}
		}
		if old.Style == kyaml.SingleQuotedStyle && !strings.ContainsAny(v, "\n\r\t") {
			return []byte("'" + strings.ReplaceAll(v, "'", "''") + "'"), nil
		}
		if old.Style != kyaml.DoubleQuotedStyle && plainSafe(v) {
			return []byte(v), nil
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimRight(b.Bytes(), "\n"), nil
	}
	return nil, errUnsafe
}

// plainSafe reports whether s reads back as the same string when written unquoted as a mapping
// value.
func plainSafe(s string) bool {
	if s == "" || strings.ContainsAny(s, "\n\r\t") || strings.TrimSpace(s) != s {
		return false
	}
	var m map[string]any
	if err := kyaml.Unmarshal([]byte("k: "+s+"\n"), &m); err != nil {
		return false
	}
	got, ok := m["k"].(string)
	if !ok || got != s {
		return false
	}
	var l []any
	if err := kyaml.Unmarshal([]byte("- "+s+"\n"), &l); err != nil || len(l) != 1 || l[0] != s {
		return false
	}
	return true
}

// literalBlock renders a multi-line string as a literal block at the old block's indentation.
func literalBlock(v string, src []byte, start int) ([]byte, bool) {
	_, lineEnd := lineBounds(src, start)
	indent := indentOf(src, start) + "  "
	if lineEnd < len(src) {
		if ind := indentOf(src, lineEnd); len(ind) > len(indentOf(src, start)) {
			indent = ind
		}
	}
	chomp := "-"
	body := v
	switch {
	case strings.HasSuffix(v, "\n\n"):
		chomp = "+"
		body = strings.TrimSuffix(v, "\n")
	case strings.HasSuffix(v, "\n"):
		chomp = ""
		body = strings.TrimSuffix(v, "\n")
	}
	var b strings.Builder
	b.WriteString("|" + chomp)
	for _, l := range strings.Split(body, "\n") {
		b.WriteString("\n")
		if l != "" {
			b.WriteString(indent + l)
		}
	}
	return []byte(b.String()), true
}

// blockEnd finds the end of the block that starts on the line of from and holds everything
// indented at least col-1 spaces: the byte after the last such non-blank line.
func blockEnd(src []byte, from, limit, minIndent int, seqDash bool) int {
	_, end := lineBounds(src[:limit], from)
	for p := end; p < limit; {
		_, e := lineBounds(src[:limit], p)
		line := src[p:e]
		trim := bytes.TrimSpace(line)
		if len(trim) != 0 {
			ind := len(line) - len(bytes.TrimLeft(line, " "))
			if ind < minIndent || (seqDash && ind == minIndent && !bytes.HasPrefix(trim, []byte("-"))) {
				break
			}
			if trim[0] != '#' {
				end = e
			}
		}
		p = e
	}
	return end
}

// keyRank puts identity and merge keys first in the mappings driftplane writes, the way people
// write them (apiVersion, kind, metadata; "- name: web" before the rest of a container).
func keyRank(k string) int {
	for i, first := range append([]string{"apiVersion", "kind", "metadata"}, mergeKeys...) {
		if k == first {
			return i
		}
	}
	return len(mergeKeys) + 3
}

func orderKeys(n *kyaml.Node) {
	if n.Kind == kyaml.MappingNode {
		pairs := make([][2]*kyaml.Node, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, [2]*kyaml.Node{n.Content[i], n.Content[i+1]})
		}
		sort.SliceStable(pairs, func(i, j int) bool { return keyRank(pairs[i][0].Value) < keyRank(pairs[j][0].Value) })
		n.Content = n.Content[:0]
		for _, p := range pairs {
			n.Content = append(n.Content, p[0], p[1])
		}
	}
	for _, c := range n.Content {
		orderKeys(c)
	}
}

// renderBlock encodes v as block YAML with every line indented, in the document's sequence
// indentation style.
func renderBlock(v any, indent string, doc []byte) ([]byte, error) {
	var node kyaml.Node
	if err := node.Encode(v); err != nil {
		return nil, err
	}
	orderKeys(&node)
	var b bytes.Buffer
	enc := kyaml.NewEncoder(&b)
	if kyaml.DeriveSeqIndentStyle(string(doc)) == string(kyaml.WideSequenceStyle) {
		enc.DefaultSeqIndent()
	}
	if err := enc.Encode(&node); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, l := range strings.SplitAfter(b.String(), "\n") {
		if l == "" {
			continue
		}
		out.WriteString(indent + l)
	}
	return out.Bytes(), nil
}

func nestValue(ptr drift.Pointer, val any) (map[string]any, bool) {
	for _, tok := range ptr {
		if _, err := strconv.Atoi(tok); err == nil {
			return nil, false
		}
	}
	out := val
	for i := len(ptr) - 1; i >= 0; i-- {
		out = map[string]any{ptr[i]: out}
	}
	m, _ := out.(map[string]any)
	return m, true
}

// insertMapping adds the missing key chain ptr under the block mapping m.
func insertMapping(f *yamlFile, d *yamlDoc, m *kyaml.Node, ptr drift.Pointer, val any) ([]byte, error) {
	if m.Style&kyaml.FlowStyle != 0 || len(m.Content) == 0 {
		return nil, errUnsafe
	}
	chain, ok := nestValue(ptr, val)
	if !ok {
		return nil, errUnsafe
	}
	first := m.Content[0]
	keyStart, err := d.offset(f.src, first.Line, first.Column)
	if err != nil {
		return nil, errUnsafe
	}
	s, _ := lineBounds(f.src, keyStart)
	indent := string(f.src[s:keyStart])
	if strings.TrimLeft(indent, " ") != "" {
		// "- key: v": the first key shares its line with a dash; its column is still the indent.
		indent = strings.Repeat(" ", first.Column-1)
	}
	lastKey := m.Content[len(m.Content)-2]
	lastStart, err := d.offset(f.src, lastKey.Line, lastKey.Column)
	if err != nil {
		return nil, errUnsafe
	}
	end := blockEnd(f.src, lastStart, d.end, first.Column-1, false)
	text, err := renderBlock(chain, indent, f.src[d.start:d.end])
	if err != nil {
		return nil, err
	}
	if end > 0 && f.src[end-1] != '\n' {
		text = append([]byte("\n"), text...)
	}
	return spliceBytes(f.src, end, end, text), nil
}

// appendSequence adds an element after the last one of the block sequence s.
func appendSequence(f *yamlFile, d *yamlDoc, s *kyaml.Node, val any) ([]byte, error) {
	if s.Style&kyaml.FlowStyle != 0 || len(s.Content) == 0 {
		return nil, errUnsafe
	}
	lastItem := s.Content[len(s.Content)-1]
	itemStart, err := d.offset(f.src, lastItem.Line, lastItem.Column)
	if err != nil {
		return nil, errUnsafe
	}
	dash := bytes.LastIndexByte(f.src[:itemStart], '-')
	ls, _ := lineBounds(f.src, itemStart)
	if dash < ls {
		return nil, errUnsafe
	}
	indent := strings.Repeat(" ", len(string(f.src[ls:dash])))
	end := blockEnd(f.src, dash, d.end, len(indent), true)
	item, err := renderBlock([]any{val}, indent, f.src[d.start:d.end])
	if err != nil {
		return nil, err
	}
	if end > 0 && f.src[end-1] != '\n' {
		item = append([]byte("\n"), item...)
	}
	return spliceBytes(f.src, end, end, item), nil
}

// deleteKey removes key (and its value block) from the block mapping m.
func deleteKey(f *yamlFile, d *yamlDoc, m *kyaml.Node, key *kyaml.Node) ([]byte, error) {
	if m.Style&kyaml.FlowStyle != 0 || len(m.Content) < 4 {
		return nil, errUnsafe
	}
	ks, err := d.offset(f.src, key.Line, key.Column)
	if err != nil {
		return nil, errUnsafe
	}
	ls, _ := lineBounds(f.src, ks)
	if strings.TrimSpace(string(f.src[ls:ks])) != "" {
		return nil, errUnsafe
	}
	end := blockEnd(f.src, ks, d.end, key.Column, false)
	return spliceBytes(f.src, ls, end, nil), nil
}

// yamlReencode rewrites one document through kyaml (comments kept, layout normalized) when the
// change is structural.
func yamlReencode(f *yamlFile, di int, ptr drift.Pointer, val any, del bool) ([]byte, error) {
	d := f.docs[di]
	text := string(f.src[d.start:d.end])
	rn, err := kyaml.Parse(text)
	if err != nil {
		return nil, err
	}
	var vn kyaml.Node
	if !del {
		if err := vn.Encode(val); err != nil {
			return nil, err
		}
		orderKeys(&vn)
	}
	if err := setNode(rn.YNode(), ptr, &vn, del); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := kyaml.NewEncoder(&b)
	if kyaml.DeriveSeqIndentStyle(text) == string(kyaml.WideSequenceStyle) {
		enc.DefaultSeqIndent()
	}
	if err := enc.Encode(rn.Document()); err != nil {
		return nil, err
	}
	return spliceBytes(f.src, d.start, d.end, b.Bytes()), nil
}

func setNode(n *kyaml.Node, ptr drift.Pointer, v *kyaml.Node, del bool) error {
	tok := ptr[0]
	switch n.Kind {
	case kyaml.MappingNode:
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value != tok {
				continue
			}
			if len(ptr) == 1 {
				if del {
					n.Content = append(n.Content[:j], n.Content[j+2:]...)
				} else {
					n.Content[j+1] = v
				}
				return nil
			}
			return setNode(n.Content[j+1], ptr[1:], v, del)
		}
		if del {
			return nil
		}
		child := v
		if len(ptr) > 1 {
			child = &kyaml.Node{Kind: kyaml.MappingNode, Tag: "!!map"}
			if err := setNode(child, ptr[1:], v, del); err != nil {
				return err
			}
		}
		n.Content = append(n.Content, &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!str", Value: tok}, child)
		return nil
	case kyaml.SequenceNode:
		i, err := strconv.Atoi(tok)
		if err != nil || i < 0 || i > len(n.Content) {
			return errUnsafe
		}
		if i == len(n.Content) {
			if len(ptr) > 1 || del {
				return errUnsafe
			}
			n.Content = append(n.Content, v)
			return nil
		}
		if len(ptr) == 1 {
			if del {
				n.Content = append(n.Content[:i], n.Content[i+1:]...)
			} else {
				n.Content[i] = v
			}
			return nil
		}
		return setNode(n.Content[i], ptr[1:], v, del)
	}
	return errUnsafe
}

// resolveKeyed turns the core's "key=value" tokens (an element of a list keyed by its merge key,
// /spec/template/spec/containers/name=app/image) into the element's index in v. Exactly one
// element must match: none or several, and which element the finding names is unknown.
func resolveKeyed(v any, ptr drift.Pointer) (drift.Pointer, bool) {
	out := make(drift.Pointer, len(ptr))
	copy(out, ptr)
	for i, tok := range ptr {
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			if _, err := strconv.Atoi(tok); err == nil {
				n, _ := strconv.Atoi(tok)
				if n < 0 || n >= len(x) {
					// Appending, or a missing element: the callers decide, unless the path goes on
					// to name elements by key inside what does not exist.
					return out, !keyedIn(ptr[i+1:])
				}
				v = x[n]
				continue
			}
			k, val, ok := strings.Cut(tok, "=")
			if !ok || k == "" {
				return nil, false
			}
			idx := -1
			for j, e := range x {
				if m, isMap := e.(map[string]any); isMap {
					if sv, ok := kube.ScalarString(m[k]); ok && sv == val {
						if idx >= 0 {
							return nil, false
						}
						idx = j
					}
				}
			}
			if idx < 0 {
				return nil, false
			}
			out[i] = strconv.Itoa(idx)
			v = x[idx]
		default:
			// What follows does not exist in the file (a new key or element): an index may append,
			// but an element named by its key cannot be found, and must never become a map key.
			return out, !keyedIn(ptr[i:])
		}
	}
	return out, true
}

// keyedIn tells whether any token names a list element by its key.
func keyedIn(ptr drift.Pointer) bool {
	for _, tok := range ptr {
		if _, err := strconv.Atoi(tok); err != nil && strings.Contains(tok, "=") {
			return true
		}
	}
	return false
}
