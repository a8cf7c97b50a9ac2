package kube

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// SplitDocuments splits a YAML stream into documents as utilyaml.YAMLReader does (DecodeManifests
// reads streams with it), so each can be decoded apart (DocumentDecoder) and a document decoded
// unchanged can be passed on as it was written. The reader copies every line; for a stream whose
// lines all end in "\n" and hold no "\r" (helm's output), the documents here are the stream's own
// bytes (capped, so appending to one never overwrites the next). Any other stream, and any
// separator the reader refuses, goes through the reader itself, so the documents and the errors
// are the reader's. FuzzSplitDocuments holds the two to the same result.
func SplitDocuments(data []byte) ([][]byte, error) {
	if len(data) > 0 && data[len(data)-1] == '\n' && bytes.IndexByte(data, '\r') < 0 {
		if docs, ok := splitLines(data); ok {
			return docs, nil
		}
	}
	return readerSplit(data)
}

// readerSplit is utilyaml.YAMLReader's split: what SplitDocuments answers for any stream, and the
// reference its tests hold the fast path to.
func readerSplit(data []byte) ([][]byte, error) {
	var docs [][]byte
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

// splitLines is YAMLReader.Read on a stream of "\n"-terminated lines: a line starting "---"
// ends the document before it, or when there is none opens the next one (the reader keeps it),
// and must hold nothing after the dashes but a comment (ok false, for the reader's error).
func splitLines(data []byte) ([][]byte, bool) {
	var docs [][]byte
	start := -1 // where the document being read starts; -1 while there is none
	for pos := 0; pos < len(data); {
		end := pos + bytes.IndexByte(data[pos:], '\n') + 1
		line := data[pos:end]
		if bytes.HasPrefix(line, []byte("---")) {
			if t := bytes.TrimSpace(line[3:]); len(t) > 0 && t[0] != '#' {
				return nil, false
			}
			if start >= 0 {
				docs = append(docs, data[start:pos:pos])
				start = -1
				pos = end
				continue
			}
		}
		if start < 0 {
			start = pos
		}
		pos = end
	}
	if start >= 0 {
		docs = append(docs, data[start:len(data):len(data)])
	}
	return docs, true
}
