// Package procs runs the real programs an integration test needs (etcd, kube-apiserver, Argo CD,
// redis, git daemon, ...) and waits for them: a Group starts named programs with their output in
// per-program log files, stops them when the test ends (interrupt, then kill) and prints the end of
// each log when the test failed; WaitFor, WaitTCP and WaitFile poll for readiness; FreePort and
// WriteFile prepare their ports and files. It is test-only: no product package may import it.
package procs

import (
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DefaultGrace is how long a Group waits after the interrupt before it kills a program.
const DefaultGrace = 10 * time.Second

// DefaultTailLines is how many lines of each log a Group prints when the test failed.
const DefaultTailLines = 30

// Group runs background programs for one test. Set Grace and TailLines before the first Start.
type Group struct {
	t   testing.TB
	dir string
	// Grace is how long a program has to exit after os.Interrupt before it is killed; zero kills
	// at once (for programs that trap the interrupt and keep running).
	Grace time.Duration
	// TailLines is how many lines of each program's log are printed when the test failed; zero
	// prints none.
	TailLines int
}

// New is a Group writing its logs under dir, which it creates.
func New(t testing.TB, dir string) *Group {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Group{t: t, dir: dir, Grace: DefaultGrace, TailLines: DefaultTailLines}
}

// Dir is where the Group writes its logs.
func (g *Group) Dir() string { return g.dir }

// LogPath is where the program started under name writes its output.
func (g *Group) LogPath(name string) string { return filepath.Join(g.dir, name+".log") }

// Tail is the last n lines of the log of the program started under name.
func (g *Group) Tail(name string, n int) string { return Tail(g.LogPath(name), n) }

// Proc is a program a Group started.
type Proc struct {
	Name   string
	Cmd    *exec.Cmd
	exited chan struct{}
}

// Exited is closed once the program has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Start runs bin with args under name, its environment this process's plus env (NAME=VALUE), its
// stdout and stderr in LogPath(name). The program is stopped when the test ends.
func (g *Group) Start(name, bin string, env []string, args ...string) *Proc {
	g.t.Helper()
	logPath := g.LogPath(name)
	logFile, err := os.Create(logPath)
	if err != nil {
		g.t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		g.t.Fatalf("starting %s: %v", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	grace, tailLines := g.Grace, g.TailLines
	g.t.Cleanup(func() {
		if grace > 0 {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-p.exited:
			case <-time.After(grace):
			}
		}
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		_ = logFile.Close()
		if g.t.Failed() && tailLines > 0 {
			g.t.Logf("--- %s log tail:\n%s", name, Tail(logPath, tailLines))
		}
	})
	return p
}

// Tail is the last n lines of the file at path (empty when it cannot be read).
func Tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// PollInterval is how often WaitFor asks again.
const PollInterval = 500 * time.Millisecond

// WaitFor polls cond until it holds, failing the test after timeout with what it waited for and
// cond's last description of where things stand.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() (ok bool, last string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
		time.Sleep(PollInterval)
	}
	t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
}

// WaitTCP waits up to 30s for something to accept connections at addr (host:port).
func WaitTCP(t testing.TB, addr string) {
	t.Helper()
	WaitFor(t, 30*time.Second, addr, func() (bool, string) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, err.Error()
		}
		_ = conn.Close()
		return true, ""
	})
}

// WaitFile waits up to 30s for path to exist.
func WaitFile(t testing.TB, path string) {
	t.Helper()
	WaitFor(t, 30*time.Second, path, func() (bool, string) {
		_, err := os.Stat(path)
		return err == nil, fmt.Sprint(err)
	})
}

// FreePort is a TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts.
// It is drawn at random below Linux's ephemeral range (32768 and up, where the kernel picks the
// local ports of outgoing connections and of ":0" listeners), so the many clients of parallel test
// packages cannot take it between this check and the server binding it.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 200 {
		port := 20000 + mrand.IntN(12000) //nolint:gosec // a test port, not a secret
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		_ = l.Close()
		return port
	}
	t.Fatal("no free TCP port in 20000-31999")
	return 0
}

// WriteFile writes data to path (mode 0644), creating its directories.
func WriteFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WaitHTTP polls url until it answers 200 OK. It returns false when p exits first (a port taken
// since it was chosen: the caller starts again on another) and fails the test after timeout,
// naming the last answer.
func (p *Proc) WaitHTTP(t testing.TB, url string, timeout time.Duration) bool {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		select {
		case <-p.Exited():
			return false
		default:
		}
		resp, err := hc.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready after %s; last: %s", url, timeout, last)
	return false
}
