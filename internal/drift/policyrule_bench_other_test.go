//go:build !unix

package drift

import "time"

// benchCPUTime is unknown here; the benchmark then reports 0 CPU time.
func benchCPUTime() time.Duration { return 0 }
