package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/scan"
)

// screen is what a terminal shows after out: a carriage return goes back to the start of the
// line, later characters overwrite earlier ones. Trailing blanks and empty last lines dropped.
func screen(out string) []string {
	lines := [][]rune{{}}
	row, col := 0, 0
	for _, r := range out {
		switch r {
		case '\r':
			col = 0
		case '\n':
			row, col = row+1, 0
			if row == len(lines) {
				lines = append(lines, []rune{})
			}
		default:
			for len(lines[row]) <= col {
				lines[row] = append(lines[row], ' ')
			}
			lines[row][col] = r
			col++
		}
	}
	var shown []string
	for _, l := range lines {
		shown = append(shown, strings.TrimRight(string(l), " "))
	}
	for len(shown) > 0 && shown[len(shown)-1] == "" {
		shown = shown[:len(shown)-1]
	}
	return shown
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestStatusLine: the line counts done, running and failed (unknown) units and the elapsed
// time, is redrawn in place, stays below the per-unit lines, and is gone at the end.
func TestStatusLine(t *testing.T) {
	var term bytes.Buffer
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newStatusLine(&term, 10, clk.now)
	last := func() string {
		t.Helper()
		sc := screen(term.String())
		if len(sc) == 0 {
			return ""
		}
		return sc[len(sc)-1]
	}
	s.tick()
	if got, want := last(), "scanning: 0/10 done, 0 running, 0 failed, 0s elapsed"; got != want {
		t.Errorf("first draw %q, want %q", got, want)
	}
	s.Started("a")
	s.Started("b")
	s.Started("c")
	clk.advance(12*time.Second + 300*time.Millisecond)
	s.tick()
	if got, want := last(), "scanning: 0/10 done, 3 running, 0 failed, 12s elapsed"; got != want {
		t.Errorf("after a tick %q, want %q", got, want)
	}
	s.Done(scan.Result{Unit: "a", Status: "drifted"})
	s.Done(scan.Result{Unit: "b", Status: scan.StatusUnknown})
	if _, err := io.WriteString(s, "[2/10] b: unknown (1s)\n"); err != nil {
		t.Fatal(err)
	}
	// Stopped before they started: done and failed, never running.
	s.Done(scan.Result{Unit: "z", Status: scan.StatusUnknown})
	clk.advance(70 * time.Second)
	s.tick()
	sc := screen(term.String())
	if want := []string{"[2/10] b: unknown (1s)", "scanning: 3/10 done, 1 running, 2 failed, 1m22s elapsed"}; strings.Join(sc, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\nwant:\n%s", strings.Join(sc, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(term.String(), "\n"+"scanning") || strings.Count(term.String(), "\n") != 1 {
		t.Errorf("the status line must be redrawn in place, never scrolled:\n%q", term.String())
	}
	// A partial line is not drawn over until it ends.
	_, _ = io.WriteString(s, "partial")
	s.tick()
	if got := last(); got != "partial" {
		t.Errorf("drew over a partial line: %q", got)
	}
	_, _ = io.WriteString(s, " line\n")
	s.stop()
	if sc := screen(term.String()); strings.Join(sc, "\n") != "[2/10] b: unknown (1s)\npartial line" {
		t.Errorf("after stop the status line must be gone:\n%s", strings.Join(sc, "\n"))
	}
	n := term.Len()
	s.tick()
	s.Done(scan.Result{Unit: "c"})
	if term.Len() != n {
		t.Errorf("drawn after stop: %q", term.String()[n:])
	}
	var none *statusLine
	none.stop() // no status line shown: nothing to do

	// On a narrow terminal the line is cut short rather than wrapped (a wrapped line cannot be
	// redrawn in place).
	term.Reset()
	s = newStatusLine(&term, 10, clk.now)
	s.columns = 20
	s.tick()
	s.Started("a")
	if sc := screen(term.String()); len(sc) != 1 || sc[0] != "scanning: 0/10 done" {
		t.Errorf("narrow terminal: %q", sc)
	}
}

// TestStatusLineRedrawsOnItsOwn: between changes the line is redrawn every interval, for the
// elapsed time.
func TestStatusLineRedrawsOnItsOwn(t *testing.T) {
	var mu sync.Mutex
	var term bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return term.Write(p)
	})
	clk := &fakeClock{t: time.Now()}
	s := newStatusLine(w, 1, clk.now)
	s.start(time.Millisecond)
	clk.advance(5 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		out := term.String()
		mu.Unlock()
		if strings.Contains(out, "5s elapsed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not redrawn: %q", out)
		}
		time.Sleep(time.Millisecond)
	}
	s.stop()
	mu.Lock()
	defer mu.Unlock()
	if sc := screen(term.String()); len(sc) != 0 {
		t.Errorf("after stop: %q", sc)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestScanProgressOnlyForPeople: `driftplane scan` shows the status line on a terminal with
// the text (or markdown) format, and prints nothing extra for JSON, SARIF, in CI, with --quiet,
// or when stderr is not a terminal.
func TestScanProgressOnlyForPeople(t *testing.T) {
	t.Setenv("FAKE_PLAN", cleanPlan(t))
	t.Setenv("TERM", "xterm")
	registry, tofu := oneUnitRegistry(t), fakeTofu(t)
	for _, c := range []struct {
		name     string
		terminal bool
		ci       string
		args     []string
		shown    bool
	}{
		{"text on a terminal", true, "", nil, true},
		{"markdown on a terminal", true, "", []string{"--format", "markdown"}, true},
		{"CI=false", true, "false", nil, true},
		{"json", true, "", []string{"--format", "json"}, false},
		{"sarif", true, "", []string{"--format", "sarif"}, false},
		{"CI", true, "true", nil, false},
		{"quiet", true, "", []string{"--quiet"}, false},
		{"quiet from the environment", true, "", []string{"DRIFTPLANE_QUIET=true"}, false},
		{"not a terminal", false, "", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			con := realConsole()
			con.redrawEvery = time.Millisecond
			con.isTerminal = func(io.Writer) bool { return c.terminal }
			t.Setenv("CI", c.ci)
			args := []string{"scan", "--registry", registry, "--tofu", tofu}
			for _, a := range c.args {
				if k, v, ok := strings.Cut(a, "="); ok {
					t.Setenv(k, v)
				} else {
					args = append(args, a)
				}
			}
			var stdout, stderr bytes.Buffer
			if code := runWith(con, args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr.String())
			}
			if strings.Contains(stdout.String(), "scanning:") || strings.Contains(stdout.String(), "\r") {
				t.Errorf("progress on stdout:\n%q", stdout.String())
			}
			shown := strings.Contains(stderr.String(), "scanning: 1/1 done, 0 running, 0 failed")
			if shown != c.shown || (!c.shown && strings.Contains(stderr.String(), "\r")) {
				t.Errorf("status line shown %v, want %v:\n%q", shown, c.shown, stderr.String())
			}
			// What stays on screen is what a run without the status line prints.
			sc := screen(stderr.String())
			if len(sc) != 2 || !strings.HasPrefix(sc[0], "driftplane scan: 1 unit(s)") || !strings.HasPrefix(sc[1], "[1/1] app: clean") {
				t.Errorf("screen:\n%s", strings.Join(sc, "\n"))
			}
		})
	}
}
