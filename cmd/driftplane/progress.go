package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/driftplane/terraform-provider-drift/internal/scan"
)

// console is what scan needs of the terminal it may draw on; tests pass their own.
type console struct {
	isTerminal func(io.Writer) bool
	// width is the terminal's width in columns (0: unknown), so the line never wraps.
	width       func(io.Writer) int
	now         func() time.Time
	redrawEvery time.Duration
}

// realConsole is the process's terminal and clock.
func realConsole() console {
	return console{
		isTerminal: func(w io.Writer) bool {
			f, ok := w.(*os.File)
			return ok && term.IsTerminal(int(f.Fd())) //nolint:gosec // a file descriptor fits in an int
		},
		width: func(w io.Writer) int {
			if f, ok := w.(*os.File); ok {
				if width, _, err := term.GetSize(int(f.Fd())); err == nil { //nolint:gosec // a file descriptor fits in an int
					return width
				}
			}
			return 0
		},
		now:         time.Now,
		redrawEvery: time.Second,
	}
}

// showProgress says whether `driftplane scan` shows its status line: only for a person
// watching — stderr a terminal (not TERM=dumb), a human format (text or markdown), not in CI
// ($CI set, as every CI service sets it) and not --quiet. JSON and SARIF runs are for programs.
func showProgress(con console, stderr io.Writer, format string, quiet bool) bool {
	switch {
	case quiet, format != "text" && format != "markdown":
		return false
	case os.Getenv("CI") != "" && os.Getenv("CI") != "false" && os.Getenv("CI") != "0":
		return false
	case os.Getenv("TERM") == "dumb":
		return false
	}
	return con.isTerminal(stderr)
}

// statusLine is the line `driftplane scan` keeps at the bottom of a terminal,
//
//	scanning: 3/10 done, 2 running, 1 failed, 12s elapsed
//
// redrawn in place (a carriage return) on every change and every second, and cleared at the
// end. It is the scan's Observer (failed: drift unknown) and its Progress writer: the per-unit
// lines written through it appear above it.
type statusLine struct {
	mu       sync.Mutex
	w        io.Writer
	now      func() time.Time
	began    time.Time
	total    int
	done     int
	failed   int
	running  map[string]bool
	columns  int    // the terminal's width; 0 when unknown
	width    int    // of the status line on screen; 0 when none is
	shown    string // the status line on screen
	midLine  bool   // the last write left a partial line: drawing now would garble it
	finished bool

	quit chan struct{}
	wg   sync.WaitGroup
}

var _ scan.Observer = (*statusLine)(nil)

func newStatusLine(w io.Writer, total int, now func() time.Time) *statusLine {
	return &statusLine{w: w, now: now, began: now(), total: total, running: map[string]bool{}}
}

// start draws the line and redraws it every interval (for the elapsed time) until stop.
func (s *statusLine) start(interval time.Duration) {
	s.mu.Lock()
	s.draw()
	s.mu.Unlock()
	s.quit = make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
				s.tick()
			}
		}
	}()
}

// stop ends the redraws and clears the line. A nil statusLine (none shown) does nothing.
func (s *statusLine) stop() {
	if s == nil {
		return
	}
	if s.quit != nil {
		close(s.quit)
		s.wg.Wait()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	s.finished = true
}

func (s *statusLine) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draw()
}

// Started is scan.Observer's: a unit's scan began.
func (s *statusLine) Started(unit string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[unit] = true
	s.draw()
}

// Done is scan.Observer's: a unit's scan ended (or never started, the scan being stopped).
func (s *statusLine) Done(r scan.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running, r.Unit)
	s.done++
	if r.Status == scan.StatusUnknown {
		s.failed++
	}
	s.draw()
}

// Write puts p above the status line.
func (s *statusLine) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	n, err := s.w.Write(p)
	if len(p) > 0 {
		s.midLine = p[len(p)-1] != '\n'
	}
	s.draw()
	return n, err
}

func (s *statusLine) text() string {
	return fmt.Sprintf("scanning: %d/%d done, %d running, %d failed, %s elapsed",
		s.done, s.total, len(s.running), s.failed, s.now().Sub(s.began).Truncate(time.Second))
}

// draw (s.mu held) writes the line over the one on screen, padding out what is left of it.
func (s *statusLine) draw() {
	if s.midLine || s.finished {
		return
	}
	line := s.text()
	if s.columns > 1 && len(line) > s.columns-1 {
		line = line[:s.columns-1] // a wrapped line could not be redrawn in place
	}
	if s.width > 0 && line == s.shown {
		return // already on screen
	}
	pad := max(s.width-len(line), 0)
	_, _ = io.WriteString(s.w, "\r"+line+strings.Repeat(" ", pad))
	s.width, s.shown = len(line), line
}

// clear (s.mu held) blanks the line on screen and leaves the cursor at its start.
func (s *statusLine) clear() {
	if s.width == 0 {
		return
	}
	_, _ = io.WriteString(s.w, "\r"+strings.Repeat(" ", s.width)+"\r")
	s.width = 0
}
