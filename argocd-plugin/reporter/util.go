package reporter

import (
	"bytes"
	"encoding/json"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// numbersToInt64 makes JSON numbers what unstructured objects hold: int64 where integral.
func numbersToInt64(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToInt64(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = numbersToInt64(e)
		}
		return x
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	}
	return v
}
