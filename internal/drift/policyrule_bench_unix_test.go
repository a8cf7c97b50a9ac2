//go:build unix

package drift

import (
	"syscall"
	"time"
)

// benchCPUTime is the CPU time (user and system) the process has used: on a shared machine wall
// time waits for others, CPU time is what the evaluation itself costs.
func benchCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
