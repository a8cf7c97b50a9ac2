package drift

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// MaxObjectiveWindow bounds a budget objective's window: the ledger is read back over it at
// every evaluation.
const MaxObjectiveWindow = 90 * 24 * time.Hour

// StaleAfter is how long a unit on schedule may go without a successful evaluation before it
// is stale: two of its longest scheduled intervals, so one missed run is tolerated and a second
// is not. An empty schedule has no bound (0).
func StaleAfter(schedule string) (time.Duration, error) {
	schedule = strings.TrimSpace(schedule)
	if schedule == "" {
		return 0, nil
	}
	every, err := interval(schedule)
	if err != nil {
		return 0, err
	}
	return 2 * every, nil
}

// interval is the longest gap between two runs of schedule.
func interval(schedule string) (time.Duration, error) {
	if d, err := time.ParseDuration(strings.TrimPrefix(schedule, "@every ")); err == nil {
		if d < time.Minute {
			return 0, fmt.Errorf("schedule %q: runs more often than once a minute", schedule)
		}
		return d, nil
	}
	sched, err := cron.ParseStandard(schedule)
	if err != nil {
		return 0, fmt.Errorf("schedule %q is neither a Go duration (1h), @every 1h, @hourly/@daily/@weekly/@monthly nor a five-field cron expression: %w", schedule, err)
	}
	// The longest gap over a year of runs from a fixed instant, so the answer does not depend
	// on when it is asked; a year covers every calendar pattern cron can express but leap days.
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(1, 0, 0)
	prev := sched.Next(start)
	if prev.IsZero() {
		return 0, fmt.Errorf("schedule %q never runs", schedule)
	}
	var longest time.Duration
	for i := 0; i < 20000 && prev.Before(end); i++ {
		next := sched.Next(prev)
		if next.IsZero() {
			break
		}
		longest = max(longest, next.Sub(prev))
		prev = next
	}
	if longest == 0 {
		return 0, fmt.Errorf("schedule %q runs at most once a year", schedule)
	}
	return longest, nil
}
